/** `backfill --skip-processed`: an object counts as done when its processed output exists (HeadObject). */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { isObjectMissing } from '../../../worker/errors.ts';
import type { OutputLocation } from '../../../worker/output/output-keys.ts';
import { NO_OWNERS, ownerOf, type BucketOwners } from './bucket-owners.ts';
import { NO_OUTPUT_PREFIX, sourceOutputKeys, type OutputPrefixOf } from './source-output-keys.ts';
import type { SweepObject } from './sweep-object.ts';

export const HEAD_CONCURRENCY = 16;

/** Whether HeadObject finds the object: false when it is missing, any other error thrown. */
export async function objectExists(s3: S3Client, bucket: string, key: string, owners: BucketOwners = NO_OWNERS): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...ownerOf(owners, bucket) }));
    return true;
  } catch (error) {
    if (isObjectMissing(error)) return false;
    throw error;
  }
}

/** Where the processed outputs are looked for: the worker's output settings, each key's output prefix, the owners of the buckets. */
export interface ProcessedLookup {
  readonly location: OutputLocation;
  readonly outputPrefixOf?: OutputPrefixOf;
  readonly owners?: BucketOwners;
}

async function hasProcessedOutput(s3: S3Client, lookup: ProcessedLookup, key: string): Promise<boolean> {
  const outputPrefix = (lookup.outputPrefixOf ?? NO_OUTPUT_PREFIX)(key);
  if (outputPrefix === undefined) return false;
  let processed;
  try {
    ({ processed } = sourceOutputKeys(lookup.location, outputPrefix, key));
  } catch {
    // The worker refuses such a key (output_key_collision): it can have no output.
    return false;
  }
  return objectExists(s3, processed.bucket, processed.key, lookup.owners);
}

/** For each object, whether its processed output exists. */
export function processedOutputsExist(s3: S3Client, lookup: ProcessedLookup, objects: readonly SweepObject[]): Promise<boolean[]> {
  const limit = pLimit(HEAD_CONCURRENCY);
  return Promise.all(objects.map((object) => limit(() => hasProcessedOutput(s3, lookup, object.key))));
}
