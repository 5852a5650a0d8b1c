import { describe, expect, it } from '@jest/globals';
import { inGroupsOf } from '../../../../worker/common/in-groups.ts';

describe('inGroupsOf', () => {
  it('splits into groups of at most the size, in order', () => {
    const items = Array.from({ length: 23 }, (_, index) => index);
    expect(inGroupsOf(items, 10).map((group) => group.length)).toEqual([10, 10, 3]);
    expect(inGroupsOf(items, 10).flat()).toEqual(items);
    expect(inGroupsOf([], 10)).toEqual([]);
  });
});
