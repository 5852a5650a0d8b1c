import { describe, expect, it } from '@jest/globals';
import { latencyTableHeaders, latencyTableRows, manyLargeFilesRows, requestLatencyRows } from '../../../../ops/bench/latency-report.ts';
import type { CappedFileRun, LatencyCell, ManyFilesFigures } from '../../../../ops/bench/latency-results.ts';
import { figureRows, renderReport, targetRows, type RunDescription } from '../../../../ops/bench/report.ts';
import { renderResultsMarkdown } from '../../../../ops/bench/results-file.ts';
import type { SmallFilesRun, WorkerFileFigures } from '../../../../ops/bench/results.ts';
import { evaluateTargets } from '../../../../ops/bench/targets.ts';
import { FULL_SIZES } from '../../../../ops/bench/sizes.ts';
import { latencyCell, latencyFigures } from './latency-fixtures.ts';

const table = latencyFigures([
  latencyCell(0, 1, 75.46),
  latencyCell(0, 8, 117.7),
  latencyCell(0, 64, 132.74),
  latencyCell(0, 'default', 122.7),
  latencyCell(60, 1, 3.7),
  latencyCell(60, 8, 26.9),
  latencyCell(60, 64, 76.3),
  latencyCell(60, 'default', 44.6),
]);

const description: RunDescription = {
  mode: 'quick',
  command: 'npm run bench -- --quick --only 10',
  date: '2026-12-02T00:00:00.000Z',
  machine: 'test machine',
  workerRuntime: 'dist/worker/main.js',
  changedSettings: [],
  failures: [],
};

describe('the latency table', () => {
  it('has a column per bound, the default last, and the default ÷ the best fixed bound', () => {
    expect(latencyTableHeaders(table)).toEqual(['delay per request', 'fixed 1', 'fixed 8', 'fixed 64', 'default', 'default ÷ best fixed']);
  });

  it('has a row per delay with files/s in each cell, the best fixed bound of the row marked', () => {
    expect(latencyTableRows(table)).toEqual([
      ['0 ms', '75.5', '117.7', '132.7*', '122.7', '0.92×'],
      ['60 ms', '3.7', '26.9', '76.3*', '44.6', '0.58×'],
    ]);
  });

  it('says n/a for a cell that did not run', () => {
    const partial = latencyFigures([latencyCell(20, 1, 10), latencyCell(20, 'default', 50)]);

    expect(latencyTableRows(partial)).toEqual([['20 ms', '10.0*', 'n/a', 'n/a', '50.0', '5.00×']]);
  });

  it('is printed between the figures and the targets, and written to RESULTS.md as a section', () => {
    const results = { requestLatency: table };
    const targets = evaluateTargets(results, FULL_SIZES);
    const report = renderReport(description, results, targets);
    const markdown = renderResultsMarkdown({ description, results, targets, loads: [], profiles: [], wallSeconds: 30 });

    expect(report).toMatch(/delay per request +fixed 1 +fixed 8 +fixed 64 +default +default ÷ best fixed\n-+/);
    expect(report.indexOf('delay per request')).toBeGreaterThan(report.indexOf('10 latency per request'));
    expect(report.indexOf('delay per request')).toBeLessThan(report.indexOf('target '));
    expect(markdown).toContain('## Latency per request');
    expect(markdown).toContain('| 60 ms | 3.7 | 26.9 | 76.3* | 44.6 | 0.58× |');
  });

  it('is left out when scenario 10 did not run', () => {
    expect(renderReport(description, {}, evaluateTargets({}, FULL_SIZES))).not.toContain('delay per request');
    expect(renderResultsMarkdown({ description, results: {}, targets: [], loads: [], profiles: [], wallSeconds: 1 })).not.toContain('## Latency per request');
  });
});

