import { describe, expect, it } from '@jest/globals';
import { boundLabel, boundSettings, expectedFilesPerSecond, filesForCell, latencyColumns } from '../../../../ops/bench/latency-plan.ts';

describe('filesForCell', () => {
  it('gives a slow cell few files and a fast one many, so that each takes about the same time', () => {
    const slow = filesForCell(60, 1, 4, 2_000);
    const fast = filesForCell(0, 'default', 4, 2_000);

    expect(slow).toBeLessThan(30);
    expect(fast).toBeGreaterThan(400);
    expect(slow / expectedFilesPerSecond(60, 1)).toBeCloseTo(fast / expectedFilesPerSecond(0, 'default'), 0);
  });

  it('gives at least a few files and never more than there are', () => {
    expect(filesForCell(60, 1, 0.1, 2_000)).toBe(8);
    expect(filesForCell(0, 'default', 60, 100)).toBe(100);
  });

  it('expects more files/s from a higher bound at a delay, up to what the cores allow', () => {
    expect(expectedFilesPerSecond(60, 8)).toBeGreaterThan(expectedFilesPerSecond(60, 1));
    expect(expectedFilesPerSecond(0, 128)).toBe(expectedFilesPerSecond(0, 64));
  });
});

describe('the columns and their settings', () => {
  it('orders the fixed bounds and puts the default last', () => {
    expect(latencyColumns([64, 1, 8])).toEqual([1, 8, 64, 'default']);
  });

  it('fixes the bound for a fixed column and changes nothing for the default', () => {
    expect(boundSettings(32)).toEqual({ FILES_IN_FLIGHT_MODE: 'fixed', MAX_FILES_IN_FLIGHT: '32' });
    expect(boundSettings('default')).toEqual({});
    expect([boundLabel(1), boundLabel('default')]).toEqual(['fixed 1', 'default']);
  });
});
