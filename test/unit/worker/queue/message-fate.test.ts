import { describe, it, expect } from '@jest/globals';
import { PermanentFileError, RETRIES_EXHAUSTED_REASON, TransientFileError } from '../../../../worker/errors.ts';
import { POISON_REASONS, PoisonMessageError } from '../../../../worker/common/events.ts';
import {
  decideFate,
  FATE_KINDS,
  receiveCountOf,
  isLastAllowedReceive,
  retryDelaySeconds,
  retryFate,
  type FateContext,
  type MessageFate,
  type MessageHandling,
  type ObjectAttempt,
} from '../../../../worker/queue/message-fate.ts';

const POLICY = { backoffBaseSeconds: 10, backoffMaxSeconds: 300 };

function context(overrides: Partial<FateContext> = {}): FateContext {
  return { receiveCount: 1, maxReceiveCount: undefined, retryPolicy: POLICY, releasing: false, ...overrides };
}

const DONE: ObjectAttempt = { kind: 'done' };
const NOT_STARTED: ObjectAttempt = { kind: 'notStarted' };
const failed = (error: unknown): ObjectAttempt => ({ kind: 'failed', error });
const attempted = (...attempts: ObjectAttempt[]): MessageHandling => ({ kind: 'objectsAttempted', attempts });

const throttled = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
const connectionReset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const corruptGzip = new PermanentFileError('corrupt_gzip', 'a.jsonl.gz is not gzip');
const bug = new RangeError('Maximum call stack size exceeded');

const DELETE: MessageFate = { kind: FATE_KINDS.delete };
const RELEASE: MessageFate = { kind: FATE_KINDS.release };

describe('receiveCountOf', () => {
  it.each([
    [undefined, 1],
    ['abc', 1],
    ['0', 1],
    ['-2', 1],
    ['1.5', 1],
    ['3', 3],
  ])('reads ApproximateReceiveCount %j as %d', (count, expected) => {
    // Prepare
    const message = { Attributes: count === undefined ? {} : { ApproximateReceiveCount: count } };
    // Act
    const receiveCount = receiveCountOf(message);
    // Assess
    expect(receiveCount).toBe(expected);
  });

  it('reads a message without attributes as received once', () => {
    expect(receiveCountOf({})).toBe(1);
  });
});

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

describe('retryFate', () => {
  it('carries the backoff the receive count earns, the receive count and the error as text', () => {
    expect(retryFate(throttled, 3, POLICY)).toStrictEqual({
      kind: FATE_KINDS.retry,
      afterSeconds: 40,
      receiveCount: 3,
      error: 'SlowDown: Please reduce your request rate.',
    });
  });

  it('writes a thrown non-error as text', () => {
    expect(retryFate('gone', 1, POLICY)).toStrictEqual({ kind: FATE_KINDS.retry, afterSeconds: 10, receiveCount: 1, error: 'gone' });
  });
});

describe('decideFate: before or without processing', () => {
  it.each([false, true])('releases a message that arrived after shutdown began (releasing: %s)', (releasing) => {
    expect(decideFate({ kind: 'notStarted' }, context({ releasing }))).toStrictEqual(RELEASE);
  });

  it('deletes a message with nothing to do', () => {
    expect(decideFate({ kind: 'nothingToDo' }, context())).toStrictEqual(DELETE);
  });

  it('dead-letters an unreadable body with the poison reason and message', () => {
    // Prepare
    const error = new PoisonMessageError(POISON_REASONS.notJson, 'the body is not JSON');
    // Act
    const fate = decideFate({ kind: 'unreadable', error }, context());
    // Assess
    expect(fate).toStrictEqual({ kind: FATE_KINDS.deadLetter, reason: 'not_json', detail: 'the body is not JSON' });
  });

  it.each([
    ['an unforeseen error', bug, 'RangeError: Maximum call stack size exceeded'],
    ['a file error, which parsing never throws', corruptGzip, 'PermanentFileError: a.jsonl.gz is not gzip'],
    ['a transient error, since parsing is pure', throttled, 'SlowDown: Please reduce your request rate.'],
  ])('dead-letters as unexpected_error a body whose parsing threw %s', (_, error, detail) => {
    expect(decideFate({ kind: 'unreadable', error }, context({ receiveCount: 2 }))).toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: 'unexpected_error',
      detail,
    });
  });

  it.each([
    ['a refused DLQ copy', new Error('AWS.SimpleQueueService.NonExistentQueue'), false],
    ['any error while releasing', bug, true],
  ])('retries after the backoff when handling failed outside the objects: %s', (_, error, releasing) => {
    expect(decideFate({ kind: 'handlingFailed', error }, context({ receiveCount: 2, releasing }))).toStrictEqual(retryFate(error, 2, POLICY));
  });
});

