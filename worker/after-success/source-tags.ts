/**
 * The object tags that mark a raw object as processed (SOURCE_AFTER_SUCCESS=tag), and how they join the
 * tags the object already has. Pure.
 */

export interface ObjectTag {
  readonly Key: string;
  readonly Value: string;
}

/** S3's limit on the tags of one object. */
export const MAX_OBJECT_TAGS = 10;

export const PROCESSED_TAG = { Key: 'iot-ingest', Value: 'processed' } as const satisfies ObjectTag;

export interface LineCounts {
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
}

/** The tags a processed raw object gets, the one a lifecycle rule matches (`iot-ingest=processed`) first. */
export function processedTags(counts: LineCounts): readonly ObjectTag[] {
  return [
    PROCESSED_TAG,
    { Key: 'iot-ingest-processed', Value: String(counts.processed) },
    { Key: 'iot-ingest-filtered', Value: String(counts.filtered) },
    { Key: 'iot-ingest-rejected', Value: String(counts.rejected) },
  ];
}

export interface MergedTags {
  /** The whole tag set to write: the object's own tags, then ours. */
  readonly tags: readonly ObjectTag[];
  /** Keys of ours that did not fit within MAX_OBJECT_TAGS (the object's own tags are never dropped). */
  readonly dropped: readonly string[];
}

/**
 * The object's tags with ours added: ours replace a tag of the same key (a file processed again), the
 * others are kept, and ours are added in their order while the set stays within MAX_OBJECT_TAGS.
 */
export function mergeTags(existing: readonly ObjectTag[], ours: readonly ObjectTag[]): MergedTags {
  const ourKeys = new Set(ours.map((tag) => tag.Key));
  const kept = existing.filter((tag) => !ourKeys.has(tag.Key));
  const room = Math.max(0, MAX_OBJECT_TAGS - kept.length);
  return { tags: [...kept, ...ours.slice(0, room)], dropped: ours.slice(room).map((tag) => tag.Key) };
}
