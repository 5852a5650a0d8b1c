import { describe, it, expect } from '@jest/globals';
import type { Message } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { pino } from 'pino';
import { PermanentFileError, TransientFileError } from '../../../../worker/errors.ts';
import type { ObjectRef } from '../../../../worker/common/events.ts';
import { createMessageHandler, type MessageHandlerDeps } from '../../../../worker/queue/message-handler.ts';
import { ByteBudget } from '../../../../worker/queue/byte-budget.ts';
import { FileLoad } from '../../../../worker/queue/file-load.ts';
import { FATE_KINDS } from '../../../../worker/queue/message-fate.ts';
import type { FileResult } from '../../../../worker/process-object.ts';
import { createTelemetry } from '../../../../worker/telemetry.ts';
import { emptySucceededFile } from '../../../support/file-results.ts';
import { parseSources, sourceOf, type Source } from '../../../../worker/sources.ts';

const POLICY = { backoffBaseSeconds: 10, backoffMaxSeconds: 300 };

function succeeded(ref: ObjectRef): FileResult {
  return emptySucceededFile(ref.key);
}

function messageFor(keys: readonly string[], receiveCount = 1, size?: number): Message {
  const object = (key: string) => (size === undefined ? { key } : { key, size });
  const Records = keys.map((key) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: object(key) } }));
  return { MessageId: 'm-1', Body: JSON.stringify({ Records }), Attributes: { ApproximateReceiveCount: String(receiveCount) } };
}