describe("scenario 10's figure rows", () => {
  const run = (filesPerSecond: number): SmallFilesRun =>
    ({
      files: 100,
      filesPerSecond,
      workerCpuSeconds: 0.7,
      emulatorCpuSeconds: 0.4,
      mostFilesInFlight: 28,
      proxy: {
        delayMs: 20,
        bytesPerSecond: null,
        cpuSeconds: 0.15,
        requests: { sqs: { GetQueueAttributes: 2, DeleteMessageBatch: 21, ReceiveMessage: 63 }, s3: { PutObject: 200, GetObject: 100 } },
      },
    }) as Partial<SmallFilesRun> as SmallFilesRun;
  const cells: LatencyCell[] = [
    { delayMs: 20, bound: 8, run: run(60) },
    { delayMs: 20, bound: 'default', run: run(80) },
  ];
  const capped: CappedFileRun = {
    delayMs: 20,
    bytesPerSecond: 16e6,
    figures: { records: 260_000, inputBytes: 40e6, seconds: 2.5, recordsPerSecond: 104_000, workerCpuSeconds: 1.2, peakRssBytes: 150e6 } as WorkerFileFigures,
    proxyCpuSeconds: 0.3,
  };
  const rows = requestLatencyRows({ delaysMs: [20], bounds: [8, 'default'], cells, cappedFile: [capped] });

  it('give the requests per file of the default by operation, the SQS ones of a file first', () => {
    expect(rows).toContainEqual([
      '',
      'default at 20 ms: requests per file',
      'SQS 0.84 (ReceiveMessage 0.63, DeleteMessageBatch 0.21, GetQueueAttributes 0.02), S3 3.00 (GetObject 1.00, PutObject 2.00)',
    ]);
  });

  it("give the CPU per file of every process, the proxy's included, and the proxy's CPU over all cells", () => {
    expect(rows).toContainEqual(['', 'default at 20 ms: CPU per file', 'worker 7.0 ms, emulator 4.0 ms, proxy 1.5 ms; most files in flight 28']);
    expect(rows).toContainEqual(['', 'proxy CPU, all cells', '0.30 s']);
  });

  it('give the capped large file as one line, with the input MB/s the cap allowed', () => {
    expect(rows).toContainEqual([
      '',
      'large file 40.0 MB at 20 ms, 16 MB/s cap per connection',
      '104,000 records/s = 16.0 MB/s of input (2.50 s; CPU worker 1.20 s, proxy 0.30 s; peak RSS 150.0 MB)',
    ]);
  });

  it('are part of the figures, after the scenarios before them', () => {
    expect(figureRows({ requestLatency: { delaysMs: [20], bounds: [8, 'default'], cells, cappedFile: [] } })[0]?.[0]).toBe('10 latency per request');
  });
});

describe("scenario 11's figure rows and the requests-per-file targets' unit", () => {
  it('give the files, the most in flight at once and the peak RSS', () => {
    const figures: ManyFilesFigures = {
      files: 200,
      fileBytes: 10e6,
      delayMs: 20,
      seconds: 40,
      filesPerSecond: 5,
      mostFilesInFlight: 12,
      peakRssBytes: 180e6,
      idleRssBytes: 90e6,
      workerCpuSeconds: 30,
      emulatorCpuSeconds: 10,
      proxyCpuSeconds: 3,
      warningLines: 0,
    };
    const rows = manyLargeFilesRows(figures);

    expect(rows[0]).toEqual(['11 many large files at once', 'input', '200 files of 10.0 MB, all queued before the worker starts; default settings, 20 ms per request']);
    expect(rows).toContainEqual(['', 'files/s (most in flight at once)', '5.0 (12)']);
    expect(rows).toContainEqual(['', 'worker peak RSS (RSS at start)', '180.0 MB (90.0 MB)']);
    expect(figureRows({ manyLargeFiles: figures })).toEqual(rows);
  });

  it('shows requests per file with two decimals', () => {
    const requestLatency = latencyFigures([latencyCell(0, 'default', 100, { sqs: { ReceiveMessage: 115 }, s3: { GetObject: 300 } })]);

    expect(targetRows(evaluateTargets({ requestLatency }, FULL_SIZES))).toContainEqual([
      'SQS requests per small file, default (receive, delete, visibility; most at any delay)',
      '1.15 per file',
      '≤ 1.30 per file',
      'met',
    ]);
  });
});
