import { describe, expect, it } from '@jest/globals';
import type { BenchResults } from '../../../../ops/bench/results.ts';
import { evaluateTargets, type TargetResult } from '../../../../ops/bench/targets.ts';
import { FULL_SIZES } from '../../../../ops/bench/sizes.ts';
import type { ManyFilesFigures } from '../../../../ops/bench/latency-results.ts';
import { latencyCell, latencyFigures } from './latency-fixtures.ts';

function target(results: BenchResults, id: string): TargetResult {
  const found = evaluateTargets(results, FULL_SIZES).find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no target ${id}`);
  return found;
}

const perFile = (sqs: number, s3: number) => ({ sqs: { ReceiveMessage: sqs * 100 }, s3: { GetObject: s3 * 100 } });

describe('the latency targets', () => {
  it('judge the default against the best fixed bound at 20 and 60 ms, the old default at 0 ms and one at a time at 60 ms', () => {
    const requestLatency = latencyFigures([
      latencyCell(0, 1, 80),
      latencyCell(0, 8, 120),
      latencyCell(0, 'default', 114),
      latencyCell(20, 8, 60),
      latencyCell(20, 64, 100),
      latencyCell(20, 'default', 90),
      latencyCell(60, 1, 4),
      latencyCell(60, 64, 80),
      latencyCell(60, 'default', 71),
    ]);
    const results: BenchResults = { requestLatency };

    expect(target(results, 'latency-20ms-default-vs-best-fixed')).toMatchObject({ measured: 0.9, status: 'met', scenarios: [10] });
    expect(target(results, 'latency-60ms-default-vs-best-fixed')).toMatchObject({ status: 'not met' });
    expect(target(results, 'latency-0ms-default-vs-fixed-8')).toMatchObject({ measured: 0.95, status: 'met' });
    expect(target(results, 'latency-60ms-default-vs-one')).toMatchObject({ measured: 17.75, status: 'met' });
  });

  it('fail the 0 ms target below 95 % of fixed 8 and the 60 ms one below 10× one at a time', () => {
    const requestLatency = latencyFigures([latencyCell(0, 8, 120), latencyCell(0, 'default', 113), latencyCell(60, 1, 4), latencyCell(60, 'default', 39)]);

    expect(target({ requestLatency }, 'latency-0ms-default-vs-fixed-8').status).toBe('not met');
    expect(target({ requestLatency }, 'latency-60ms-default-vs-one').status).toBe('not met');
  });

  it('judge requests per small file on the default settings at their worst delay', () => {
    const within = latencyFigures([latencyCell(0, 'default', 100, perFile(1.3, 3)), latencyCell(60, 'default', 50, perFile(0.8, 2))]);
    const over = latencyFigures([latencyCell(0, 'default', 100, perFile(1.2, 3)), latencyCell(60, 'default', 50, perFile(1.31, 3.01))]);

    expect(target({ requestLatency: within }, 'sqs-requests-per-file')).toMatchObject({ measured: 1.3, status: 'met', unit: 'per file' });
    expect(target({ requestLatency: within }, 's3-requests-per-file')).toMatchObject({ measured: 3, status: 'met' });
    expect(target({ requestLatency: over }, 'sqs-requests-per-file').status).toBe('not met');
    expect(target({ requestLatency: over }, 's3-requests-per-file').status).toBe('not met');
  });

  it("judge scenario 11's peak RSS against 200 MB", () => {
    const many = (peakRssBytes: number | null) => ({ manyLargeFiles: { peakRssBytes } as ManyFilesFigures });

    expect(target(many(199e6), 'rss-many-large-files')).toMatchObject({ measured: 199, status: 'met', scenarios: [11] });
    expect(target(many(201e6), 'rss-many-large-files').status).toBe('not met');
    expect(target(many(null), 'rss-many-large-files').status).toBe('n/a');
  });

  it('say n/a when scenario 10 did not run, or not at the delay or bound a target needs', () => {
    const ids = [
      'latency-20ms-default-vs-best-fixed',
      'latency-60ms-default-vs-best-fixed',
      'latency-0ms-default-vs-fixed-8',
      'latency-60ms-default-vs-one',
      'sqs-requests-per-file',
      's3-requests-per-file',
      'rss-many-large-files',
    ];
    const onlyZero = latencyFigures([latencyCell(0, 1, 80), latencyCell(0, 'default', 100)]);

    expect(ids.map((id) => target({}, id).status)).toEqual(ids.map(() => 'n/a'));
    expect(target({ requestLatency: onlyZero }, 'latency-0ms-default-vs-fixed-8').status).toBe('n/a');
    expect(target({ requestLatency: onlyZero }, 'latency-60ms-default-vs-one').status).toBe('n/a');
  });
});
