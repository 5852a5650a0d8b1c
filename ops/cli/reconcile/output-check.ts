/**
 * Reads the provenance of a raw object's outputs with HeadObject: the rejected output (always written,
 * whatever the format) and, with OUTPUT_FORMAT=jsonl, the processed one. 1 or 2 requests per object.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { readProvenance } from '../../../worker/common/provenance.ts';
import { isObjectMissing } from '../../../worker/errors.ts';
import { outputKeys, type ObjectLocation, type OutputLocation } from '../../../worker/output/output-keys.ts';
import { HEAD_CONCURRENCY } from '../object-sweep/processed-output.ts';
import type { Decide, Verdict } from '../object-sweep/sweep.ts';
import type { SweepObject } from '../object-sweep/sweep-object.ts';
import { classify, type OutputState } from './classify.ts';

/** Outcome of an object whose key the worker refuses (its output key would collide or be too long): never sent. */
export const UNPROCESSABLE = 'unprocessable';

async function outputState(s3: S3Client, output: ObjectLocation): Promise<OutputState> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: output.key }));
    return { exists: true, provenance: readProvenance(head.Metadata) };
  } catch (error) {
    if (isObjectMissing(error)) return { exists: false };
    throw error;
  }
}

/** The outputs reconcile checks for `key`, or undefined when the worker would refuse the key. */
export function expectedOutputs(location: OutputLocation, key: string): ObjectLocation[] | undefined {
  try {
    const { processed, rejected } = outputKeys(location, key);
    return (location.format ?? 'jsonl') === 'jsonl' ? [rejected, processed] : [rejected];
  } catch {
    return undefined;
  }
}

async function verdictFor(s3: S3Client, rawBucket: string, location: OutputLocation, object: SweepObject): Promise<Verdict> {
  const outputs = expectedOutputs(location, object.key);
  if (outputs === undefined) return { send: false, outcome: UNPROCESSABLE };
  const states = await Promise.all(outputs.map((output) => outputState(s3, output)));
  const classification = classify(rawBucket, object, states);
  return { send: classification !== 'current', outcome: classification };
}

export function reconcileDecide(s3: S3Client, rawBucket: string, location: OutputLocation): Decide {
  const limit = pLimit(HEAD_CONCURRENCY);
  return (objects) => Promise.all(objects.map((object) => limit(() => verdictFor(s3, rawBucket, location, object))));
}
