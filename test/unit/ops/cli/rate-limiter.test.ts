import { describe, expect, it } from '@jest/globals';
import type { Clock } from '../../../../ops/cli/context.ts';
import { batchSizeFor, createRateLimiter, UNLIMITED, windowOpensAt } from '../../../../ops/cli/rate-limiter.ts';

/** Time moves only when someone sleeps; every sleep is recorded. */
function fakeClock(startMs = 1_000_000): Clock & { sleeps: number[]; nowMs: number } {
  const clock = {
    nowMs: startMs,
    sleeps: [] as number[],
    now: () => clock.nowMs,
    sleep: (ms: number) => {
      clock.sleeps.push(ms);
      clock.nowMs += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

/** The most messages any one-second window [t, t + 1 s) holds; it suffices to start windows at sends. */
function mostInAnyWindow(sends: ReadonlyArray<{ atMs: number; count: number }>): number {
  return Math.max(0, ...sends.map((start) => sends.filter((send) => send.atMs >= start.atMs && send.atMs < start.atMs + 1_000).reduce((sum, send) => sum + send.count, 0)));
}

describe('createRateLimiter', () => {
  it('lets the first batch go at once and spaces the next ones to the rate', async () => {
    const clock = fakeClock();
    const limiter = createRateLimiter(5, clock);

    for (let batch = 0; batch < 4; batch += 1) await limiter.take(10);

    // 10 messages at 5 per second take 2 s each; the first batch does not wait.
    expect(clock.sleeps).toEqual([2_000, 2_000, 2_000]);
  });

  it('does not wait when the caller was slower than the rate anyway', async () => {
    const clock = fakeClock();
    const limiter = createRateLimiter(10, clock);

    await limiter.take(10);
    clock.nowMs += 5_000;
    await limiter.take(10);
    await limiter.take(5);

    // Only the third waits: for the second batch's 10 messages, 1 s at 10 per second.
    expect(clock.sleeps).toEqual([1_000]);
  });

  it('keeps the average over uneven batches, each window of one second at the rate', async () => {
    const clock = fakeClock(0);
    const limiter = createRateLimiter(4, clock);
    const sends: Array<{ atMs: number; count: number }> = [];

    for (const count of [4, 3, 2, 1, 4, 4]) {
      await limiter.take(count);
      sends.push({ atMs: clock.nowMs, count });
    }

    // 18 messages at 4/s: the last batch starts once the first 14 have had their time, 3.5 s.
    expect(sends.at(-1)?.atMs).toBeGreaterThanOrEqual(3_500);
    expect(mostInAnyWindow(sends)).toBeLessThanOrEqual(4);
  });

  it.each([1, 2.5, 4.5, 9.9, 10, 15, 25, 100])('at --rate %p no one-second window holds more than the rate, from the first send on', async (rate) => {
    const clock = fakeClock(0);
    const limiter = createRateLimiter(rate, clock);
    const sends: Array<{ atMs: number; count: number }> = [];

    for (let batch = 0; batch < 40; batch += 1) {
      await limiter.take(limiter.batchSize);
      sends.push({ atMs: clock.nowMs, count: limiter.batchSize });
    }

    expect(mostInAnyWindow(sends)).toBeLessThanOrEqual(rate);
    expect(sends[0]).toEqual({ atMs: 0, count: Math.min(10, Math.floor(rate)) });
  });

  it('--rate 1 sends one message a second, not a batch of 10 at once', async () => {
    const clock = fakeClock(0);
    const limiter = createRateLimiter(1, clock);

    expect(limiter.batchSize).toBe(1);
    for (let message = 0; message < 4; message += 1) await limiter.take(limiter.batchSize);

    expect(clock.sleeps).toEqual([1_000, 1_000, 1_000]);
  });

  it('below one message a second, spaces single messages by the rate', async () => {
    const clock = fakeClock(0);
    const limiter = createRateLimiter(0.5, clock);

    for (let message = 0; message < 3; message += 1) await limiter.take(limiter.batchSize);

    expect(limiter.batchSize).toBe(1);
    expect(clock.sleeps).toEqual([2_000, 2_000]);
  });

  it('batches of 10 at 10 a second and more, fewer below, at least 1', () => {
    expect([0.2, 1, 1.9, 4.5, 9.99, 10, 15, 1_000].map(batchSizeFor)).toEqual([1, 1, 1, 4, 9, 10, 10, 10]);
    expect(UNLIMITED.batchSize).toBe(10);
  });

  it('windowOpensAt: when enough earlier sends have left the one-second window', () => {
    const earlier = [
      { atMs: 0, count: 3 },
      { atMs: 400, count: 3 },
    ];
    expect(windowOpensAt(earlier, 4, 10)).toBe(-Infinity);
    expect(windowOpensAt(earlier, 5, 10)).toBe(1_000);
    expect(windowOpensAt(earlier, 8, 10)).toBe(1_400);
    expect(windowOpensAt([], 12, 12)).toBe(-Infinity);
  });

  it('never waits without a rate, and refuses a rate that is not positive', async () => {
    const clock = fakeClock();
    const limiter = createRateLimiter(undefined, clock);
    await limiter.take(1_000_000);

    expect(clock.sleeps).toEqual([]);
    expect(() => createRateLimiter(0, clock)).toThrow(RangeError);
    expect(() => createRateLimiter(Number.NaN, clock)).toThrow(RangeError);
  });

  it('hands the abort signal to the sleep, so Ctrl-C does not wait out a slow rate', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const clock: Clock = {
      now: () => 0,
      sleep: (_ms, signal) => {
        signals.push(signal);
        return Promise.resolve();
      },
    };
    const interrupt = new AbortController();
    const limiter = createRateLimiter(1, clock);

    await limiter.take(10, interrupt.signal);
    await limiter.take(10, interrupt.signal);

    expect(signals).toEqual([interrupt.signal]);
  });
});
