import { describe, expect, it } from '@jest/globals';
import { npmStartRows } from '../../../../ops/bench/report.ts';
import type { BenchResults, NpmStartFigures } from '../../../../ops/bench/results.ts';
import { evaluateTargets } from '../../../../ops/bench/targets.ts';
import { FULL_SIZES } from '../../../../ops/bench/sizes.ts';

const npmStart = (seconds: number, vsProductionWorker: number | null = null) =>
  ({
    records: 1_000_000,
    inputBytes: 153e6,
    seconds,
    recordsPerSecond: 1_000_000 / seconds,
    workerDurationMs: seconds * 1000,
    workerCpuSeconds: 2,
    cpuSecondsPerMillionRecords: 2,
    peakRssBytes: 150e6,
    idleRssBytes: 80e6,
    emulatorCpuSeconds: 1,
    counts: { processed: 1, filtered: 0, rejected: 0 },
    countsAddUp: true,
    warningLines: 0,
    startSeconds: 1.5,
    emulatorInOwnProcess: true,
    cpuVsProductionWorker: null,
    vsProductionWorker,
    productionWorkerProfiled: false,
  }) satisfies NpmStartFigures;

const largeFile = (seconds: number) => ({ seconds }) as BenchResults['largeFile'];

function target(results: BenchResults) {
  return evaluateTargets(results, FULL_SIZES).find((result) => result.id === 'npm-start-vs-production-worker');
}

describe('the npm start target', () => {
  it("judges npm start's put → processed time against scenario 3's, 1.2× itself included", () => {
    expect(target({ largeFile: largeFile(2), npmStart: npmStart(2.4) })).toMatchObject({
      measured: 1.2,
      required: 1.2,
      bound: 'at most',
      status: 'met',
      scenarios: [3, 12],
    });
    expect(target({ largeFile: largeFile(2), npmStart: npmStart(2.5) })).toMatchObject({ measured: 1.25, status: 'not met' });
    expect(target({ largeFile: largeFile(2), npmStart: npmStart(1.8) })?.status).toBe('met');
  });

  it('is n/a when scenario 3 or npm start did not run', () => {
    expect(target({ npmStart: npmStart(2.4) })).toMatchObject({ measured: null, status: 'n/a' });
    expect(target({ largeFile: largeFile(2) })).toMatchObject({ measured: null, status: 'n/a' });
  });
});

describe('npmStartRows', () => {
  it('shows the ratio to the production worker, or says it was not compared', () => {
    const value = (rows: string[][], figure: string) => rows.find((row) => row[1] === figure)?.[2];
    const ratioRow = 'put done → file processed ÷ production worker (3)';

    expect(value(npmStartRows(npmStart(2.4, 1.2)), ratioRow)).toBe('1.20×');
    expect(value(npmStartRows(npmStart(2.4)), ratioRow)).toBe('not compared (scenario 3 did not run)');
    expect(value(npmStartRows(npmStart(2.4)), 'emulator in a process of its own')).toBe('yes (a child of npm start)');
  });
});
