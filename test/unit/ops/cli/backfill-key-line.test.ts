import { describe, expect, it } from '@jest/globals';
import { keyLine } from '../../../../ops/cli/object-sweep/key-line.ts';

describe('a dry run key line', () => {
  it('shows a key as it is, spaces and non-ASCII included', () => {
    expect(keyLine('in/site 2/ünïcode + space.jsonl')).toBe('in/site 2/ünïcode + space.jsonl');
  });

  it('quotes a key holding a control character, so that a line break cannot pass for two keys', () => {
    expect(keyLine('in/a\nb.jsonl')).toBe('"in/a\\nb.jsonl"');
    expect(keyLine('in/tab\there.jsonl')).toBe('"in/tab\\there.jsonl"');
    expect(keyLine('in/del\u007f.jsonl')).toBe('"in/del\\u007f.jsonl"');
    expect(keyLine('in/c1\u0085.jsonl')).toBe('"in/c1\\u0085.jsonl"');
  });

  it('quotes a key that starts with a quote, so that a quoted line always means JSON', () => {
    expect(keyLine('"quoted".jsonl')).toBe('"\\"quoted\\".jsonl"');
  });
});
