import { describe, expect, it } from '@jest/globals';
import { summariseCpuProfile, sourceOf, type CpuProfile } from '../../../../ops/bench/cpu-profile.ts';
import { compareWithJsonLines, parquetPartitions } from '../../../../ops/bench/format-comparison.ts';
import { figureRows, largeFileRows, parquetWriterRows, renderTable, targetRows } from '../../../../ops/bench/report.ts';
import type { LargeFileFigures, ParquetWriterFigures, WorkerFileFigures } from '../../../../ops/bench/results.ts';
import { evaluateTargets } from '../../../../ops/bench/targets.ts';
import { FULL_SIZES } from '../../../../ops/bench/sizes.ts';

describe('renderTable', () => {
  it('aligns columns under a rule and trims trailing spaces', () => {
    const table = renderTable(['a', 'bb'], [['xxx', 'y'], ['z', '']]);

    expect(table).toBe(['a    bb', '---  --', 'xxx  y', 'z'].join('\n'));
  });
});

describe('targetRows', () => {
  it('shows bounds with their unit and n/a for targets that could not be judged', () => {
    const rows = targetRows(evaluateTargets({ latency: { p50Ms: 12.4, p99Ms: 30 } as never }, FULL_SIZES));

    expect(rows).toContainEqual(['put → output latency, p50', '12 ms', '≤ 150 ms', 'met']);
    expect(rows).toContainEqual(['small files/s, default bound ÷ one at a time', 'n/a', '≥ 6.00×', 'n/a']);
  });
});

const workerFile: WorkerFileFigures = {
  records: 1_000_000,
  inputBytes: 153e6,
  seconds: 2.5,
  recordsPerSecond: 400_000,
  workerDurationMs: 2_400,
  workerCpuSeconds: 2.4,
  cpuSecondsPerMillionRecords: 2.4,
  peakRssBytes: 180e6,
  idleRssBytes: 86e6,
  emulatorCpuSeconds: 1,
  counts: { processed: 658_914, filtered: 330_902, rejected: 10_184 },
  countsAddUp: true,
  warningLines: 0,
};
const jsonLines: LargeFileFigures = {
  ...workerFile,
  recordsPerSecond: 500_000,
  cpuSecondsPerMillionRecords: 2,
  peakRssBytes: 150e6,
  outputs: { processed: { bytes: 100e6, sha256: 'a' }, rejected: { bytes: 1e6, sha256: 'b' } },
};
const objects = [
  { key: 'parquet/dt=2025-07-11/bench/large-1000000.parquet', bytes: 5e6 },
  { key: 'parquet/dt=2025-07-12/bench/large-1000000.parquet', bytes: 2e6 },
  { key: 'parquet/dt=2025-07-12/bench/large-1000000-part2.parquet', bytes: 1e6 },
];

describe('largeFileRows', () => {
  it('shows the plain input of scenario 3', () => {
    expect(largeFileRows(jsonLines)[0]).toEqual(['3 worker, large file', 'input', '1,000,000 lines, 153.0 MB']);
    expect(figureRows({ largeFile: jsonLines })).toEqual(largeFileRows(jsonLines));
  });

  it('says when the file went in gzip-compressed, with the size put and the plain size', () => {
    const rows = largeFileRows({ ...jsonLines, gzipBytes: 14.3e6 });

    expect(rows[0]).toEqual(['3 worker, large file, gzip', 'input', '1,000,000 lines, 153.0 MB, put gzip-compressed as 14.3 MB (outputs gzip)']);
    expect(rows).toContainEqual(['', 'worker peak RSS (idle RSS)', '150.0 MB (86.0 MB)']);
  });
});

describe('parquetPartitions', () => {
  it('counts distinct dt= partitions, an object split into parts counting once', () => {
    expect(parquetPartitions(objects, 'parquet/')).toBe(2);
    expect(parquetPartitions([], 'parquet/')).toBe(0);
  });

  it('refuses a key that is not a Parquet object in a dt= partition under the prefix', () => {
    expect(() => parquetPartitions([{ key: 'parquet/bench/large.parquet', bytes: 1 }], 'parquet/')).toThrow('dt= partition');
    expect(() => parquetPartitions([{ key: 'parquet/dt=2025-07-11/large.jsonl', bytes: 1 }], 'parquet/')).toThrow('dt= partition');
  });
});

