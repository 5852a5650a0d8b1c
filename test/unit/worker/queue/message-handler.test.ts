import { describe, it, expect } from '@jest/globals';
import type { Message } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { pino } from 'pino';
import { PermanentFileError } from '../../../../worker/errors.ts';
import type { ObjectRef } from '../../../../worker/common/events.ts';
import { emptyTally } from '../../../../worker/records/line-outcomes.ts';
import { createMessageHandler, type MessageHandlerDeps } from '../../../../worker/queue/message-handler.ts';
import { FATE_KINDS } from '../../../../worker/queue/message-fate.ts';
import type { FileResult } from '../../../../worker/process-object.ts';
import { createTelemetry } from '../../../../worker/telemetry.ts';

const POLICY = { backoffBaseSeconds: 10, backoffMaxSeconds: 300 };

function succeeded(ref: ObjectRef): FileResult {
  return {
    outcome: 'succeeded',
    tally: emptyTally(),
    gzip: false,
    bytesRead: 0,
    bytesWritten: { processed: 0, rejected: 0 },
    outputs: { processed: [{ bucket: 'out', key: ref.key, bytes: 0 }], rejected: { bucket: 'out', key: `rejected/${ref.key}`, bytes: 0 } },
  };
}

function messageFor(keys: readonly string[], receiveCount = 1): Message {
  const Records = keys.map((key) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: { key } } }));
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
    retryPolicy: POLICY,
    isDraining: () => false,
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
      detail: 'not_json: the body is not JSON',
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
    const { handle, processed } = setup({ isDraining: () => true });
    await expect(handle(messageFor(['a.jsonl'], 3))).resolves.toStrictEqual(RELEASE);
    expect(processed).toStrictEqual([]);
  });

  it('decides release for a message whose later files would start after draining began', async () => {
    // Prepare
    let draining = false;
    const { handle, processed } = setup({
      limit: pLimit(1),
      isDraining: () => draining,
      processFile: (ref) => {
        processed.push(ref.key);
        draining = true;
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
      processFile: (_, signal) => {
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
});
