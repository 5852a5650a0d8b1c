/**
 * The worker as a running service: its bound on files in flight, its HTTP endpoints and metrics,
 * and how it stops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import { readObjectText, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker, type TestWorker } from '../../support/worker-harness.ts';

const running: Array<{ stop(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.stop()));
});

async function setUp(env: Record<string, string> = {}, prepareS3?: (s3: S3Client) => void): Promise<StackWithWorker> {
  const pipeline = await startStackWithWorker({ maxReceiveCount: 5, env, prepareS3 });
  running.push(pipeline);
  return pipeline;
}

/** Slows every GetObject down so that files overlap, and samples the files-in-flight gauge as each starts. */
function slowGetObject(delayMs: number, onGet: () => void) {
  return (s3: S3Client) => {
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') {
          onGet();
          await sleep(delayMs);
        }
        return next(args);
      },
      { step: 'initialize', name: 'slowGetObject' },
    );
  };
}

async function queueCounts(clients: AwsClients, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
  return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

const RECORD = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';

describe('files in flight', () => {
  it('never has more files in flight than MAX_FILES_IN_FLIGHT, and uses all of them', async () => {
    const samples: number[] = [];
    const seen: { harness?: TestWorker } = {};
    const { clients, resources, harness } = await setUp(
      { MAX_FILES_IN_FLIGHT: '3' },
      slowGetObject(300, () => {
        void seen.harness?.metric('iot_ingest_files_in_flight').then((value) => samples.push(value));
      }),
    );
    seen.harness = harness;

    const keys = Array.from({ length: 9 }, (_, index) => `bound/${index}.jsonl`);
    await Promise.all(keys.map((key) => clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: RECORD }))));
    await waitFor(() => Promise.resolve(harness.reports.length >= keys.length ? true : undefined), { what: 'all nine files', timeoutMs: 20_000 });

    expect(harness.reports.map((report) => report.outcome)).toEqual(Array(9).fill('succeeded'));
    expect(Math.max(...samples)).toBe(3);
  });

  it('lets a fast file through while a slow one holds its slot', async () => {
    const { clients, resources, harness } = await setUp(
      { MAX_FILES_IN_FLIGHT: '2' },
      (s3) => {
        s3.middlewareStack.add(
          (next, context) => async (args) => {
            const input = args.input as { Key?: string };
            if (context.commandName === 'GetObjectCommand' && input.Key === 'slow.jsonl') await sleep(3_000);
            return next(args);
          },
          { step: 'initialize', name: 'slowOne' },
        );
      },
    );

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'slow.jsonl', Body: RECORD }));
    await sleep(200);
    for (const key of ['fast-1.jsonl', 'fast-2.jsonl', 'fast-3.jsonl']) {
      await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: RECORD }));
    }
    await harness.waitForReport((report) => report.ref.key === 'slow.jsonl', 'the slow file');

    expect(harness.reports.map((report) => report.ref.key)).toEqual(['fast-1.jsonl', 'fast-2.jsonl', 'fast-3.jsonl', 'slow.jsonl']);
  });
});

