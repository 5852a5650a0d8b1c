import { describe, expect, it } from '@jest/globals';
import { BenchUsageError, DEFAULT_RESULTS_FILE, parseBenchOptions, SCENARIO_IDS } from '../../../../ops/bench/options.ts';
import { benchSizes, FULL_SIZES } from '../../../../ops/bench/sizes.ts';

describe('parseBenchOptions', () => {
  it('runs every scenario at full size with no flags, and writes the report to RESULTS.md', () => {
    const options = parseBenchOptions([]);

    expect(options).toEqual({
      quick: false,
      jsonFile: undefined,
      resultsFile: { path: DEFAULT_RESULTS_FILE, requested: false },
      only: new Set(SCENARIO_IDS),
      largeFileRecords: undefined,
      gzipLargeFile: false,
      cpuProfileDir: undefined,
    });
    expect(DEFAULT_RESULTS_FILE).toMatch(/ops\/bench\/RESULTS\.md$/);
  });

  it('reads --quick, --json, --only, --records, --results and --cpu-prof', () => {
    const argv = ['--quick', '--json', 'out.json', '--only', '3, 1', '--records', '13000000', '--results', 'r.md', '--cpu-prof', 'profiles'];

    expect(parseBenchOptions(argv)).toEqual({
      quick: true,
      jsonFile: 'out.json',
      resultsFile: { path: 'r.md', requested: true },
      only: new Set([1, 3]),
      largeFileRecords: 13_000_000,
      gzipLargeFile: false,
      cpuProfileDir: 'profiles',
    });
  });

  it.each([
    ['--quick', ['--quick']],
    ['--only', ['--only', '1,2,3']],
    ['--records', ['--records', '2000']],
    ['--gzip', ['--only', '3', '--gzip']],
    ['--cpu-prof', ['--cpu-prof', 'profiles']],
  ])('leaves RESULTS.md alone after a run with %s, unless --results names a file', (_flag, argv) => {
    expect(parseBenchOptions(argv)).toMatchObject({ resultsFile: undefined });
    expect(parseBenchOptions([...argv, '--results', 'smoke.md'])).toMatchObject({ resultsFile: { path: 'smoke.md', requested: true } });
  });

  it('writes RESULTS.md when --only lists every scenario and --json is given', () => {
    expect(parseBenchOptions(['--only', SCENARIO_IDS.join(','), '--json', 'b.json'])).toMatchObject({ resultsFile: { path: DEFAULT_RESULTS_FILE } });
  });

  it('takes --gzip for scenario 3 alone or with scenarios that do not use the large file', () => {
    expect(parseBenchOptions(['--only', '3', '--gzip'])).toMatchObject({ gzipLargeFile: true, only: new Set([3]) });
    expect(parseBenchOptions(['--only', '3,5,8', '--gzip', '--records', '13000000'])).toMatchObject({ gzipLargeFile: true, largeFileRecords: 13_000_000 });
  });

  it('refuses --gzip with the scenarios that compare with the plain large file, naming them, and without scenario 3', () => {
    expect(() => parseBenchOptions(['--gzip'])).toThrow('not with 1, 2, 4, 9, 12');
    expect(() => parseBenchOptions(['--only', '3,4', '--gzip'])).toThrow('not with 4');
    expect(() => parseBenchOptions(['--only', '5', '--gzip'])).toThrow('--gzip changes the input of scenario 3, which --only leaves out');
  });

  it('takes scenario 9, the Parquet writer, with scenario 3 it is compared with', () => {
    expect(parseBenchOptions(['--only', '3,9'])).toMatchObject({ only: new Set([3, 9]) });
  });

  it('answers help for --help', () => {
    expect(parseBenchOptions(['--help'])).toBe('help');
  });

  it.each([
    ['--only', '14'],
    ['--only', '0'],
    ['--only', '1,x'],
    ['--only', ''],
    ['--records', '0'],
    ['--records', '1e6'],
    ['--records', '-5'],
    ['--results', ''],
    ['--unknown'],
  ])('refuses %s %s', (...argv) => {
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

  it('keeps every delay of scenario 10 in a quick run but fewer bounds, each for less time, and the bounds the targets compare', () => {
    const quick = benchSizes(true);

    expect(FULL_SIZES).toMatchObject({ requestDelaysMs: [0, 20, 60], fixedFileBounds: [1, 8, 32, 64, 128] });
    expect(quick.requestDelaysMs).toEqual(FULL_SIZES.requestDelaysMs);
    expect(quick.fixedFileBounds).toEqual(expect.arrayContaining([1, 8]));
    expect(quick.fixedFileBounds.length).toBeLessThan(FULL_SIZES.fixedFileBounds.length);
    expect(quick.latencyCellSeconds).toBeLessThan(FULL_SIZES.latencyCellSeconds);
  });

  it("puts fewer of scenario 11's files in a quick run, each as large", () => {
    expect(FULL_SIZES).toMatchObject({ manyLargeFiles: 200, manyLargeFileBytes: 10_000_000 });
    expect(benchSizes(true)).toMatchObject({ manyLargeFiles: 10, manyLargeFileBytes: 10_000_000 });
  });

  it('takes the large file size from --records at either scale, and nothing else from it', () => {
    expect(benchSizes(false, 13_000_000)).toEqual({ ...FULL_SIZES, largeFileRecords: 13_000_000 });
    expect(benchSizes(true, 7)).toEqual({ ...benchSizes(true), largeFileRecords: 7 });
  });
});
