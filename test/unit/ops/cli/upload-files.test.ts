import { describe, expect, it } from '@jest/globals';
import { contentTypeOf } from '../../../../ops/cli/upload-files.ts';

describe('upload Content-Type', () => {
  it('by the key: gzip, zstd, JSON Lines, else bytes', () => {
    expect(contentTypeOf('a.jsonl.gz')).toBe('application/gzip');
    expect(contentTypeOf('a.jsonl.zst')).toBe('application/zstd');
    expect(contentTypeOf('a.zst')).toBe('application/zstd');
    expect(contentTypeOf('a.jsonl')).toBe('application/x-ndjson');
    expect(contentTypeOf('a.zstd.bin')).toBe('application/octet-stream');
  });
});
