/**
 * Spaces out sends to an average rate: each call reserves the next free slot for `count` messages
 * and waits until its slot starts, so the first batch leaves at once and the average never exceeds
 * the rate. The clock is passed in, so tests run on fake time.
 */
import type { Clock } from './context.ts';

export interface RateLimiter {
  /** Waits until `count` more messages may go; returns early (without sending being any safer) if `signal` aborts. */
  take(count: number, signal?: AbortSignal): Promise<void>;
}

export const UNLIMITED: RateLimiter = { take: () => Promise.resolve() };

export function createRateLimiter(messagesPerSecond: number | undefined, clock: Clock): RateLimiter {
  if (messagesPerSecond === undefined) return UNLIMITED;
  if (!(messagesPerSecond > 0 && Number.isFinite(messagesPerSecond))) {
    throw new RangeError(`the rate must be a positive number of messages per second, got ${messagesPerSecond}`);
  }
  let nextSlotMs = -Infinity;
  return {
    async take(count, signal) {
      const now = clock.now();
      const startMs = Math.max(now, nextSlotMs);
      nextSlotMs = startMs + (count * 1000) / messagesPerSecond;
      if (startMs > now) await clock.sleep(startMs - now, signal);
    },
  };
}
