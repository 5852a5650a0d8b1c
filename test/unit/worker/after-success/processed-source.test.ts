import { describe, expect, it } from '@jest/globals';
import { processedSourceOf } from '../../../../worker/after-success/processed-source.ts';

const REF = { bucket: 'raw', key: 'a.jsonl', eTag: 'from-event', versionId: 'v-event' };

describe('processedSourceOf', () => {
  it('takes the version and ETag the read returned', () => {
    expect(processedSourceOf(REF, { source: { bucket: 'raw', key: 'a.jsonl', eTag: '"read"', versionId: 'v-read' } })).toStrictEqual({
      bucket: 'raw',
      key: 'a.jsonl',
      versionId: 'v-read',
      eTag: 'read',
    });
  });

  it("falls back to the message's when the read gave none", () => {
    expect(processedSourceOf(REF, { source: { eTag: '' } })).toStrictEqual({ bucket: 'raw', key: 'a.jsonl', versionId: 'v-event', eTag: 'from-event' });
  });

  it('has no version id for an unversioned object', () => {
    expect(processedSourceOf({ bucket: 'raw', key: 'a.jsonl' }, { source: { eTag: 'e' } })).toStrictEqual({ bucket: 'raw', key: 'a.jsonl', eTag: 'e' });
  });

  it('refuses to name a version without an ETag', () => {
    expect(() => processedSourceOf({ bucket: 'raw', key: 'a.jsonl' }, {})).toThrow('no ETag is known for s3://raw/a.jsonl');
  });
});
