/**
 * Which of two uploads of one key is the later: an output's provenance against the file being processed.
 * S3's event sequencers order them exactly when both files came from S3 events ("right pad the shorter
 * value with zeros, then compare lexicographically", notification-content-structure); otherwise the raw
 * objects' Last-Modified, which S3 serves in whole seconds, so two uploads within one second stay unordered.
 * Pure.
 */
import type { Provenance, ProvenanceSource } from './provenance.ts';

/** Negative when `a` is the earlier event of the key, positive when the later, 0 when equal. */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = a.toUpperCase().padEnd(width, '0');
  const right = b.toUpperCase().padEnd(width, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Whether the output whose provenance is `existing` was made from a later upload of the key than `ours`. */
export function isFromNewerUpload(existing: Provenance, ours: ProvenanceSource): boolean {
  const sameUpload = existing.sourceETag === ours.eTag.replace(/"/g, '') && existing.sourceVersionId === ours.versionId;
  if (sameUpload) return false;
  if (existing.sourceSequencer !== undefined && ours.sequencer !== undefined) {
    return compareSequencers(existing.sourceSequencer, ours.sequencer) > 0;
  }
  const theirs = Date.parse(existing.sourceLastModified ?? '');
  const mine = Date.parse(ours.lastModified ?? '');
  return Number.isFinite(theirs) && Number.isFinite(mine) && theirs > mine;
}
