import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { readSweepState, removeSweepState, writeSweepState } from '../../../../../ops/cli/object-sweep/sweep-state.ts';

const folder = mkdtempSync(join(tmpdir(), 'sweep-state-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('--state file', () => {
  it('round-trips the position and is gone once removed', () => {
    const path = join(folder, 'state.json');
    expect(readSweepState(path)).toBeUndefined();
    const state = { version: 1 as const, sweep: 's3://raw/in/', modifiedAfter: '2026-12-01T00:00:00.000Z', after: { key: 'in/b.jsonl', file: 2 } };
    writeSweepState(path, state);
    expect(readSweepState(path)).toEqual(state);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    removeSweepState(path);
    expect(readSweepState(path)).toBeUndefined();
  });

  it('keeps which of several listings (SOURCES) the position is in', () => {
    const path = join(folder, 'sources.json');
    const state = { version: 1 as const, sweep: 's3://a/x/, s3://b/', source: 1, after: { key: 'b.jsonl' } };
    writeSweepState(path, state);
    expect(readSweepState(path)).toEqual(state);
    writeFileSync(path, '{"version":1,"sweep":"x","source":-1,"after":{"key":"k"}}');
    expect(() => readSweepState(path)).toThrow(/not a reconcile state file/);
  });

  it('refuses a file that is not a state', () => {
    const path = join(folder, 'other.json');
    writeFileSync(path, '{"version":1,"sweep":"x","after":{"file":1}}');
    expect(() => readSweepState(path)).toThrow(/not a reconcile state file/);
    writeFileSync(path, 'garbage');
    expect(() => readSweepState(path)).toThrow(/not JSON/);
  });
});
