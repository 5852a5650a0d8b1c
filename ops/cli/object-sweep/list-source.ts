/**
 * The raw bucket listed with ListObjectsV2, one page at a time (memory does not grow with the bucket),
 * in S3's key order, so that "after this key" resumes exactly.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { fromListing } from './sweep-object.ts';
import type { SourcePage } from './sweep.ts';
import { expectedOwnerParameter } from '../../../worker/sources.ts';

export interface ListOptions {
  readonly bucket: string;
  readonly prefix: string;
  /** ListObjectsV2 MaxKeys (1..1000). */
  readonly pageSize: number;
  /** List only keys after this one (ListObjectsV2 StartAfter); '' is from the start. */
  readonly startAfter: string | undefined;
  /** The account that must own the bucket (ExpectedBucketOwner). */
  readonly expectedBucketOwner?: string | undefined;
}

export async function* listedPages(s3: S3Client, options: ListOptions): AsyncGenerator<SourcePage> {
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: options.bucket,
        Prefix: options.prefix,
        MaxKeys: options.pageSize,
        ...expectedOwnerParameter(options.expectedBucketOwner),
        ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
        ...(continuationToken === undefined && options.startAfter !== undefined && options.startAfter !== '' ? { StartAfter: options.startAfter } : {}),
      }),
    );
    yield { objects: (page.Contents ?? []).map(fromListing) };
    continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
}
