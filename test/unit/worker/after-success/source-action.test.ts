import { describe, expect, it } from '@jest/globals';
import {
  archiveLocationOf,
  isArchiveCopy,
  planSourceAction,
  prefixesOverlap,
  type SourceActionSettings,
  type SourceAfterSuccess,
} from '../../../../worker/after-success/source-action.ts';
import { processedTags } from '../../../../worker/after-success/source-tags.ts';

const COUNTS = { processed: 3, filtered: 1, rejected: 2 };
const VERSIONED = { bucket: 'raw', key: 'site/a.jsonl', versionId: 'v1', eTag: 'e1' };
const UNVERSIONED = { bucket: 'raw', key: 'site/a.jsonl', eTag: 'e1' };

const settings = (mode: SourceAfterSuccess, bucket?: string): SourceActionSettings => ({ mode, archive: { bucket, prefix: 'archive/' } });

/** The calls in order, before and after the completion event. */
function calls(mode: SourceAfterSuccess, source: typeof VERSIONED | typeof UNVERSIONED) {
  const plan = planSourceAction(settings(mode), source, COUNTS);
  return { action: plan.action, before: plan.beforeEvent.map((step) => step.op), after: plan.afterEvent.map((step) => step.op) };
}

describe('planSourceAction: the S3 calls each mode makes', () => {
  it('keep makes none', () => {
    expect(calls('keep', VERSIONED)).toStrictEqual({ action: undefined, before: [], after: [] });
  });

  it('tag reads the tags of exactly that version and writes them back with ours, before the event', () => {
    const plan = planSourceAction(settings('tag'), VERSIONED, COUNTS);

    expect(plan.beforeEvent).toStrictEqual([
      { op: 'readTags', source: VERSIONED },
      { op: 'writeTags', source: VERSIONED, tags: processedTags(COUNTS) },
    ]);
    expect(plan.afterEvent).toStrictEqual([]);
  });

  it('tag first checks that an unversioned key still holds the object processed', () => {
    expect(calls('tag', UNVERSIONED)).toStrictEqual({ action: 'tag', before: ['checkCurrent', 'readTags', 'writeTags'], after: [] });
  });

  it('delete deletes exactly the version processed, after the event', () => {
    expect(planSourceAction(settings('delete'), VERSIONED, COUNTS)).toStrictEqual({
      action: 'delete',
      beforeEvent: [],
      afterEvent: [{ op: 'delete', source: VERSIONED }],
    });
  });

  it('move copies to the archive before the event and deletes the version after it', () => {
    const plan = planSourceAction(settings('move'), VERSIONED, COUNTS);

    expect(plan.beforeEvent).toStrictEqual([{ op: 'copy', source: VERSIONED, to: { bucket: 'raw', key: 'archive/site/a.jsonl' } }]);
    expect(plan.afterEvent).toStrictEqual([{ op: 'delete', source: VERSIONED }]);
  });
});

describe('archiveLocationOf', () => {
  it("is the prefix plus the key, in SOURCE_ARCHIVE_BUCKET or else the object's own bucket", () => {
    expect(archiveLocationOf(VERSIONED, { bucket: undefined, prefix: 'archive/' })).toStrictEqual({ bucket: 'raw', key: 'archive/site/a.jsonl' });
    expect(archiveLocationOf(VERSIONED, { bucket: 'cold', prefix: 'x/' })).toStrictEqual({ bucket: 'cold', key: 'x/site/a.jsonl' });
  });
});

describe('isArchiveCopy', () => {
  it('recognises what move archived in the raw bucket itself', () => {
    expect(isArchiveCopy({ bucket: 'raw', key: 'archive/site/a.jsonl' }, settings('move'))).toBe(true);
    expect(isArchiveCopy({ bucket: 'raw', key: 'site/archive/a.jsonl' }, settings('move'))).toBe(false);
  });

  it('with an archive bucket, only keys under the prefix in that bucket', () => {
    expect(isArchiveCopy({ bucket: 'cold', key: 'archive/a.jsonl' }, settings('move', 'cold'))).toBe(true);
    expect(isArchiveCopy({ bucket: 'raw', key: 'archive/a.jsonl' }, settings('move', 'cold'))).toBe(false);
  });

  it('never outside move mode: a key under archive/ is then an ordinary upload', () => {
    for (const mode of ['keep', 'tag', 'delete'] as const) expect(isArchiveCopy({ bucket: 'raw', key: 'archive/a.jsonl' }, settings(mode))).toBe(false);
  });
});

describe('prefixesOverlap', () => {
  it('in one bucket, when either prefix starts with the other', () => {
    expect(prefixesOverlap({ bucket: 'b', prefix: 'archive/' }, { bucket: 'b', prefix: '' })).toBe(true);
    expect(prefixesOverlap({ bucket: 'b', prefix: 'rejected/old/' }, { bucket: 'b', prefix: 'rejected/' })).toBe(true);
    expect(prefixesOverlap({ bucket: 'b', prefix: 'a' }, { bucket: 'b', prefix: 'archive/' })).toBe(true);
    expect(prefixesOverlap({ bucket: 'b', prefix: 'archive/' }, { bucket: 'b', prefix: 'out/' })).toBe(false);
    expect(prefixesOverlap({ bucket: 'a', prefix: 'archive/' }, { bucket: 'b', prefix: '' })).toBe(false);
  });
});
