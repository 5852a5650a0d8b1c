import { describe, expect, it } from '@jest/globals';
import { inScope } from '../../../../../ops/cli/object-sweep/scope.ts';
import { parseSince } from '../../../../../ops/cli/object-sweep/since.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

describe('--since', () => {
  it('takes a duration back from now or an ISO time with its zone', () => {
    expect(parseSince('48h', NOW).toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince('2d', NOW).toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince('30m', NOW).toISOString()).toBe('2026-12-02T11:30:00.000Z');
    expect(parseSince('2026-12-01T00:00:00Z', NOW).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(parseSince('2026-12-01T01:00:00+01:00', NOW).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('refuses a bare date, a local time and nonsense', () => {
    for (const value of ['2026-12-01', '2026-12-01T00:00:00', 'yesterday', '2w', '-1d']) expect(() => parseSince(value, NOW)).toThrow(/duration back from now/);
  });
});

describe('sweep scope', () => {
  const scope = { prefix: 'in/', suffixes: ['.jsonl'], modifiedAfter: new Date(NOW - 1000) };

  it('keeps latest objects under the prefix, with a wanted suffix, modified after --since', () => {
    expect(inScope({ key: 'in/a.jsonl', lastModified: new Date(NOW) }, scope)).toBe(true);
    expect(inScope({ key: 'in/a.jsonl', lastModified: new Date(NOW - 1000) }, scope)).toBe(false);
    expect(inScope({ key: 'in/a.jsonl' }, scope)).toBe(false);
    expect(inScope({ key: 'out/a.jsonl', lastModified: new Date(NOW) }, scope)).toBe(false);
    expect(inScope({ key: 'in/a.csv', lastModified: new Date(NOW) }, scope)).toBe(false);
    expect(inScope({ key: 'in/a.jsonl', lastModified: new Date(NOW), latest: false }, scope)).toBe(false);
    expect(inScope({ key: 'in/a.jsonl' }, { prefix: '', suffixes: ['.jsonl'] })).toBe(true);
  });
});
