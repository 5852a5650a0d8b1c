import { describe, it, expect } from '@jest/globals';
import type { Message } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { pino } from 'pino';
import { PermanentFileError } from '../../../../worker/errors.ts';
import type { ObjectRef } from '../../../../worker/common/events.ts';
import { emptyTally } from '../../../../worker/records/line-outcomes.ts';
import { createMessageHandler, receiveCountOf, retryDelaySeconds, type MessageHandlerDeps } from '../../../../worker/queue/message-handler.ts';
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
  const deadLettered: Array<{ messageId: string | undefined; reason: string; detail: string }> = [];
  const processed: string[] = [];
  const deps: MessageHandlerDeps = {
    telemetry: createTelemetry(pino({ level: 'silent' }), { defaultMetrics: false }),
    processFile: (ref) => {
      processed.push(ref.key);
      return Promise.resolve(succeeded(ref));
    },
    limit: pLimit(4),
    deadLetter: (message, reason, detail) => {
      deadLettered.push({ messageId: message.MessageId, reason, detail });
      return Promise.resolve();
    },
    retryPolicy: POLICY,
    isDraining: () => false,
    releaseSignal: new AbortController().signal,
    nowMs: () => 0,
    ...overrides,
  };
  return { handler: createMessageHandler(deps), deadLettered, processed };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('retryDelaySeconds', () => {
  it.each([
    [0, 10],
    [1, 10],
    [2, 20],
    [3, 40],
    [5, 160],
    [6, 300],
    [1000, 300],
  ])('waits base × 2^(receives − 1), capped: receive %d → %d s', (receiveCount, seconds) => {
    expect(retryDelaySeconds(receiveCount, POLICY)).toBe(seconds);
  });

  it('is 0 with a base of 0', () => {
    expect(retryDelaySeconds(5, { backoffBaseSeconds: 0, backoffMaxSeconds: 300 })).toBe(0);
  });
});

describe('receiveCountOf', () => {
  it.each([
    [undefined, 1],
    ['abc', 1],
    ['0', 1],
    ['3', 3],
  ])('reads ApproximateReceiveCount %j as %d', (count, expected) => {
    expect(receiveCountOf({ Attributes: count === undefined ? {} : { ApproximateReceiveCount: count } })).toBe(expected);
  });
});

describe('createMessageHandler', () => {
  it('returns the message (to delete it) once every file succeeded', async () => {
    const { handler, processed, deadLettered } = setup();
    const message = messageFor(['a.jsonl', 'b.jsonl']);
    await expect(handler.handle(message)).resolves.toBe(message);
    expect(processed).toStrictEqual(['a.jsonl', 'b.jsonl']);
    expect(deadLettered).toStrictEqual([]);
  });

  it('returns an s3:TestEvent message without processing anything', async () => {
    const { handler, processed } = setup();
    const message: Message = { MessageId: 't', Body: JSON.stringify({ Event: 's3:TestEvent', Bucket: 'raw' }) };
    await expect(handler.handle(message)).resolves.toBe(message);
    expect(processed).toStrictEqual([]);
  });

  it('dead-letters a poison message with its reason and returns it', async () => {
    const { handler, deadLettered } = setup();
    const message: Message = { MessageId: 'p', Body: 'not json' };
    await expect(handler.handle(message)).resolves.toBe(message);
    expect(deadLettered).toStrictEqual([{ messageId: 'p', reason: 'not_json', detail: 'not_json: the body is not JSON' }]);
  });

  it('dead-letters a message whose file fails permanently', async () => {
    const { handler, deadLettered } = setup({
      processFile: () => Promise.reject(new PermanentFileError('corrupt_gzip', 'a.jsonl.gz is not gzip')),
    });
    const message = messageFor(['a.jsonl.gz']);
    await expect(handler.handle(message)).resolves.toBe(message);
    expect(deadLettered).toStrictEqual([{ messageId: 'm-1', reason: 'corrupt_gzip', detail: 'a.jsonl.gz is not gzip' }]);
  });

  it.each([
    [1, 10],
    [2, 20],
    [3, 40],
    [9, 300],
  ])('rethrows a transient failure on receive %d and asks for %d s of visibility', async (receiveCount, seconds) => {
    const failure = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const { handler, deadLettered } = setup({ processFile: () => Promise.reject(failure) });
    const message = messageFor(['a.jsonl'], receiveCount);
    await expect(handler.handle(message)).rejects.toBe(failure);
    expect(handler.visibilityAfterFailure(message)).toBe(seconds);
    expect(deadLettered).toStrictEqual([]);
  });

  it('retries, not dead-letters, a message with one permanent and one transient failure', async () => {
    const transient = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { handler, deadLettered } = setup({
      processFile: (ref) =>
        Promise.reject(ref.key === 'bad.gz' ? new PermanentFileError('corrupt_gzip', 'bad.gz is not gzip') : transient),
    });
    const message = messageFor(['bad.gz', 'flaky.jsonl'], 2);
    await expect(handler.handle(message)).rejects.toBe(transient);
    expect(deadLettered).toStrictEqual([]);
    expect(handler.visibilityAfterFailure(message)).toBe(20);
  });

  it('dead-letters at once, with the stack in the log, a message whose file fails with an error nobody classified', async () => {
    // Prepare
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const bug = new RangeError('Maximum call stack size exceeded');
    const { handler, deadLettered } = setup({
      telemetry: createTelemetry(logger, { defaultMetrics: false }),
      processFile: () => Promise.reject(bug),
    });
    const message = messageFor(['a.jsonl'], 1);
    // Act
    await expect(handler.handle(message)).resolves.toBe(message);
    // Assess
    expect(deadLettered).toStrictEqual([{ messageId: 'm-1', reason: 'unexpected_error', detail: 'RangeError: Maximum call stack size exceeded' }]);
    const failed = logged.find((line) => line.msg === 'file failed');
    expect(failed).toMatchObject({ outcome: 'failed_permanent', err: 'RangeError: Maximum call stack size exceeded', stack: bug.stack });
  });

  it('releases a message at once (visibility 0) without processing when draining', async () => {
    const { handler, processed, deadLettered } = setup({ isDraining: () => true });
    const message = messageFor(['a.jsonl'], 3);
    await expect(handler.handle(message)).rejects.toThrow('message m-1 released');
    expect(handler.visibilityAfterFailure(message)).toBe(0);
    expect(processed).toStrictEqual([]);
    expect(deadLettered).toStrictEqual([]);
  });

  it('releases a message whose later files would start after draining began', async () => {
    let draining = false;
    const { handler } = setup({
      limit: pLimit(1),
      isDraining: () => draining,
      processFile: (ref) => {
        draining = true;
        return Promise.resolve(succeeded(ref));
      },
    });
    const message = messageFor(['a.jsonl', 'b.jsonl'], 3);
    await expect(handler.handle(message)).rejects.toThrow('message m-1 released');
    expect(handler.visibilityAfterFailure(message)).toBe(0);
  });

  it('never runs more files at once than the limit allows', async () => {
    // Prepare
    const gates: Array<() => void> = [];
    let active = 0;
    let started = 0;
    const { handler } = setup({
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
    const message = messageFor(['1', '2', '3', '4', '5']);
    // Act
    const handled = handler.handle(message);
    const activeSeen: number[] = [];
    for (let finished = 0; finished < 5; finished += 1) {
      await flush();
      activeSeen.push(active);
      gates.shift()?.();
    }
    // Assess
    await expect(handled).resolves.toBe(message);
    expect(activeSeen).toStrictEqual([2, 2, 2, 2, 1]);
    expect(started).toBe(5);
  });
});
