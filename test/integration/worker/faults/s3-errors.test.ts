/**
 * S3 misbehaving on a share of requests: the fault proxy picks 20 % of the worker's S3 requests with a
 * seeded PRNG and answers each, in turn, 500 (InternalError), 503 (ServiceUnavailable), late (1.5 s),
 * with a connection reset before forwarding, or with its response cut half-way (a GetObject body cut
 * short, an upload whose answer is lost although S3 stored it). SQS is left alone, so every outcome is
 * the S3 side's. Whatever happens, no output is partial or corrupt: for each file either both outputs
 * equal the expected bytes, or its message is in the DLQ and any output it has is whole.
 */
import { gzipSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mulberry32, generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { createTestStack, receiveAll, waitFor } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import { type Fault, type FaultRule } from '../../../support/fault-proxy.ts';
import { expectedOutputs, objectBytes, processEnvironment, queueCounts, startWorkerProcess } from '../../../support/worker-process.ts';

const SEED = 20_261_125;
const FAULT_SHARE = 0.2;
/**
 * Taken in turn by the faulted requests of each stream, so that each kind occurs once five were faulted.
 * GetObject starts with a cut body: the one fault the SDK cannot retry, which the worker must.
 */
const FAULTS: readonly Fault[] = [
  { kind: 'cut-response', fraction: 0.5 },
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503 },
  { kind: 'delay', ms: 1_500 },
  { kind: 'reset' },
];

const fault = useFaultTest();

/**
 * A seeded share of the S3 requests, faulted in turn with each kind of FAULTS; SQS untouched. Reads and
 * writes draw from streams of their own, so that what reads get does not depend on how they interleave
 * with writes: with this seed the 5th read is faulted, so some GetObject is cut whatever the timing.
 */
function seededS3Faults(seed: number, share: number): FaultRule {
  const streams = {
    read: { random: mulberry32(seed), faulted: 0 },
    write: { random: mulberry32(seed + 1), faulted: 0 },
  };
  return (request) => {
    if (request.service !== 's3') return undefined;
    const stream = request.operation === 'GetObject' ? streams.read : streams.write;
    if (stream.random() >= share) return undefined;
    const fault = FAULTS[stream.faulted % FAULTS.length];
    stream.faulted += 1;
    return fault;
  };
}

/** The object keys an S3 event notification names. */
function eventKeys(body: string): string[] {
  const { Records: records = [] } = JSON.parse(body) as { Records?: Array<{ s3?: { object?: { key?: string } } }> };
  return records.map((record) => decodeURIComponent((record.s3?.object?.key ?? '').replace(/\+/g, ' ')));
}

interface TestFile {
  readonly key: string;
  readonly plain: Buffer;
  readonly gzip: boolean;
}

function testFiles(): TestFile[] {
  // Many small files for many requests, a few larger ones, one with a multipart output (60,000 records).
  const sizes = [...Array.from({ length: 14 }, (_, index) => 200 + index * 150), 8_000, 15_000, 25_000, 60_000];
  const files = sizes.map((records, index): TestFile => {
    const gzip = index % 3 === 2;
    return {
      key: `site-${index % 2}/readings-${String(index).padStart(2, '0')}.jsonl${gzip ? '.gz' : ''}`,
      plain: generateJsonl({ records, devices: 25, seed: SEED + index, malformedRatio: 0.02 }),
      gzip,
    };
  });
  return files;
}

