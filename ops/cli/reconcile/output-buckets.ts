/**
 * Refuses output buckets that do not exist before anything is classified: every object would read as
 * `missing` and be re-sent (a reprocessing storm). HeadBucket is s3:ListBucket, which the scheduled
 * reconcile's role has on the output bucket.
 */
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { isBucketMissing } from '../../../worker/errors.ts';
import { NO_OWNERS, ownerOf, type BucketOwners } from '../object-sweep/bucket-owners.ts';

export interface CheckedBucket {
  readonly bucket: string;
  /** Where the bucket was named, for the error: e.g. `--processed-bucket or PROCESSED_BUCKET`. */
  readonly setting: string;
}

function isNotFound(error: unknown): boolean {
  const { name, $metadata } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return isBucketMissing(error) || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

/** Throws an error naming the first bucket that does not exist and its setting; any other failure as it came. */
export async function requireBucketsExist(s3: S3Client, buckets: readonly CheckedBucket[], owners: BucketOwners = NO_OWNERS): Promise<void> {
  for (const { bucket, setting } of buckets) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket, ...ownerOf(owners, bucket) }));
    } catch (error) {
      if (isNotFound(error)) throw new Error(`the output bucket ${bucket} (${setting}) does not exist; nothing was checked or sent`, { cause: error });
      throw error;
    }
  }
}
