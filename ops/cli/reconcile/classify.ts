/**
 * Whether a raw object's outputs are current, from their provenance (worker/common/provenance.ts). Pure.
 *
 * - missing: an output is absent (the rejected one, always written; with jsonl the processed one too);
 * - stale: no output was made from this version of the object, and one was made from another
 *   (another ETag, or another version id when the listing knows it);
 * - incomplete: outputs exist but their counts are absent, or they carry no provenance at all
 *   (written before provenance, or by something else), or only some of them carry this version;
 * - current: every output carries this version and the file's counts.
 */
import { sourceKeySha256, type Provenance } from '../../../worker/common/provenance.ts';
import type { SweepObject } from '../object-sweep/sweep-object.ts';

export const RECONCILE_REASONS = ['missing', 'stale', 'incomplete'] as const;
export type ReconcileReason = (typeof RECONCILE_REASONS)[number];
export type Classification = ReconcileReason | 'current';

/** One expected output: absent (undefined), or present with the provenance it carries (undefined when none). */
export type OutputState = { readonly exists: false } | { readonly exists: true; readonly provenance: Provenance | undefined };

type Match = 'this-version' | 'other-version' | 'none';

function matchOf(provenance: Provenance | undefined, bucket: string, object: SweepObject): Match {
  if (provenance === undefined) return 'none';
  const sameSource =
    provenance.sourceBucket === bucket &&
    provenance.sourceKeySha256 === sourceKeySha256(object.key) &&
    (provenance.sourceKey === undefined || provenance.sourceKey === object.key);
  if (!sameSource) return 'other-version';
  if (object.eTag !== undefined && provenance.sourceETag !== object.eTag) return 'other-version';
  if (object.versionId !== undefined && provenance.sourceVersionId !== object.versionId) return 'other-version';
  return 'this-version';
}

export function classify(bucket: string, object: SweepObject, outputs: readonly OutputState[]): Classification {
  const present: Array<Provenance | undefined> = [];
  for (const output of outputs) {
    if (!output.exists) return 'missing';
    present.push(output.provenance);
  }
  const matches = present.map((provenance) => matchOf(provenance, bucket, object));
  if (matches.every((match) => match === 'this-version')) return present.every((provenance) => provenance?.lines !== undefined) ? 'current' : 'incomplete';
  if (matches.some((match) => match === 'other-version') && !matches.includes('this-version')) return 'stale';
  return 'incomplete';
}
