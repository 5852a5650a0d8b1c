/**
 * Reads the provenance of a raw object's outputs with HeadObject: the rejected output (always written,
 * whatever the format) and, with OUTPUT_FORMAT=jsonl, the processed one. 1 or 2 requests per object.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { readProvenance } from '../../../worker/common/provenance.ts';
import { isObjectMissing } from '../../../worker/errors.ts';
import type { ObjectLocation, OutputLocation } from '../../../worker/output/output-keys.ts';
import { NO_OWNERS, ownerOf, type BucketOwners } from '../object-sweep/bucket-owners.ts';
import { HEAD_CONCURRENCY } from '../object-sweep/processed-output.ts';
import { NO_OUTPUT_PREFIX, sourceOutputKeys, type OutputPrefixOf } from '../object-sweep/source-output-keys.ts';
import type { Decide, Verdict } from '../object-sweep/sweep.ts';
import type { SweepObject } from '../object-sweep/sweep-object.ts';
import { classify, type OutputState } from './classify.ts';

/** Outcome of an object whose key the worker refuses (its output key would collide or be too long): never sent. */
export const UNPROCESSABLE = 'unprocessable';

async function outputState(s3: S3Client, output: ObjectLocation, owners: BucketOwners): Promise<OutputState> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: output.key, ...ownerOf(owners, output.bucket) }));
    return { exists: true, provenance: readProvenance(head.Metadata) };
  } catch (error) {
    if (isObjectMissing(error)) return { exists: false };
    throw error;
  }
}

/** The outputs reconcile checks for `key` (its source's output prefix ''), or undefined when the worker would refuse the key. */
export function expectedOutputs(location: OutputLocation, key: string, outputPrefix = ''): ObjectLocation[] | undefined {
  try {
    const { processed, rejected } = sourceOutputKeys(location, outputPrefix, key);
    return (location.format ?? 'jsonl') === 'jsonl' ? [rejected, processed] : [rejected];
  } catch {
    return undefined;
  }
}

/** Where a raw bucket's objects have their outputs: the worker's output settings, each key's output prefix, the owners of the buckets. */
export interface OutputLookup {
  readonly location: OutputLocation;
  readonly outputPrefixOf?: OutputPrefixOf;
  readonly owners?: BucketOwners;
}

async function verdictFor(s3: S3Client, rawBucket: string, lookup: OutputLookup, object: SweepObject): Promise<Verdict> {
  const outputPrefix = (lookup.outputPrefixOf ?? NO_OUTPUT_PREFIX)(object.key);
  const outputs = outputPrefix === undefined ? undefined : expectedOutputs(lookup.location, object.key, outputPrefix);
  if (outputs === undefined) return { send: false, outcome: UNPROCESSABLE };
  const states = await Promise.all(outputs.map((output) => outputState(s3, output, lookup.owners ?? NO_OWNERS)));
  const classification = classify(rawBucket, object, states);
  return { send: classification !== 'current', outcome: classification };
}

export function reconcileDecide(s3: S3Client, rawBucket: string, lookup: OutputLookup): Decide {
  const limit = pLimit(HEAD_CONCURRENCY);
  return (objects) => Promise.all(objects.map((object) => limit(() => verdictFor(s3, rawBucket, lookup, object))));
}
