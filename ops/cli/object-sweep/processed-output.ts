/** `backfill --skip-processed`: an object counts as done when its processed output exists (HeadObject). */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { isObjectMissing } from '../../../worker/errors.ts';
import { outputKeys, type OutputLocation } from '../../../worker/output/output-keys.ts';
import type { SweepObject } from './sweep-object.ts';

export const HEAD_CONCURRENCY = 16;

/** Whether HeadObject finds the object: false when it is missing, any other error thrown. */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isObjectMissing(error)) return false;
    throw error;
  }
}

async function hasProcessedOutput(s3: S3Client, location: OutputLocation, key: string): Promise<boolean> {
  let processed;
  try {
    ({ processed } = outputKeys(location, key));
  } catch {
    // The worker refuses such a key (output_key_collision): it can have no output.
    return false;
  }
  return objectExists(s3, processed.bucket, processed.key);
}

/** For each object, whether its processed output exists. */
export function processedOutputsExist(s3: S3Client, location: OutputLocation, objects: readonly SweepObject[]): Promise<boolean[]> {
  const limit = pLimit(HEAD_CONCURRENCY);
  return Promise.all(objects.map((object) => limit(() => hasProcessedOutput(s3, location, object.key))));
}