describe('decideFate: after processing the objects', () => {
  it.each([
    ['no objects', attempted()],
    ['one object', attempted(DONE)],
    ['three objects', attempted(DONE, DONE, DONE)],
  ])('deletes a message whose objects are all done: %s', (_, handling) => {
    expect(decideFate(handling, context())).toStrictEqual(DELETE);
  });

  it('deletes a message whose objects all finished even when the grace period ended meanwhile', () => {
    expect(decideFate(attempted(DONE, DONE), context({ releasing: true }))).toStrictEqual(DELETE);
  });

  it.each([
    ['an object not started, next to a done one', attempted(DONE, NOT_STARTED), false],
    ['an object not started, next to a failed one', attempted(failed(corruptGzip), NOT_STARTED), false],
    ['a transient failure once the grace period is over', attempted(failed(throttled)), true],
    ['a permanent failure once the grace period is over', attempted(failed(corruptGzip)), true],
  ])('releases a message with %s', (_, handling, releasing) => {
    expect(decideFate(handling, context({ releasing }))).toStrictEqual(RELEASE);
  });

  it.each([
    [1, 10],
    [2, 20],
    [3, 40],
    [9, 300],
  ])('retries a transient failure on receive %d after %d s', (receiveCount, afterSeconds) => {
    // Act
    const fate = decideFate(attempted(failed(throttled)), context({ receiveCount }));
    // Assess
    expect(fate).toStrictEqual({ kind: FATE_KINDS.retry, afterSeconds, receiveCount, error: 'SlowDown: Please reduce your request rate.' });
  });

  it('retries, not dead-letters, a message with one permanent and one transient failure, naming the transient one', () => {
    // Act
    const fate = decideFate(attempted(failed(corruptGzip), DONE, failed(connectionReset)), context({ receiveCount: 2 }));
    // Assess
    expect(fate).toStrictEqual({ kind: FATE_KINDS.retry, afterSeconds: 20, receiveCount: 2, error: 'Error: socket hang up' });
  });

  it('names the first transient failure when there are several', () => {
    const fate = decideFate(attempted(failed(new TransientFileError('stream cut short')), failed(throttled)), context());
    expect(fate).toStrictEqual(retryFate(new TransientFileError('stream cut short'), 1, POLICY));
  });

  it('dead-letters a permanent failure with its reason and message', () => {
    expect(decideFate(attempted(DONE, failed(corruptGzip)), context())).toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: 'corrupt_gzip',
      detail: 'a.jsonl.gz is not gzip',
    });
  });

  it.each([
    ['an error nobody classified', bug, 'RangeError: Maximum call stack size exceeded'],
    ['a poison error, which files never throw', new PoisonMessageError('not_json', 'x'), 'PoisonMessageError: not_json: x'],
    ['a thrown string', 'boom', 'boom'],
  ])('dead-letters at once, as unexpected_error, a file failing with %s', (_, error, detail) => {
    expect(decideFate(attempted(failed(error)), context())).toStrictEqual({ kind: FATE_KINDS.deadLetter, reason: 'unexpected_error', detail });
  });

  it('dead-letters with the first failure when none is transient', () => {
    // Prepare
    const tooLarge = new PermanentFileError('object_too_large', 'b.jsonl is over the limit');
    // Act
    const unexpectedFirst = decideFate(attempted(failed(bug), failed(tooLarge)), context());
    const permanentFirst = decideFate(attempted(failed(tooLarge), failed(bug)), context());
    // Assess
    expect(unexpectedFirst).toStrictEqual({ kind: FATE_KINDS.deadLetter, reason: 'unexpected_error', detail: 'RangeError: Maximum call stack size exceeded' });
    expect(permanentFirst).toStrictEqual({ kind: FATE_KINDS.deadLetter, reason: 'object_too_large', detail: 'b.jsonl is over the limit' });
  });
});

