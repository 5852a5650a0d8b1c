import { describe, expect, it } from '@jest/globals';
import type { Clock } from '../../../../ops/cli/context.ts';
import { createRateLimiter } from '../../../../ops/cli/rate-limiter.ts';

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

  it('keeps the average over uneven batches', async () => {
    const clock = fakeClock();
    const limiter = createRateLimiter(4, clock);

    for (const count of [10, 3, 7, 1, 9]) await limiter.take(count);

    // 30 messages at 4/s: the last batch starts when the first 21 have had their time, 5.25 s.
    expect(clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(5_250);
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
