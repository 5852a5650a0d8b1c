/** The sweep's batches follow the rate: never more messages in one SendMessageBatch than the rate allows a second. */
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { SendMessageBatchCommand, SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../../../../../ops/cli/context.ts';
import { sweep, type SourcePage } from '../../../../../ops/cli/object-sweep/sweep.ts';
import { createRateLimiter, UNLIMITED, type RateLimiter } from '../../../../../ops/cli/rate-limiter.ts';

/** Time moves only when someone sleeps. */
function fakeClock(): Clock & { nowMs: number } {
  const clock = {
    nowMs: 0,
    now: () => clock.nowMs,
    sleep: (ms: number) => {
      clock.nowMs += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

/** Accepts every entry; records each batch's size and the fake time it was sent at. */
function recordingSqs(clock: Clock): { sqs: SQSClient; batches: Array<{ atMs: number; size: number }> } {
  const batches: Array<{ atMs: number; size: number }> = [];
  const sqs = {
    send: (command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> => {
      const entries = command.input.Entries ?? [];
      batches.push({ atMs: clock.now(), size: entries.length });
      return Promise.resolve({ Successful: entries.map(({ Id }) => ({ Id, MessageId: Id, MD5OfMessageBody: '' })), Failed: [], $metadata: {} });
    },
  } as unknown as SQSClient;
  return { sqs, batches };
}

function onePage(count: number): AsyncIterable<SourcePage> {
  const objects = Array.from({ length: count }, (_, index) => ({ key: `in/${String(index).padStart(3, '0')}.jsonl`, size: 1, eTag: 'e' }));
  return Readable.from([{ objects }]) as AsyncIterable<SourcePage>;
}

async function sweepAll(rateLimiter: RateLimiter, clock: Clock, objects: number) {
  const { sqs, batches } = recordingSqs(clock);
  const result = await sweep(sqs, {
    pages: onePage(objects),
    inScope: () => true,
    decide: (page) => Promise.resolve(page.map(() => ({ send: true, outcome: 'missing' }))),
    send: { rawBucket: 'raw', queueUrl: 'http://queue', dryRun: false, rateLimiter, retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, sleep: () => Promise.resolve() } },
    signal: new AbortController().signal,
  });
  return { result, batches };
}

describe('sweep at a rate', () => {
  it('--rate 1 sends one message per batch, one a second, the first alone', async () => {
    const clock = fakeClock();

    const { result, batches } = await sweepAll(createRateLimiter(1, clock), clock, 10);

    expect(result.tally.sent).toBe(10);
    expect(batches).toEqual(Array.from({ length: 10 }, (_, second) => ({ atMs: second * 1_000, size: 1 })));
  });

  it('--rate 4.5 sends batches of 4, at most 4 in any second', async () => {
    const clock = fakeClock();

    const { batches } = await sweepAll(createRateLimiter(4.5, clock), clock, 20);

    expect(batches.map((batch) => batch.size)).toEqual([4, 4, 4, 4, 4]);
    expect(batches.map((batch) => batch.atMs)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
  });

  it('keeps batches of 10 at 10 a second and without a rate', async () => {
    const clock = fakeClock();

    const atTen = await sweepAll(createRateLimiter(10, clock), clock, 25);
    const unlimited = await sweepAll(UNLIMITED, clock, 25);

    expect(atTen.batches.map((batch) => batch.size)).toEqual([10, 10, 5]);
    expect(unlimited.batches.map((batch) => batch.size)).toEqual([10, 10, 5]);
  });
});