describe('S3 answering 500 / 503 / late / reset / cut on 20 % of requests', () => {
  it('retries with backoff; every file ends with exact outputs or in the DLQ, never partial or corrupt', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const proxy = await fault.startProxy(seededS3Faults(SEED, FAULT_SHARE));
    const worker = await startWorkerProcess(
      processEnvironment(resources, proxy.url, { MAX_FILES_IN_FLIGHT: '4', VISIBILITY_TIMEOUT_SECONDS: '10', RETRY_BACKOFF_BASE_SECONDS: '1' }),
    );
    const files = testFiles();
    await Promise.all(
      files.map((file) =>
        new Upload({
          client: fault.clients.s3,
          params: { Bucket: resources.rawBucket, Key: file.key, Body: file.gzip ? gzipSync(file.plain) : file.plain },
        }).done(),
      ),
    );

    // Settled: each file processed or dead-lettered, and nothing left on the ingest queue.
    const deadLettered = new Set<string>();
    await waitFor(
      async () => {
        for (const body of await receiveAll(fault.clients.sqs, resources.dlqUrl)) {
          for (const key of eventKeys(body)) deadLettered.add(key);
        }
        const unsettled = files.filter((file) => worker.fileLines('file processed', file.key).length === 0 && !deadLettered.has(file.key));
        if (unsettled.length > 0) return undefined;
        const counts = await queueCounts(fault.clients.sqs, resources.queueUrl);
        return counts.visible + counts.inFlight + counts.delayed === 0 ? true : undefined;
      },
      { what: 'every file processed or dead-lettered, and the queue empty', timeoutMs: 60_000, intervalMs: 250 },
    );

    for (const file of files) {
      const expected = expectedOutputs(file.plain);
      const processed = await objectBytes(fault.clients.s3, resources.processedBucket, file.key);
      const rejected = await objectBytes(fault.clients.s3, resources.processedBucket, `rejected/${file.key}`);
      const text = (bytes: Buffer | undefined) => (bytes === undefined ? undefined : (file.gzip ? gunzipSync(bytes) : bytes).toString('utf8'));
      const outputs = { key: file.key, processed: text(processed), rejected: text(rejected) };
      const whole = { key: file.key, processed: expected.processed, rejected: expected.rejected };
      if (deadLettered.has(file.key)) {
        // Dead-lettered: never a partial output. (One whose last write reached S3 although its answer was
        // lost has both outputs whole.)
        expect([{ key: file.key, processed: undefined, rejected: undefined }, whole]).toContainEqual(outputs);
        expect(worker.fileLines('file processed', file.key)).toEqual([]);
      } else {
        expect(outputs).toEqual(whole);
      }
    }
    // Nothing else was written: no stray or half-named object.
    const { Contents: stored = [] } = await fault.clients.s3.send(new ListObjectsV2Command({ Bucket: resources.processedBucket }));
    const allowed = new Set(files.flatMap((file) => [file.key, `rejected/${file.key}`]));
    expect(stored.map((object) => object.Key).filter((key) => !allowed.has(key ?? ''))).toEqual([]);

    // The faults did happen, of every kind; a cut read is never taken for the end of the file: each one
    // failed its attempt (the SDK cannot retry a body already handed over), and the worker retried it.
    const s3Requests = proxy.requests.filter((request) => request.service === 's3');
    const faulted = s3Requests.filter((request) => request.fault !== undefined);
    expect(faulted.length).toBeGreaterThanOrEqual(2 * FAULTS.length);
    expect([...new Set(faulted.map((request) => request.fault))].sort()).toEqual(['cut-response', 'delay', 'reset', 'status']);
    expect(proxy.requests.filter((request) => request.service === 'sqs' && request.fault !== undefined)).toEqual([]);
    const cutReads = faulted.filter((request) => request.operation === 'GetObject' && request.fault === 'cut-response');
    expect(cutReads.length).toBeGreaterThan(0);
    for (const file of files) {
      const cuts = cutReads.filter((request) => request.key === file.key).length;
      const failed = worker.fileLines('file failed', file.key);
      expect({ key: file.key, failedAttempts: failed.length >= cuts }).toEqual({ key: file.key, failedAttempts: true });
      expect(failed.filter((line) => line['outcome'] !== 'failed_transient')).toEqual([]);
    }
    const tally = new Map<string, number>();
    for (const request of faulted) tally.set(`${request.operation} ${request.fault}`, (tally.get(`${request.operation} ${request.fault}`) ?? 0) + 1);
    const failedAttempts = files.flatMap((file) => worker.fileLines('file failed', file.key)).length;
    process.stdout.write(
      `faults-s3-errors: ${s3Requests.length} S3 requests, ${faulted.length} faulted (${[...tally].map(([what, count]) => `${what} ×${count}`).join(', ')}); ` +
        `${failedAttempts} failed attempts; dead-lettered: ${[...deadLettered].join(', ') || 'none'}\n`,
    );
  }, 85_000);
});