describe('compareWithJsonLines', () => {
  it("divides the Parquet run's figures by the JSON Lines run's", () => {
    expect(compareWithJsonLines(workerFile, 8e6, jsonLines)).toEqual({
      recordsPerSecond: 0.8,
      cpuSecondsPerMillionRecords: 1.2,
      peakRss: 1.2,
      jsonLinesProcessedBytes: 100e6,
      processedBytes: 0.08,
      jsonLinesProfiled: false,
    });
  });

  it('is null without scenario 3, and gives null ratios where /proc gave no figure', () => {
    expect(compareWithJsonLines(workerFile, 8e6, undefined)).toBeNull();
    expect(compareWithJsonLines({ ...workerFile, peakRssBytes: null }, 8e6, jsonLines)?.peakRss).toBeNull();
  });
});

describe('parquetWriterRows', () => {
  const figures: ParquetWriterFigures = {
    ...workerFile,
    parquet: { prefix: 'parquet/', objects, partitions: 2, bytes: 8e6 },
    vsJsonLines: compareWithJsonLines(workerFile, 8e6, jsonLines),
  };

  it('shows the figures, the Parquet output and the ratios to the JSON Lines writer, with no target', () => {
    const rows = parquetWriterRows(figures);

    expect(rows[0]).toEqual(['9 parquet writer, large file', 'input', '1,000,000 lines, 153.0 MB']);
    expect(rows).toContainEqual(['', 'records/s', '400,000']);
    expect(rows).toContainEqual(['', 'Parquet output', '8.0 MB in 3 objects under parquet/ (2 dt= partitions)']);
    expect(rows).toContainEqual(['', 'records/s ÷ JSON Lines writer (3)', '0.80×']);
    expect(rows).toContainEqual(['', 'CPU s per 1M records ÷ JSON Lines writer', '1.20×']);
    expect(rows).toContainEqual(['', 'peak RSS ÷ JSON Lines writer', '1.20×']);
    expect(rows).toContainEqual(['', 'Parquet bytes ÷ JSON Lines processed bytes', '0.08× (8.0 MB vs 100.0 MB)']);
    expect(figureRows({ parquetWriter: figures })).toEqual(rows);
  });

  it('says the comparison was not made when scenario 3 did not run, and flags a profiled scenario 3', () => {
    expect(parquetWriterRows({ ...figures, vsJsonLines: null }).at(-1)).toEqual(['', '÷ JSON Lines writer', 'not compared (scenario 3 did not run)']);

    const profiled = compareWithJsonLines(workerFile, 8e6, { ...jsonLines, cpuProfile: {} as never });

    expect(parquetWriterRows({ ...figures, vsJsonLines: profiled }).map((row) => row[1])).toContain('(scenario 3 ran under --cpu-prof)');
  });
});

describe('sourceOf', () => {
  const root = '/work/app';

  it('names npm packages, Node modules, project files and V8 pseudo-frames', () => {
    expect(sourceOf({ functionName: 'f', url: 'file:///work/app/node_modules/@smithy/core/dist/index.js', lineNumber: 1 }, root)).toBe('@smithy/core');
    expect(sourceOf({ functionName: 'f', url: 'file:///work/app/node_modules/pino/pino.js', lineNumber: 1 }, root)).toBe('pino');
    expect(sourceOf({ functionName: 'f', url: 'node:internal/streams/readable', lineNumber: 1 }, root)).toBe('node:internal/streams/readable');
    expect(sourceOf({ functionName: 'f', url: 'file:///work/app/dist/worker/pipeline.js', lineNumber: 1 }, root)).toBe('dist/worker/pipeline.js');
    expect(sourceOf({ functionName: '(garbage collector)', url: '', lineNumber: -1 }, root)).toBe('(garbage collector)');
    expect(sourceOf({ functionName: 'concat', url: '', lineNumber: -1 }, root)).toBe('(native)');
  });
});

describe('summariseCpuProfile', () => {
  it('gives each sample the time until the next one, leaves idle time out of the shares and ranks by self time', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'evaluateLine', url: 'file:///app/dist/worker/pipeline.js', lineNumber: 38 } },
        { id: 3, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [2, 2, 3, 1],
      timeDeltas: [0, 3_000, 3_000, 1_000],
    };

    const summary = summariseCpuProfile(profile, '/app');

    expect(summary.busyMs).toBe(7);
    expect(summary.idleMs).toBe(3);
    expect(summary.functions).toEqual([
      { name: 'evaluateLine (dist/worker/pipeline.js:39)', selfMs: 6, share: 6 / 7 },
      { name: '(garbage collector)', selfMs: 1, share: 1 / 7 },
    ]);
    expect(summary.sources[0]).toEqual({ name: 'dist/worker/pipeline.js', selfMs: 6, share: 6 / 7 });
  });
});