function setup(overrides: Partial<MessageHandlerDeps> = {}) {
  const processed: string[] = [];
  const deps: MessageHandlerDeps = {
    telemetry: createTelemetry(pino({ level: 'silent' }), { defaultMetrics: false }),
    processFile: (ref) => {
      processed.push(ref.key);
      return Promise.resolve(succeeded(ref));
    },
    limit: pLimit(4),
    reserveMemory: () => Promise.resolve({ bytes: 0, release: () => undefined }),
    load: new FileLoad(),
    retryPolicy: POLICY,
    maxReceiveCount: undefined,
    drainSignal: new AbortController().signal,
    releaseSignal: new AbortController().signal,
    nowMs: () => 0,
    ...overrides,
  };
  return { handle: createMessageHandler(deps), processed };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const DELETE = { kind: FATE_KINDS.delete };
const RELEASE = { kind: FATE_KINDS.release };

describe('createMessageHandler', () => {
  it('decides delete once every file succeeded', async () => {
    // Prepare
    const { handle, processed } = setup();
    // Act
    const fate = await handle(messageFor(['a.jsonl', 'b.jsonl']));
    // Assess
    expect(fate).toStrictEqual(DELETE);
    expect(processed).toStrictEqual(['a.jsonl', 'b.jsonl']);
  });

  it('decides delete for an s3:TestEvent without processing anything, and logs it', async () => {
    // Prepare
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const { handle, processed } = setup({ telemetry: createTelemetry(logger, { defaultMetrics: false }) });
    // Act
    const fate = await handle({ MessageId: 't', Body: JSON.stringify({ Event: 's3:TestEvent', Bucket: 'raw' }) });
    // Assess
    expect(fate).toStrictEqual(DELETE);
    expect(processed).toStrictEqual([]);
    expect(logged.find((line) => line.msg === 'message acknowledged without work')).toMatchObject({ messageId: 't', kind: 'test_event' });
  });

  it('decides dead-letter, with its reason, for a poison message', async () => {
    const { handle } = setup();
    await expect(handle({ MessageId: 'p', Body: 'not json' })).resolves.toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: 'not_json',
      detail: 'the body is not JSON',
    });
  });

  it('decides dead-letter for a message whose file fails permanently', async () => {
    const { handle } = setup({
      processFile: () => Promise.reject(new PermanentFileError('corrupt_gzip', 'a.jsonl.gz is not gzip')),
    });
    await expect(handle(messageFor(['a.jsonl.gz']))).resolves.toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: 'corrupt_gzip',
      detail: 'a.jsonl.gz is not gzip',
    });
  });

  it.each([
    [1, 10],
    [2, 20],
    [3, 40],
    [9, 300],
  ])('decides retry for a transient failure on receive %d, after %d s', async (receiveCount, afterSeconds) => {
    const failure = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const { handle } = setup({ processFile: () => Promise.reject(failure) });
    await expect(handle(messageFor(['a.jsonl'], receiveCount))).resolves.toStrictEqual({
      kind: FATE_KINDS.retry,
      afterSeconds,
      receiveCount,
      error: 'SlowDown: Please reduce your request rate.',
    });
  });

  it.each([
    [2, { kind: FATE_KINDS.retry, afterSeconds: 20, receiveCount: 2, error: 'SlowDown: Please reduce your request rate.' }],
    [
      3,
      {
        kind: FATE_KINDS.deadLetter,
        reason: 'retries_exhausted',
        detail: 'failed transiently on receive 3 of 3: SlowDown: Please reduce your request rate.',
      },
    ],
  ])('with maxReceiveCount 3, decides for a transient failure on receive %d: %j', async (receiveCount, expected) => {
    // Prepare
    const failure = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const { handle } = setup({ processFile: () => Promise.reject(failure), maxReceiveCount: 3 });
    // Act
    const fate = await handle(messageFor(['a.jsonl'], receiveCount));
    // Assess
    expect(fate).toStrictEqual(expected);
  });

  it('decides retry, not dead-letter, for a message with one permanent and one transient failure', async () => {
    const transient = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { handle } = setup({
      processFile: (ref) => Promise.reject(ref.key === 'bad.gz' ? new PermanentFileError('corrupt_gzip', 'bad.gz is not gzip') : transient),
    });
    await expect(handle(messageFor(['bad.gz', 'flaky.jsonl'], 2))).resolves.toMatchObject({ kind: FATE_KINDS.retry, afterSeconds: 20 });
  });

  it('decides dead-letter at once, with the stack in the log, for a file failing with an error nobody classified', async () => {
    // Prepare
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const bug = new RangeError('Maximum call stack size exceeded');
    const { handle } = setup({
      telemetry: createTelemetry(logger, { defaultMetrics: false }),
      processFile: () => Promise.reject(bug),
    });
    // Act
    const fate = await handle(messageFor(['a.jsonl'], 1));
    // Assess
    expect(fate).toStrictEqual({ kind: FATE_KINDS.deadLetter, reason: 'unexpected_error', detail: 'RangeError: Maximum call stack size exceeded' });
    const failed = logged.find((line) => line.msg === 'file failed');
    expect(failed).toMatchObject({ outcome: 'failed_permanent', err: 'RangeError: Maximum call stack size exceeded', stack: bug.stack });
  });

  it('decides release without processing when draining', async () => {
    const { handle, processed } = setup({ drainSignal: AbortSignal.abort() });
    await expect(handle(messageFor(['a.jsonl'], 3))).resolves.toStrictEqual(RELEASE);
    expect(processed).toStrictEqual([]);
  });

  it('decides release for a message whose later files would start after draining began', async () => {
    // Prepare
    const drain = new AbortController();
    const { handle, processed } = setup({
      limit: pLimit(1),
      drainSignal: drain.signal,
      processFile: (ref) => {
        processed.push(ref.key);
        drain.abort();
        return Promise.resolve(succeeded(ref));
      },
    });
    // Act
    const fate = await handle(messageFor(['a.jsonl', 'b.jsonl'], 3));
    // Assess
    expect(fate).toStrictEqual(RELEASE);
    expect(processed).toStrictEqual(['a.jsonl']);
  });

  it('decides release, logging the file as released, when the grace period ends during a file', async () => {
    // Prepare
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const release = new AbortController();
    const { handle } = setup({
      telemetry: createTelemetry(logger, { defaultMetrics: false }),
      releaseSignal: release.signal,
      processFile: (_, _source, signal) => {
        release.abort(new Error('shutdown grace period over'));
        return Promise.reject(signal.reason as Error);
      },
    });
    // Act
    const fate = await handle(messageFor(['a.jsonl']));
    // Assess
    expect(fate).toStrictEqual(RELEASE);
    expect(logged.find((line) => line.msg === 'file failed')).toMatchObject({ outcome: 'released', err: 'Error: shutdown grace period over' });
  });

  it('never runs more files at once than the limit allows', async () => {
    // Prepare
    const gates: Array<() => void> = [];
    let active = 0;
    let started = 0;
    const { handle } = setup({
      limit: pLimit(2),
      processFile: (ref) => {
        active += 1;
        started += 1;
        return new Promise<FileResult>((resolve) =>
          gates.push(() => {
            active -= 1;
            resolve(succeeded(ref));
          }),
        );
      },
    });
    // Act
    const handled = handle(messageFor(['1', '2', '3', '4', '5']));
    const activeSeen: number[] = [];
    for (let finished = 0; finished < 5; finished += 1) {
      await flush();
      activeSeen.push(active);
      gates.shift()?.();
    }
    // Assess
    await expect(handled).resolves.toStrictEqual(DELETE);
    expect(activeSeen).toStrictEqual([2, 2, 2, 2, 1]);
    expect(started).toBe(5);
  });

  describe('with a byte budget', () => {
    /** Each file reserves its size from a budget of `capacityBytes`. */
    function budgeted(capacityBytes: number) {
      const budget = new ByteBudget(capacityBytes);
      const reserveMemory: MessageHandlerDeps['reserveMemory'] = (ref, signal) => budget.acquire(ref.size ?? capacityBytes, signal);
      return { budget, reserveMemory };
    }

    /** A processFile whose files each wait until the test opens their gate. */
    function gatedFiles() {
      const gates = new Map<string, () => void>();
      const started: string[] = [];
      const processFile = (ref: ObjectRef) => {
        started.push(ref.key);
        return new Promise<FileResult>((resolve) => gates.set(ref.key, () => resolve(succeeded(ref))));
      };
      return { processFile, started, open: (key: string) => gates.get(key)?.() };
    }

    it('starts a file only once the memory it reserves is free, and counts only running files as in flight', async () => {
      // Prepare
      const { budget, reserveMemory } = budgeted(10);
      const files = gatedFiles();
      const load = new FileLoad();
      const { handle } = setup({ reserveMemory, load, processFile: files.processFile });
      // Act
      const first = handle(messageFor(['a'], 1, 6));
      const second = handle(messageFor(['b'], 1, 6));
      await flush();
      const startedWhileAHeldTheMemory = [...files.started];
      files.open('a');
      await first;
      await flush();
      files.open('b');
      // Assess
      await expect(second).resolves.toStrictEqual(DELETE);
      expect(startedWhileAHeldTheMemory).toStrictEqual(['a']);
      expect(files.started).toStrictEqual(['a', 'b']);
      expect(load.takeWindow()).toMatchObject({ filesFinished: 2, peakFilesRunning: 1 });
      expect(budget.reservedBytes).toBe(0);
    });

    it('gives the memory back when a file fails, so the next one starts', async () => {
      // Prepare
      const { budget, reserveMemory } = budgeted(10);
      const transient = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      const processed: string[] = [];
      const { handle } = setup({
        reserveMemory,
        processFile: (ref) => {
          processed.push(ref.key);
          return ref.key === 'a' ? Promise.reject(transient) : Promise.resolve(succeeded(ref));
        },
      });
      // Act
      const fates = await Promise.all([handle(messageFor(['a'], 1, 6)), handle(messageFor(['b'], 1, 6))]);
      // Assess
      expect(fates.map((fate) => fate.kind)).toStrictEqual([FATE_KINDS.retry, FATE_KINDS.delete]);
      expect(processed).toStrictEqual(['a', 'b']);
      expect(budget.reservedBytes).toBe(0);
    });

    it('releases a message whose file still waited for memory when the grace period ended, without starting it', async () => {
      // Prepare
      const { budget, reserveMemory } = budgeted(10);
      const files = gatedFiles();
      const release = new AbortController();
      const { handle } = setup({ reserveMemory, releaseSignal: release.signal, processFile: files.processFile });
      const running = handle(messageFor(['a'], 1, 6));
      const waiting = handle(messageFor(['b'], 1, 6));
      await flush();
      // Act
      release.abort(new Error('shutdown grace period over'));
      // Assess
      await expect(waiting).resolves.toStrictEqual(RELEASE);
      expect(files.started).toStrictEqual(['a']);
      expect(budget.waiting).toBe(0);
      files.open('a');
      await running;
      expect(budget.reservedBytes).toBe(0);
    });

    it.each([
      ['a slot', { limit: pLimit(1), size: 1 }],
      ['memory', { limit: pLimit(4), size: 6 }],
    ] as const)('gives a message back at once when shutdown begins while its file waits for %s', async (_what, { limit, size }) => {
      // Prepare
      const { reserveMemory } = budgeted(10);
      const files = gatedFiles();
      const drain = new AbortController();
      const { handle } = setup({ limit, reserveMemory, drainSignal: drain.signal, processFile: files.processFile });
      const running = handle(messageFor(['a'], 1, 6));
      const waiting = handle(messageFor(['b'], 1, size));
      await flush();
      // Act
      drain.abort();
      // Assess: released while the file before it still runs
      await expect(waiting).resolves.toStrictEqual(RELEASE);
      expect(files.started).toStrictEqual(['a']);
      files.open('a');
      await expect(running).resolves.toStrictEqual(DELETE);
    });

    it('does not start a file that got its memory after shutdown began', async () => {
      // Prepare
      const { reserveMemory } = budgeted(10);
      const files = gatedFiles();
      const drain = new AbortController();
      const { handle } = setup({ reserveMemory, drainSignal: drain.signal, processFile: files.processFile });
      const running = handle(messageFor(['a'], 1, 6));
      const waiting = handle(messageFor(['b'], 1, 6));
      await flush();
      // Act
      drain.abort();
      files.open('a');
      // Assess
      await expect(running).resolves.toStrictEqual(DELETE);
      await expect(waiting).resolves.toStrictEqual(RELEASE);
      expect(files.started).toStrictEqual(['a']);
    });
  });

  it('reports each file to the load the adaptive bound samples: durations of files done, transient failures apart', async () => {
    // Prepare
    let now = 0;
    const load = new FileLoad();
    const gates: Array<() => void> = [];
    const transient = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const { handle } = setup({
      load,
      nowMs: () => now,
      processFile: (ref) =>
        ref.key === 'throttled' ? Promise.reject(transient) : new Promise<FileResult>((resolve) => gates.push(() => resolve(succeeded(ref)))),
    });
    // Act
    const handled = handle(messageFor(['slow', 'throttled']));
    await flush();
    now = 2_000;
    gates.shift()?.();
    await handled;
    // Assess
    expect(load.takeWindow()).toStrictEqual({ filesFinished: 1, meanFileSeconds: 2, transientFailures: 1, peakFilesRunning: 2 });
    expect(load.filesRunning).toBe(0);
  });

  describe('after success', () => {
    it('acknowledges, without processing, an object the move mode archived, and counts it ignored', async () => {
      // Prepare
      const telemetry = createTelemetry(pino({ level: 'silent' }), { defaultMetrics: false });
      const { handle, processed } = setup({ telemetry, isArchiveCopy: (ref) => ref.key.startsWith('archive/') });
      // Act
      const fate = await handle(messageFor(['archive/a.jsonl']));
      // Assess
      expect(fate).toStrictEqual(DELETE);
      expect(processed).toStrictEqual([]);
      const ignored = await telemetry.registry.getSingleMetric('iot_ingest_messages_ignored_total')?.get();
      expect(ignored?.values.find((value) => value.labels.kind === 'archive_copy')?.value).toBe(1);
    });

    it('processes the other objects of a message that also names an archived one', async () => {
      const { handle, processed } = setup({ isArchiveCopy: (ref) => ref.key.startsWith('archive/') });

      await expect(handle(messageFor(['archive/a.jsonl', 'b.jsonl']))).resolves.toStrictEqual(DELETE);
      expect(processed).toStrictEqual(['b.jsonl']);
    });

    it('runs after the outputs with the version read, and a transient failure there retries the message while the file stays counted as succeeded', async () => {
      // Prepare
      const telemetry = createTelemetry(pino({ level: 'silent' }), { defaultMetrics: false });
      const seen: string[] = [];
      const { handle } = setup({
        telemetry,
        processFile: (ref) => Promise.resolve({ ...succeeded(ref), source: { bucket: 'raw', key: ref.key, eTag: 'e-read', versionId: 'v-read' } }),
        afterSuccess: (file) => {
          seen.push(`${file.source.key} ${file.source.versionId} ${file.source.eTag}`);
          return Promise.reject(new TransientFileError('publish failed'));
        },
      });
      // Act
      const fate = await handle(messageFor(['a.jsonl']));
      // Assess
      expect(seen).toStrictEqual(['a.jsonl v-read e-read']);
      expect(fate).toMatchObject({ kind: FATE_KINDS.retry, error: 'TransientFileError: publish failed' });
      const files = await telemetry.registry.getSingleMetric('iot_ingest_files_total')?.get();
      expect(files?.values.find((value) => value.labels.outcome === 'succeeded')?.value).toBe(1);
    });
  });
  describe('with SOURCES', () => {
    const SOURCES = parseSources(
      JSON.stringify([
        { bucket: 'raw', prefix: 'east/', outputPrefix: 'e/', expectedBucketOwner: '111122223333' },
        { bucket: 'raw', prefix: 'east/old/', outputPrefix: 'e-old/' },
      ]),
    );
    const sourceOfRef = (ref: ObjectRef) => sourceOf(SOURCES, ref.bucket, ref.key);

    it('hands each object its source, the longest listed prefix of its key', async () => {
      const seen: Array<[string, Source]> = [];
      const { handle } = setup({
        sourceOf: sourceOfRef,
        processFile: (ref, source) => {
          seen.push([ref.key, source]);
          return Promise.resolve(succeeded(ref));
        },
      });

      await expect(handle(messageFor(['east/a.jsonl', 'east/old/b.jsonl']))).resolves.toStrictEqual(DELETE);
      expect(seen).toStrictEqual([
        ['east/a.jsonl', SOURCES[0]],
        ['east/old/b.jsonl', SOURCES[1]],
      ]);
    });

    it('dead-letters, as unknown_source, an object in no source, without reserving memory or reading it; the others are processed', async () => {
      let reservations = 0;
      const { handle, processed } = setup({
        sourceOf: sourceOfRef,
        reserveMemory: () => {
          reservations += 1;
          return Promise.resolve({ bytes: 0, release: () => undefined });
        },
      });

      const fate = await handle(messageFor(['west/a.jsonl', 'east/b.jsonl']));

      expect(fate).toStrictEqual({
        kind: FATE_KINDS.deadLetter,
        reason: 'unknown_source',
        detail: 's3://raw/west/a.jsonl is not in SOURCES: no source lists the bucket raw with a prefix of the key',
      });
      expect(processed).toStrictEqual(['east/b.jsonl']);
      expect(reservations).toBe(1);
    });

    it("gives the after-success steps the source's expected bucket owner, and none when it has none", async () => {
      const owners: Array<string | undefined> = [];
      const { handle } = setup({
        sourceOf: sourceOfRef,
        processFile: (ref) => Promise.resolve({ ...succeeded(ref), source: { bucket: 'raw', key: ref.key, eTag: 'e' } }),
        afterSuccess: (file) => {
          owners.push(file.expectedBucketOwner);
          return Promise.resolve();
        },
      });

      await expect(handle(messageFor(['east/a.jsonl']))).resolves.toStrictEqual(DELETE);
      await expect(handle(messageFor(['east/old/b.jsonl']))).resolves.toStrictEqual(DELETE);
      expect(owners).toStrictEqual(['111122223333', undefined]);
    });

    it('without SOURCES, gives every object its whole bucket as its source', async () => {
      const seen: Source[] = [];
      const { handle } = setup({
        processFile: (ref, source) => {
          seen.push(source);
          return Promise.resolve(succeeded(ref));
        },
      });

      await expect(handle(messageFor(['any/where.jsonl']))).resolves.toStrictEqual(DELETE);
      expect(seen).toStrictEqual([{ bucket: 'raw', prefix: '', outputPrefix: '' }]);
    });
  });
});
