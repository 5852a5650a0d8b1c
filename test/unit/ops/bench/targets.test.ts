import { describe, expect, it } from '@jest/globals';
import type { BenchResults, ComputeFloorFigures, IoFloorFigures } from '../../../../ops/bench/results.ts';
import { evaluateTargets, floorRecordsPerSecond } from '../../../../ops/bench/targets.ts';
import { benchSizes, FULL_SIZES, sizeLabel } from '../../../../ops/bench/sizes.ts';

const computeFloor = { records: 1_000_000, seconds: 1.6, recordsPerSecond: 625_000, cpuSecondsPerMillionRecords: 1.6 } as ComputeFloorFigures;
const ioFloor = { seconds: 2 } as IoFloorFigures;

function statusOf(results: BenchResults, id: string): string | undefined {
  return evaluateTargets(results, FULL_SIZES).find((target) => target.id === id)?.status;
}

describe('floorRecordsPerSecond', () => {
  it('is bounded by the slower floor, since the worker reads, processes and writes at once', () => {
    expect(floorRecordsPerSecond({ computeFloor, ioFloor })).toBe(500_000);
    expect(floorRecordsPerSecond({ computeFloor, ioFloor: { ...ioFloor, seconds: 1 } })).toBe(625_000);
  });

  it('is null without both floors', () => {
    expect(floorRecordsPerSecond({ computeFloor })).toBeNull();
  });
});

describe('evaluateTargets', () => {
  it('says n/a for every target when nothing ran', () => {
    expect(evaluateTargets({}, FULL_SIZES).every((target) => target.status === 'n/a' && target.measured === null)).toBe(true);
  });

  it('judges "at most" and "at least" bounds, the bound itself included', () => {
    const met: BenchResults = {
      computeFloor,
      ioFloor,
      largeFile: { cpuSecondsPerMillionRecords: 1.84, recordsPerSecond: 400_000, peakRssBytes: 100e6 } as BenchResults['largeFile'],
      naive: { recordsPerSecond: 200_000, peakRssBytes: 500e6 } as BenchResults['naive'],
    };

    expect(statusOf(met, 'worker-cpu-vs-compute-floor')).toBe('met');
    expect(statusOf(met, 'large-file-vs-floors')).toBe('met');
    expect(statusOf(met, 'throughput-vs-naive')).toBe('met');
    expect(statusOf(met, 'memory-vs-naive')).toBe('met');
  });

  it('reports figures past the bound as not met', () => {
    const results: BenchResults = {
      latency: { p50Ms: 151, p99Ms: 400 } as BenchResults['latency'],
      memoryGrowth: { large: { peakRssBytes: 210e6 }, small: { peakRssBytes: 100e6 }, growth: 2.1 } as BenchResults['memoryGrowth'],
    };

    expect(statusOf(results, 'latency-p50')).toBe('not met');
    expect(statusOf(results, 'latency-p99')).toBe('met');
    expect(statusOf(results, 'rss-large-file')).toBe('not met');
    expect(evaluateTargets(results, FULL_SIZES).find((target) => target.id === 'rss-large-file')?.measured).toBe(210);
    expect(statusOf(results, 'rss-growth')).toBe('not met');
  });

  it("judges scenario 3's peak RSS against the same limit as scenario 8's, in MB", () => {
    const target = (peakRssBytes: number) =>
      evaluateTargets({ largeFile: { peakRssBytes } as BenchResults['largeFile'] }, FULL_SIZES).find((result) => result.id === 'rss-one-large-file');

    expect(target(170e6)).toMatchObject({ measured: 170, required: 200, status: 'met', scenarios: [3] });
    expect(target(211e6)).toMatchObject({ measured: 211, status: 'not met' });
    expect(evaluateTargets({}, FULL_SIZES).find((result) => result.id === 'rss-large-file')?.required).toBe(200);
  });

  it('says n/a when /proc gave no figure', () => {
    const results: BenchResults = { computeFloor, largeFile: { cpuSecondsPerMillionRecords: null } as BenchResults['largeFile'] };

    expect(statusOf(results, 'worker-cpu-vs-compute-floor')).toBe('n/a');
  });
});

describe('target texts name the sizes of the run', () => {
  const descriptions = (quick: boolean) => evaluateTargets({}, benchSizes(quick)).map((target) => target.description);

  it('a full run: the 1 GB and 10 MB files, many 10 MB files', () => {
    expect(descriptions(false)).toEqual(
      expect.arrayContaining(['worker peak RSS on the 1 GB file', 'peak RSS, 1 GB file ÷ 10 MB file', 'worker peak RSS, many 10 MB files put at once (11)']),
    );
  });

  it('a quick run (1/20): the 50 MB and 500 kB files, and never a size it did not use', () => {
    const quick = descriptions(true);

    expect(quick).toEqual(expect.arrayContaining(['worker peak RSS on the 50 MB file', 'peak RSS, 50 MB file ÷ 500 kB file']));
    // Scenario 11 keeps its file size in a quick run (fewer files, each as large).
    expect(quick).toContain('worker peak RSS, many 10 MB files put at once (11)');
    expect(quick.join('\n')).not.toMatch(/\b1 GB\b/);
  });
});

describe('sizeLabel', () => {
  it('names a size in decimal units, at most three significant digits, without trailing zeros', () => {
    expect([1e9, 1e7, 5e7, 5e5, 1_250_000, 999, 40_000_000, 1_000_000_123].map(sizeLabel)).toEqual([
      '1 GB',
      '10 MB',
      '50 MB',
      '500 kB',
      '1.25 MB',
      '999 B',
      '40 MB',
      '1 GB',
    ]);
  });
});
