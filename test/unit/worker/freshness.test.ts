import { describe, it, expect } from '@jest/globals';
import { pino } from 'pino';
import type { ObjectRef } from '../../../worker/common/events.ts';
import { ConfigError, parseConfig, type Environment } from '../../../worker/config.ts';
import { freshnessBuckets, freshnessSeconds } from '../../../worker/freshness.ts';
import type { FileResult } from '../../../worker/process-object.ts';
import { createTelemetry, type FileOutcome } from '../../../worker/telemetry.ts';
import { emptySucceededFile } from '../../support/file-results.ts';

const BASE: Environment = { AWS_REGION: 'eu-west-1', QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest', PROCESSED_BUCKET: 'processed' };
const NOW_MS = Date.parse('2026-12-03T12:00:00.000Z');

function succeeded(key: string): FileResult {
  return emptySucceededFile(key);
}

/** A telemetry whose wall clock stands at NOW_MS, and what its freshness histogram holds. */
function telemetryAt(freshnessObjectiveSeconds?: number) {
  const telemetry = createTelemetry(pino({ level: 'silent' }), {
    defaultMetrics: false,
    wallClockMs: () => NOW_MS,
    ...(freshnessObjectiveSeconds === undefined ? {} : { freshnessObjectiveSeconds }),
  });
  const finish = (ref: ObjectRef, outcome: FileOutcome = 'succeeded') => {
    telemetry.fileStarted();
    telemetry.fileFinished({ ref, outcome, durationSeconds: 0.1, ...(outcome === 'succeeded' ? { result: succeeded(ref.key) } : { error: 'boom' }) });
  };
  const histogram = async () => {
    const metric = telemetry.registry.getSingleMetric('iot_ingest_freshness_seconds');
    if (metric === undefined) throw new Error('no freshness histogram');
    // A histogram's values name their series (_bucket, _sum, _count); prom-client's Metric type does not say so.
    const values = (await metric.get()).values as ReadonlyArray<{ metricName?: string; labels: Record<string, string | number | undefined>; value: number }>;
    const of = (name: string) => values.filter((value) => value.metricName === name);
    return {
      count: of('iot_ingest_freshness_seconds_count')[0]?.value,
      sum: of('iot_ingest_freshness_seconds_sum')[0]?.value,
      buckets: new Map(of('iot_ingest_freshness_seconds_bucket').map((value) => [String(value.labels.le), value.value])),
    };
  };
  const objective = async () => (await telemetry.registry.getSingleMetric('iot_ingest_freshness_objective_seconds')?.get())?.values[0]?.value;
  return { telemetry, finish, histogram, objective };
}

describe('freshnessSeconds', () => {
  it('is the time from the event to now, in seconds', () => {
    expect(freshnessSeconds('2026-12-03T11:45:00.000Z', NOW_MS)).toBe(900);
    expect(freshnessSeconds('2026-12-03T11:59:59.250Z', NOW_MS)).toBe(0.75);
    // EventBridge writes its time without milliseconds.
    expect(freshnessSeconds('2026-12-03T11:00:00Z', NOW_MS)).toBe(3600);
  });

  it('has nothing to say without a time it can read', () => {
    expect(freshnessSeconds(undefined, NOW_MS)).toBeUndefined();
    expect(freshnessSeconds('yesterday-ish', NOW_MS)).toBeUndefined();
    expect(freshnessSeconds('', NOW_MS)).toBeUndefined();
  });

  it('counts an event a little ahead of this clock (skew) as 0, never negative', () => {
    expect(freshnessSeconds('2026-12-03T12:00:02.000Z', NOW_MS)).toBe(0);
  });
});

describe('freshnessBuckets', () => {
  it('spans 1 s to 2 h, with the default objective (900 s) and twice it among the bounds', () => {
    const buckets = freshnessBuckets(900);
    expect(buckets[0]).toBe(1);
    expect(buckets.at(-1)).toBe(7200);
    expect(buckets).toEqual(expect.arrayContaining([900, 1800]));
  });

  it('adds an objective that is not a default bound, and twice it, in order and without repeats', () => {
    const buckets = freshnessBuckets(420);
    expect(buckets).toEqual(expect.arrayContaining([420, 840]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(new Set(buckets).size).toBe(buckets.length);
  });

  it('keeps a bound above an objective beyond the defaults, so a p99 past it shows as past it', () => {
    expect(freshnessBuckets(10_800).slice(-2)).toEqual([10_800, 21_600]);
  });
});

describe('FRESHNESS_OBJECTIVE_SECONDS', () => {
  it('is 900 seconds when unset, and takes any positive number of seconds up to a day', () => {
    expect(parseConfig(BASE).freshnessObjectiveSeconds).toBe(900);
    expect(parseConfig({ ...BASE, FRESHNESS_OBJECTIVE_SECONDS: '300' }).freshnessObjectiveSeconds).toBe(300);
    expect(parseConfig({ ...BASE, FRESHNESS_OBJECTIVE_SECONDS: ' 90.5 ' }).freshnessObjectiveSeconds).toBe(90.5);
    expect(parseConfig({ ...BASE, FRESHNESS_OBJECTIVE_SECONDS: '86400' }).freshnessObjectiveSeconds).toBe(86_400);
  });

  it.each(['0', '-60', '15m', '0x10', '1e3', '86401', 'NaN'])('refuses %j with one line naming the variable, what it must be and the value', (value) => {
    let error: unknown;
    try {
      parseConfig({ ...BASE, FRESHNESS_OBJECTIVE_SECONDS: value });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`FRESHNESS_OBJECTIVE_SECONDS must be a number of seconds above 0, at most 86400; got ${JSON.stringify(value)}`);
  });
});

describe('telemetry: freshness', () => {
  it('observes, per file that succeeded, the seconds since its event', async () => {
    const { finish, histogram } = telemetryAt();

    finish({ bucket: 'raw', key: 'late.jsonl', eventTime: '2026-12-03T11:40:00.000Z' });
    finish({ bucket: 'raw', key: 'fresh.jsonl', eventTime: '2026-12-03T11:59:55.000Z' });

    const { count, sum, buckets } = await histogram();
    expect({ count, sum }).toEqual({ count: 2, sum: 1200 + 5 });
    expect(buckets.get('5')).toBe(1);
    expect(buckets.get('900')).toBe(1);
    expect(buckets.get('1200')).toBe(2);
  });

  it('observes nothing for a file without an event time, nor for one that did not succeed', async () => {
    const { finish, histogram } = telemetryAt();

    finish({ bucket: 'raw', key: 'backfilled.jsonl' });
    finish({ bucket: 'raw', key: 'failed.jsonl', eventTime: '2026-12-03T11:00:00.000Z' }, 'failed_transient');
    finish({ bucket: 'raw', key: 'gone.jsonl', eventTime: '2026-12-03T11:00:00.000Z' }, 'missing');

    expect(await histogram()).toEqual(expect.objectContaining({ count: 0, sum: 0 }));
  });

  it('exports the objective as a gauge and makes it a bucket bound', async () => {
    const { finish, histogram, objective } = telemetryAt(420);

    finish({ bucket: 'raw', key: 'a.jsonl', eventTime: '2026-12-03T11:53:00.000Z' });

    expect(await objective()).toBe(420);
    const { buckets } = await histogram();
    expect([buckets.get('300'), buckets.get('420'), buckets.get('840')]).toEqual([0, 1, 1]);
  });

  it('says how late the file was on its "file processed" line', () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const telemetry = createTelemetry(logger, { defaultMetrics: false, wallClockMs: () => NOW_MS });

    telemetry.fileStarted();
    telemetry.fileFinished({ ref: { bucket: 'raw', key: 'a.jsonl', eventTime: '2026-12-03T11:59:00.500Z' }, outcome: 'succeeded', durationSeconds: 0.1, result: succeeded('a.jsonl') });

    expect(logged.find((line) => line.msg === 'file processed')).toMatchObject({ key: 'a.jsonl', freshnessMs: 59_500 });
  });
});

describe('telemetry: default metrics', () => {
  it('drops the gauges prom-client names like counters and keeps their per-type gauges', async () => {
    const { registry } = createTelemetry(pino({ level: 'silent' }));
    const names = registry.getMetricsAsArray().map((metric) => metric.name);

    expect(names.filter((name) => /^nodejs_active_\w+_total$/.test(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['nodejs_active_handles', 'nodejs_active_requests']));
    expect(await registry.metrics()).toContain('process_cpu_seconds_total');
  });
});
