import { describe, expect, it } from '@jest/globals';
import { BenchUsageError, parseBenchOptions, SCENARIO_IDS } from '../../../../ops/bench/options.ts';
import { benchSizes, FULL_SIZES } from '../../../../ops/bench/sizes.ts';

describe('parseBenchOptions', () => {
  it('runs every scenario at full size with no flags', () => {
    const options = parseBenchOptions([]);

    expect(options).toEqual({ quick: false, jsonFile: undefined, only: new Set(SCENARIO_IDS), cpuProfileDir: undefined });
  });

  it('reads --quick, --json, --only and --cpu-prof', () => {
    const options = parseBenchOptions(['--quick', '--json', 'out.json', '--only', '3, 1', '--cpu-prof', 'profiles']);

    expect(options).toEqual({ quick: true, jsonFile: 'out.json', only: new Set([1, 3]), cpuProfileDir: 'profiles' });
  });

  it('takes scenario 9, the Parquet writer, with scenario 3 it is compared with', () => {
    expect(parseBenchOptions(['--only', '3,9'])).toMatchObject({ only: new Set([3, 9]) });
  });

  it('answers help for --help', () => {
    expect(parseBenchOptions(['--help'])).toBe('help');
  });

  it.each([['--only', '10'], ['--only', '0'], ['--only', '1,x'], ['--only', ''], ['--unknown']])('refuses %s %s', (...argv) => {
    expect(() => parseBenchOptions(argv)).toThrow(BenchUsageError);
  });
});

describe('benchSizes', () => {
  it('uses the issue sizes for a full run', () => {
    expect(benchSizes(false)).toBe(FULL_SIZES);
    expect(FULL_SIZES).toMatchObject({ largeFileRecords: 1_000_000, smallFiles: 2_000, latencyFiles: 200, memoryLargeFileBytes: 1_000_000_000 });
  });

  it('shrinks counts and file sizes twentyfold for a quick run, but not the shape of a small file or the rates', () => {
    const quick = benchSizes(true);

    expect(quick).toMatchObject({
      largeFileRecords: 50_000,
      smallFiles: 100,
      latencyFiles: 10,
      memorySmallFileBytes: 500_000,
      memoryLargeFileBytes: 50_000_000,
      smallFileRecords: FULL_SIZES.smallFileRecords,
      latencyFilesPerSecond: FULL_SIZES.latencyFilesPerSecond,
    });
  });
});
