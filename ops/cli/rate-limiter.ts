/**
 * Holds sends to a rate of messages per second over any one-second window, not only on average: a send
 * waits until the messages sent in the second before it, plus its own, fit in the rate; and sends are
 * spaced so that, below one message per second, the average holds too. Senders batch at most
 * `batchSize` messages (the rate's per-second allowance, 10 at most), so no batch is a burst above the
 * rate. The clock is passed in, so tests run on fake time.
 */
import { SQS_MAX_BATCH_ENTRIES } from '../../worker/common/sqs-limits.ts';
import type { Clock } from './context.ts';

export interface RateLimiter {
  /** The most messages to hand to one `take` (and send in one batch). */
  readonly batchSize: number;
  /** Waits until `count` more messages may go; returns early (without sending being any safer) if `signal` aborts. */
  take(count: number, signal?: AbortSignal): Promise<void>;
}

export const UNLIMITED: RateLimiter = { batchSize: SQS_MAX_BATCH_ENTRIES, take: () => Promise.resolve() };

const WINDOW_MS = 1_000;

/** A batch of 10 unless the rate allows fewer per second; 1 below one message per second. */
export function batchSizeFor(messagesPerSecond: number): number {
  return Math.min(SQS_MAX_BATCH_ENTRIES, Math.max(1, Math.floor(messagesPerSecond)));
}

export interface Send {
  readonly atMs: number;
  readonly count: number;
}

/**
 * The earliest instant at which `count` more messages keep every one-second window at `allowance` or
 * fewer, given the earlier sends (oldest first): the moment enough of them have left the window. Pure.
 */
export function windowOpensAt(earlier: readonly Send[], count: number, allowance: number): number {
  let inWindow = earlier.reduce((sum, send) => sum + send.count, 0);
  if (inWindow + count <= allowance) return -Infinity;
  for (const send of earlier) {
    inWindow -= send.count;
    // A send at t leaves the window (s - 1 s, s] at s = t + 1 s.
    if (inWindow + count <= allowance) return send.atMs + WINDOW_MS;
  }
  return -Infinity;
}

export function createRateLimiter(messagesPerSecond: number | undefined, clock: Clock): RateLimiter {
  if (messagesPerSecond === undefined) return UNLIMITED;
  if (!(messagesPerSecond > 0 && Number.isFinite(messagesPerSecond))) {
    throw new RangeError(`the rate must be a positive number of messages per second, got ${messagesPerSecond}`);
  }
  let recent: Send[] = [];
  let nextSlotMs = -Infinity;
  return {
    batchSize: batchSizeFor(messagesPerSecond),
    async take(count, signal) {
      const now = clock.now();
      // A batch bigger than the rate cannot be split here: it goes alone in its window.
      const allowance = Math.max(messagesPerSecond, count);
      const startMs = Math.max(now, nextSlotMs, windowOpensAt(recent, count, allowance));
      nextSlotMs = startMs + (count * 1000) / messagesPerSecond;
      recent = [...recent.filter((send) => send.atMs > startMs - WINDOW_MS), { atMs: startMs, count }];
      if (startMs > now) await clock.sleep(startMs - now, signal);
    },
  };
}
