import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { inParallel } from '../../../../worker/output/in-parallel.ts';

describe('inParallel', () => {
  it('runs at most `concurrency` tasks at once and returns the results in item order', async () => {
    let running = 0;
    let most = 0;
    const results = await inParallel([30, 5, 20, 1, 10, 2], 2, async (ms) => {
      running += 1;
      most = Math.max(most, running);
      await delay(ms);
      running -= 1;
      return ms * 2;
    });
    expect(results).toStrictEqual([60, 10, 40, 2, 20, 4]);
    expect(most).toBe(2);
  });

  it('starts nothing after the first failure and throws it once the running tasks have settled', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = inParallel([1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await delay(item === 1 ? 1 : 20);
      settled += 1;
      if (item === 1) throw new Error('first');
      return item;
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toStrictEqual([1, 2]);
    expect(settled).toBe(2);
  });

  it('returns nothing for no items', async () => {
    expect(await inParallel([], 4, () => Promise.resolve(1))).toStrictEqual([]);
  });
});
