/**
 * Whether a raw object's outputs are current, from their provenance (worker/common/provenance.ts). Pure.
 *
 * - missing: an output is absent (the rejected one, always written; with jsonl the processed one too);
 * - stale: no output was made from this version of the object, and one was made from another
 *   (another ETag, or another version id when the listing knows it);
 * - incomplete: outputs exist but their counts are absent, or they carry no provenance at all
 *   (written before provenance, or by something else), or only some of them carry this version;
 * - current: every output carries this version and the file's counts, or a later upload's (that one was
 *   processed and then deleted or moved, and this older one became the key's current object again: the
 *   worker keeps the newer outputs, see worker/common/newer-upload.ts).
 */
import { isFromNewerUpload } from '../../../worker/common/newer-upload.ts';
import { sourceKeySha256, type Provenance } from '../../../worker/common/provenance.ts';
import type { SweepObject } from '../object-sweep/sweep-object.ts';

export const RECONCILE_REASONS = ['missing', 'stale', 'incomplete'] as const;
export type ReconcileReason = (typeof RECONCILE_REASONS)[number];
export type Classification = ReconcileReason | 'current';

/** One expected output: absent (undefined), or present with the provenance it carries (undefined when none). */
export type OutputState = { readonly exists: false } | { readonly exists: true; readonly provenance: Provenance | undefined };

type Match = 'this-version' | 'later-upload' | 'other-version' | 'none';

function matchOf(provenance: Provenance | undefined, bucket: string, object: SweepObject): Match {
  if (provenance === undefined) return 'none';
  const sameSource =
    provenance.sourceBucket === bucket &&
    provenance.sourceKeySha256 === sourceKeySha256(object.key) &&
    (provenance.sourceKey === undefined || provenance.sourceKey === object.key);
  if (!sameSource) return 'other-version';
  const sameETag = object.eTag === undefined || provenance.sourceETag === object.eTag;
  const sameVersion = object.versionId === undefined || provenance.sourceVersionId === object.versionId;
  if (sameETag && sameVersion) return 'this-version';
  const listed = { bucket, key: object.key, eTag: object.eTag ?? '', versionId: object.versionId, lastModified: object.lastModified?.toISOString() };
  return isFromNewerUpload(provenance, listed) ? 'later-upload' : 'other-version';
}

export function classify(bucket: string, object: SweepObject, outputs: readonly OutputState[]): Classification {
  const present: Array<Provenance | undefined> = [];
  for (const output of outputs) {
    if (!output.exists) return 'missing';
    present.push(output.provenance);
  }
  const matches = present.map((provenance) => matchOf(provenance, bucket, object));
  if (matches.every((match) => match === 'this-version' || match === 'later-upload')) {
    return present.every((provenance) => provenance?.lines !== undefined) ? 'current' : 'incomplete';
  }
  if (matches.some((match) => match === 'other-version') && !matches.includes('this-version')) return 'stale';
  return 'incomplete';
}
