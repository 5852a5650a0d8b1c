import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ChangeMessageVisibilityBatchCommand, Message, SQSClient } from '@aws-sdk/client-sqs';
import { dueForRenewal, HEARTBEAT_EARLY_FRACTION, nextDueMs, VisibilityHeartbeat } from '../../../../worker/queue/heartbeat.ts';

describe('dueForRenewal', () => {
  it('takes what is due now or within the early window, nothing later', () => {
    const due = new Map([
      ['late', 900],
      ['now', 1_000],
      ['soon', 1_400],
      ['edge', 1_500],
      ['later', 1_501],
    ]);
    expect(dueForRenewal(due, 1_000, 500)).toEqual(['late', 'now', 'soon', 'edge']);
  });
});

describe('nextDueMs', () => {
  it('is the earliest due time, or undefined when nothing is held', () => {
    expect(nextDueMs(new Map([['a', 3], ['b', 1], ['c', 2]]))).toBe(1);
    expect(nextDueMs(new Map())).toBeUndefined();
  });
});

/** An SQS client that records each renewal and answers when told. */
function fakeSqs() {
  const sent: Array<{ entries: Array<{ ReceiptHandle?: string; VisibilityTimeout?: number }>; answer: () => void }> = [];
  const sqs = {
    send: (command: ChangeMessageVisibilityBatchCommand) =>
      new Promise<unknown>((resolve) => {
        sent.push({ entries: (command.input.Entries ?? []).map(({ ReceiptHandle, VisibilityTimeout }) => ({ ReceiptHandle, VisibilityTimeout })), answer: () => resolve({}) });
      }),
  } as unknown as SQSClient;
  return { sqs, sent };
}

const message = (id: number): Message => ({ MessageId: `m${id}`, ReceiptHandle: `h${id}` });

describe('VisibilityHeartbeat', () => {
  let nowMs = 0;
  beforeEach(() => {
    jest.useFakeTimers();
    nowMs = 0;
  });
  afterEach(() => {
    jest.useRealTimers();
  });
  const advance = (ms: number) => {
    nowMs += ms;
    jest.advanceTimersByTime(ms);
  };

  function heartbeat() {
    const fake = fakeSqs();
    const beat = new VisibilityHeartbeat({ sqs: fake.sqs, queueUrl: 'q', intervalSeconds: 3, visibilityTimeoutSeconds: 9, nowMs: () => nowMs });
    return { ...fake, beat };
  }

  it('renews every held message an interval after it came, ten to a request, with the visibility timeout', () => {
    const { beat, sent } = heartbeat();
    const messages = Array.from({ length: 23 }, (_, index) => message(index));
    for (const held of messages) beat.add(held);

    advance(2_999);
    expect(sent).toEqual([]);
    advance(1);

    expect(sent.map(({ entries }) => entries.length)).toEqual([10, 10, 3]);
    expect(sent.flatMap(({ entries }) => entries.map((entry) => entry.ReceiptHandle))).toEqual(messages.map((held) => held.ReceiptHandle));
    expect(new Set(sent.flatMap(({ entries }) => entries.map((entry) => entry.VisibilityTimeout)))).toEqual(new Set([9]));
    advance(3_000);
    expect(sent).toHaveLength(6);
    beat.stop();
  });

  it('renews a message that came a little later together with the earlier ones, never later than its interval', () => {
    const { beat, sent } = heartbeat();
    beat.add(message(1));
    advance(3_000 * HEARTBEAT_EARLY_FRACTION - 100);
    beat.add(message(2));

    advance(3_000 * (1 - HEARTBEAT_EARLY_FRACTION) + 100);

    expect(sent.map(({ entries }) => entries.map((entry) => entry.ReceiptHandle))).toEqual([['h1', 'h2']]);
    beat.stop();
  });

  it('renews a removed message no more, and its removal waits for a renewal of it still unanswered', async () => {
    const { beat, sent } = heartbeat();
    const held = message(1);
    beat.add(held);
    beat.add(message(2));
    advance(3_000);
    expect(sent).toHaveLength(1);

    let removed = false;
    const removal = beat.remove(held).then(() => (removed = true));
    await Promise.resolve();
    expect(removed).toBe(false);
    sent[0]?.answer();
    await removal;
    expect(removed).toBe(true);

    advance(3_000);
    expect(sent.map(({ entries }) => entries.map((entry) => entry.ReceiptHandle))).toEqual([['h1', 'h2'], ['h2']]);
    beat.stop();
  });

  it('keeps no timer once nothing is held', async () => {
    const { beat } = heartbeat();
    const held = message(1);
    beat.add(held);
    await beat.remove(held);
    expect(jest.getTimerCount()).toBe(0);
  });
});
