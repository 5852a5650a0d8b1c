import { describe, expect, it } from '@jest/globals';
import { MAX_OBJECT_TAGS, mergeTags, processedTags } from '../../../../worker/after-success/source-tags.ts';

const tag = (Key: string, Value = 'v') => ({ Key, Value });

describe('processedTags', () => {
  it('marks the object processed, the tag a lifecycle rule matches first, then the line counts', () => {
    expect(processedTags({ processed: 7, filtered: 2, rejected: 1 })).toStrictEqual([
      { Key: 'iot-ingest', Value: 'processed' },
      { Key: 'iot-ingest-processed', Value: '7' },
      { Key: 'iot-ingest-filtered', Value: '2' },
      { Key: 'iot-ingest-rejected', Value: '1' },
    ]);
  });
});

describe('mergeTags', () => {
  const ours = processedTags({ processed: 1, filtered: 0, rejected: 0 });

  it("keeps the object's own tags and adds ours after them", () => {
    const merged = mergeTags([tag('owner', 'team-a')], ours);

    expect(merged.tags).toStrictEqual([tag('owner', 'team-a'), ...ours]);
    expect(merged.dropped).toStrictEqual([]);
  });

  it('replaces our tags from an earlier run instead of adding them twice', () => {
    const earlier = processedTags({ processed: 9, filtered: 9, rejected: 9 });

    const merged = mergeTags([tag('owner'), ...earlier], ours);

    expect(merged.tags).toStrictEqual([tag('owner'), ...ours]);
  });

  it('never drops a tag of the object; ours fill the room left, the processed mark first', () => {
    const own = Array.from({ length: 8 }, (_, index) => tag(`t${index}`));

    const merged = mergeTags(own, ours);

    expect(merged.tags).toHaveLength(MAX_OBJECT_TAGS);
    expect(merged.tags.slice(0, 8)).toStrictEqual(own);
    expect(merged.tags.slice(8).map((t) => t.Key)).toStrictEqual(['iot-ingest', 'iot-ingest-processed']);
    expect(merged.dropped).toStrictEqual(['iot-ingest-filtered', 'iot-ingest-rejected']);
  });

  it('drops all of ours when the object already has ten tags of its own', () => {
    const own = Array.from({ length: 10 }, (_, index) => tag(`t${index}`));

    const merged = mergeTags(own, ours);

    expect(merged.tags).toStrictEqual(own);
    expect(merged.dropped).toStrictEqual(ours.map((t) => t.Key));
  });
});
