import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { addTally, keptObjects, sweepEach } from '../../../../../ops/cli/object-sweep/sweep-many.ts';
import { SweepError, type SourcePage, type SweepTally } from '../../../../../ops/cli/object-sweep/sweep.ts';

function tally(listed: number, sent: number, lastSentKey?: string): SweepTally {
  return { listed, excluded: 1, matched: listed, outcomes: { missing: sent, current: listed - sent }, sent, lastSentKey };
}

describe('several sweeps', () => {
  it('adds the counts up, outcome by outcome; the last key sent is the latest sweep\'s that sent one', () => {
    expect(addTally(tally(3, 1, 'a'), tally(5, 0))).toEqual({ listed: 8, excluded: 2, matched: 8, outcomes: { missing: 1, current: 7 }, sent: 1, lastSentKey: 'a' });
    expect(addTally(tally(3, 1, 'a'), tally(5, 2, 'b')).lastSentKey).toBe('b');
  });

  it('runs the targets in order, each told the counts before it, and sums them', async () => {
    const seen: Array<[string, number, number]> = [];
    const result = await sweepEach(['x', 'y'], (target, index, before) => {
      seen.push([target, index, before.listed]);
      return Promise.resolve({ tally: tally(target === 'x' ? 2 : 4, 1, target), interrupted: false });
    });
    expect(seen).toEqual([['x', 0, 0], ['y', 1, 2]]);
    expect(result).toMatchObject({ stoppedBy: 'done', total: { listed: 6, sent: 2, lastSentKey: 'y' } });
    expect(result.each.map(({ target, tally: own }) => [target, own.listed])).toEqual([['x', 2], ['y', 4]]);
  });

  it('stops at an interruption or a failed send: the targets after it are not started', async () => {
    const started: string[] = [];
    const interrupted = await sweepEach(['x', 'y'], (target) => {
      started.push(target);
      return Promise.resolve({ tally: tally(2, 1), interrupted: true });
    });
    expect(started).toEqual(['x']);
    expect(interrupted.stoppedBy).toBe('interrupted');

    const failed = await sweepEach(['x', 'y', 'z'], (target) => (target === 'y' ? Promise.reject(new SweepError('SQS said no', tally(3, 2))) : Promise.resolve({ tally: tally(1, 1), interrupted: false })));
    expect(failed).toMatchObject({ stoppedBy: 'failed', total: { listed: 4, sent: 3 } });
    expect(failed.error?.message).toBe('SQS said no');
    expect(failed.each.map(({ target }) => target)).toEqual(['x', 'y']);
  });

  it('keeps only the objects asked for, page by page', async () => {
    const pages: AsyncIterable<SourcePage> = Readable.from([{ objects: [{ key: 'a' }, { key: 'nested/b' }] }, { objects: [{ key: 'nested/c' }], file: 1 }]);
    const kept: SourcePage[] = [];
    for await (const page of keptObjects(pages, (object) => !object.key.startsWith('nested/'))) kept.push(page);
    expect(kept).toEqual([{ objects: [{ key: 'a' }] }, { objects: [], file: 1 }]);
  });
});