describe('visibility', () => {
  it('keeps extending the visibility of a file that outlasts the visibility timeout, so it is delivered once', async () => {
    const { clients, resources, harness } = await setUp(
      { VISIBILITY_TIMEOUT_SECONDS: '2', HEARTBEAT_INTERVAL_SECONDS: '1', MAX_FILES_IN_FLIGHT: '2' },
      slowGetObject(5_000, () => undefined),
    );

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'long.jsonl', Body: RECORD }));
    await harness.waitForReport((report) => report.ref.key === 'long.jsonl', 'the long file');
    await sleep(2_500);

    expect(harness.reports.map((report) => [report.ref.key, report.outcome])).toEqual([['long.jsonl', 'succeeded']]);
    expect(await harness.metric('iot_ingest_messages_received_total')).toBe(2);
    expect(await queueCounts(clients, resources.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('HTTP endpoints', () => {
  it('answers /healthz, /readyz and /metrics, whose counters match what was processed', async () => {
    const { clients, resources, harness } = await setUp();
    const body = [RECORD, '{"device_id":"sensor-beta","temperature":3,"humidity":40}', 'oops', ''].join('\n');

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'metrics.jsonl', Body: body }));
    await harness.waitForReport((report) => report.ref.key === 'metrics.jsonl', 'the file');
    const base = harness.worker.httpAddress;
    const health = await fetch(`${base}/healthz`);
    const ready = await fetch(`${base}/readyz`);
    const metrics = await (await fetch(`${base}/metrics`)).text();

    expect(health.status).toBe(200);
    expect(ready.status).toBe(200);
    expect(metrics).toContain('iot_ingest_records_total{outcome="processed"} 1\n');
    expect(metrics).toContain('iot_ingest_records_total{outcome="filtered"} 1\n');
    expect(metrics).toContain('iot_ingest_records_total{outcome="rejected"} 1\n');
    expect(metrics).toContain('iot_ingest_records_rejected_total{reason="invalid_json"} 1\n');
    expect(metrics).toContain('iot_ingest_files_total{outcome="succeeded"} 1\n');
    expect(metrics).toContain(`iot_ingest_read_bytes_total ${Buffer.byteLength(body)}\n`);
    expect(metrics).toMatch(/\niot_ingest_written_bytes_total\{output="processed"\} [1-9]\d*\n/);
    expect(metrics).toContain('iot_ingest_file_duration_seconds_count{outcome="succeeded"} 1\n');
    expect(metrics).toContain('iot_ingest_files_in_flight 0\n');
    expect(metrics).toMatch(/iot_ingest_last_success_timestamp_seconds \d{10}/);
    expect(metrics).toContain('process_cpu_seconds_total');
    expect((await fetch(`${base}/anything-else`)).status).toBe(404);
  });

  it('reports the depth of the ingest queue and of the DLQ as gauges', async () => {
    const { clients, resources, harness } = await setUp({ QUEUE_METRICS_INTERVAL_SECONDS: '1' });

    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.dlqUrl, MessageBody: 'left for an operator' }));
    // The ingest queue's s3:TestEvent is consumed meanwhile, so its gauge settles at 0.
    const depths = await waitFor(
      async () => {
        const deadLetter = await harness.metric('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'visible' });
        const ingest = await harness.metric('iot_ingest_queue_messages', { queue: 'ingest', state: 'visible' });
        return deadLetter === 1 && ingest === 0 ? { deadLetter, ingest } : undefined;
      },
      { what: 'the DLQ gauge at one message and the ingest gauge at none', timeoutMs: 10_000 },
    );

    expect(depths).toEqual({ deadLetter: 1, ingest: 0 });
  });

  it('logs one line per file with its key, counts, bytes and duration', async () => {
    const { clients, resources, harness } = await setUp();

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'logged.jsonl', Body: RECORD }));
    await harness.waitForReport((report) => report.ref.key === 'logged.jsonl', 'the file');

    const lines = harness.logLines().filter((line) => line.msg === 'file processed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      key: 'logged.jsonl',
      outcome: 'succeeded',
      records: { processed: 1, filtered: 0, rejected: 0 },
      bytesRead: RECORD.length,
    });
    expect(typeof lines[0]?.durationMs).toBe('number');
  });
});

describe('stopping', () => {
  it('finishes the file in flight within the grace period, deletes its message, and answers /readyz 503 meanwhile', async () => {
    const { clients, resources, harness } = await setUp({ SHUTDOWN_GRACE_SECONDS: '10' }, slowGetObject(1_500, () => undefined));
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'draining.jsonl', Body: RECORD }));
    await waitFor(async () => ((await harness.metric('iot_ingest_files_in_flight')) === 1 ? true : undefined), { what: 'the file to start' });

    const stopping = harness.worker.stop();
    const readyWhileDraining = await fetch(`${harness.worker.httpAddress}/readyz`);
    await stopping;

    expect(readyWhileDraining.status).toBe(503);
    expect(await readyWhileDraining.json()).toEqual({ status: 'not_ready', reason: 'draining: shutting down' });
    expect(harness.reports.map((report) => report.outcome)).toEqual(['succeeded']);
    expect(await readObjectText(clients.s3, resources.processedBucket, 'draining.jsonl')).toContain('sensor-alpha');
    expect(await queueCounts(clients, resources.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('releases a file still running when the grace period ends, so another worker can take it at once', async () => {
    const { clients, resources, harness } = await setUp({ SHUTDOWN_GRACE_SECONDS: '0' }, slowGetObject(2_000, () => undefined));
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'released.jsonl', Body: RECORD }));
    await waitFor(async () => ((await harness.metric('iot_ingest_files_in_flight')) === 1 ? true : undefined), { what: 'the file to start' });

    await harness.worker.stop();

    expect(harness.reports.map((report) => report.outcome)).toEqual(['released']);
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'release' })).toBe(1);
    expect(await queueCounts(clients, resources.queueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(await readObjectText(clients.s3, resources.processedBucket, 'released.jsonl')).toBeUndefined();
  });
});
