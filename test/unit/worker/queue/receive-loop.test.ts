import { describe, expect, it } from '@jest/globals';
import { MAX_RECEIVE_LOOPS, receiveBatchSize, receiveLoopCount } from '../../../../worker/queue/receive-loop.ts';

describe('receiveLoopCount', () => {
  it.each([
    [1, 1],
    [8, 1],
    [10, 1],
    [11, 2],
    [20, 2],
    [32, 4],
    [128, MAX_RECEIVE_LOOPS],
    [256, MAX_RECEIVE_LOOPS],
  ])('runs one loop per ten files of a ceiling of %d, at most a few: %d', (maxFilesInFlight, loops) => {
    expect(receiveLoopCount(maxFilesInFlight)).toBe(loops);
  });
});

describe('receiveBatchSize', () => {
  it.each([
    [{ capacity: 8, held: 0, claimed: 0 }, 8],
    [{ capacity: 128, held: 0, claimed: 0 }, 10],
    [{ capacity: 128, held: 100, claimed: 20 }, 8],
    [{ capacity: 20, held: 5, claimed: 10 }, 5],
    [{ capacity: 20, held: 10, claimed: 10 }, 0],
    // The bound shrank below what is held: nothing, never a negative count.
    [{ capacity: 8, held: 12, claimed: 0 }, 0],
    [{ capacity: 8.7, held: 0, claimed: 0 }, 8],
  ])('asks for the free slots, at most ten: %o → %d', (slots, count) => {
    expect(receiveBatchSize(slots)).toBe(count);
  });
});