describe('isLastAllowedReceive', () => {
  it.each([
    [1, 5, false],
    [4, 5, false],
    [5, 5, true],
    [6, 5, true],
    [1, 1, true],
    [1000, undefined, false],
  ])('receive %d with maxReceiveCount %p: %p', (receiveCount, maxReceiveCount, expected) => {
    expect(isLastAllowedReceive(receiveCount, maxReceiveCount)).toBe(expected);
  });
});

describe('decideFate: on the last receive the redrive policy allows', () => {
  it.each([1, 2, 4])('retries a transient failure on receive %d of 5, as before', (receiveCount) => {
    // Act
    const fate = decideFate(attempted(failed(throttled)), context({ receiveCount, maxReceiveCount: 5 }));
    // Assess
    expect(fate).toStrictEqual(retryFate(throttled, receiveCount, POLICY));
  });

  it.each([
    [5, 5],
    [7, 5],
    [1, 1],
  ])('dead-letters a transient failure on receive %d of %d as retries_exhausted, with the count and the last error', (receiveCount, maxReceiveCount) => {
    // Act
    const fate = decideFate(attempted(DONE, failed(throttled)), context({ receiveCount, maxReceiveCount }));
    // Assess
    expect(fate).toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: RETRIES_EXHAUSTED_REASON,
      detail: `failed transiently on receive ${receiveCount} of ${maxReceiveCount}: SlowDown: Please reduce your request rate.`,
    });
  });

  it('names the transient failure, not the permanent one next to it', () => {
    const fate = decideFate(attempted(failed(corruptGzip), failed(connectionReset)), context({ receiveCount: 3, maxReceiveCount: 3 }));
    expect(fate).toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: 'retries_exhausted',
      detail: 'failed transiently on receive 3 of 3: Error: socket hang up',
    });
  });

  it('keeps retrying on every receive when the queue has no redrive policy', () => {
    expect(decideFate(attempted(failed(throttled)), context({ receiveCount: 50, maxReceiveCount: undefined }))).toStrictEqual(
      retryFate(throttled, 50, POLICY),
    );
  });

  it('dead-letters a handling failure outside the objects as retries_exhausted too', () => {
    const error = new Error('AWS.SimpleQueueService.NonExistentQueue');
    expect(decideFate({ kind: 'handlingFailed', error }, context({ receiveCount: 3, maxReceiveCount: 3 }))).toStrictEqual({
      kind: FATE_KINDS.deadLetter,
      reason: 'retries_exhausted',
      detail: 'failed on receive 3 of 3: Error: AWS.SimpleQueueService.NonExistentQueue',
    });
  });

  it.each([
    ['a permanent failure keeps its own reason', attempted(failed(corruptGzip)), { kind: FATE_KINDS.deadLetter, reason: 'corrupt_gzip', detail: 'a.jsonl.gz is not gzip' }],
    ['a message whose objects are done is deleted', attempted(DONE), DELETE],
    ['a message not started is released', attempted(NOT_STARTED), RELEASE],
  ])('changes nothing else: %s', (_, handling, expected) => {
    expect(decideFate(handling, context({ receiveCount: 5, maxReceiveCount: 5 }))).toStrictEqual(expected);
  });

  it('releases, rather than dead-letters, a transient failure once the grace period is over', () => {
    expect(decideFate(attempted(failed(throttled)), context({ receiveCount: 5, maxReceiveCount: 5, releasing: true }))).toStrictEqual(RELEASE);
  });
});
