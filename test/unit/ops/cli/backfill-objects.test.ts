import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SUFFIXES, messageFor, wantedKey } from '../../../../ops/cli/backfill-objects.ts';

describe('backfill selection', () => {
  it('keeps keys with a wanted suffix, never folder markers', () => {
    const keys = ['a.jsonl', 'b.jsonl.gz', 'c.json', 'd.jsonl.bak', 'e.gz', 'folder.jsonl/', 'f.jsonl.zst', 'g.zst'];
    expect(keys.filter((key) => wantedKey(key, DEFAULT_SUFFIXES))).toEqual(['a.jsonl', 'b.jsonl.gz', 'f.jsonl.zst']);
    expect(keys.filter((key) => wantedKey(key, ['.gz']))).toEqual(['b.jsonl.gz', 'e.gz']);
  });

  it('builds the object message from the listing: size, and the ETag without quotes', () => {
    expect(messageFor('raw', { Key: 'site 1/a.jsonl', Size: 42, ETag: '"9b2cf535f27731c974343645a3985328"' })).toEqual({
      type: 'iot-ingest.object',
      version: 1,
      bucket: 'raw',
      key: 'site 1/a.jsonl',
      size: 42,
      eTag: '9b2cf535f27731c974343645a3985328',
    });
  });
});
