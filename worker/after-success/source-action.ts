/**
 * What happens to a raw object once its outputs are stored (SOURCE_AFTER_SUCCESS), decided as data: the S3
 * calls a mode makes, split around the completion event. Pure; source-action-runner.ts makes the calls.
 *
 * Every call names exactly the version that was processed: its VersionId when it has one, else its ETag as
 * a precondition, so that a newer upload under the same key is never tagged, archived or deleted instead.
 */
import type { ObjectLocation } from '../output/output-keys.ts';
import type { SourceVersion } from './source-version.ts';
import { processedTags, type LineCounts, type ObjectTag } from './source-tags.ts';

export const SOURCE_AFTER_SUCCESS_MODES = ['keep', 'tag', 'delete', 'move'] as const;
export type SourceAfterSuccess = (typeof SOURCE_AFTER_SUCCESS_MODES)[number];
/** The modes that touch the raw object. */
export type SourceAction = Exclude<SourceAfterSuccess, 'keep'>;
export const SOURCE_ACTIONS = ['tag', 'delete', 'move'] as const satisfies readonly SourceAction[];

export interface ArchiveLocation {
  /** SOURCE_ARCHIVE_BUCKET; undefined: the raw object's own bucket. */
  readonly bucket: string | undefined;
  /** SOURCE_ARCHIVE_PREFIX; not empty. */
  readonly prefix: string;
}

export interface SourceActionSettings {
  readonly mode: SourceAfterSuccess;
  readonly archive: ArchiveLocation;
}

/** One S3 call on the raw object (or its archived copy). */
export type SourceStep =
  /** HeadObject with If-Match: the key still holds the processed object (an unversioned object has no other handle). */
  | { readonly op: 'checkCurrent'; readonly source: SourceVersion }
  /** GetObjectTagging: the tags to keep. */
  | { readonly op: 'readTags'; readonly source: SourceVersion }
  /** PutObjectTagging: the tags read, with these added (source-tags.ts mergeTags). */
  | { readonly op: 'writeTags'; readonly source: SourceVersion; readonly tags: readonly ObjectTag[] }
  /** CopyObject of exactly this version (x-amz-copy-source-if-match), metadata and tags along. */
  | { readonly op: 'copy'; readonly source: SourceVersion; readonly to: ObjectLocation }
  /** DeleteObject of exactly this version: VersionId, or If-Match with the ETag. */
  | { readonly op: 'delete'; readonly source: SourceVersion };

export interface SourcePlan {
  /** Undefined for keep. */
  readonly action: SourceAction | undefined;
  /** Before the completion event is published. */
  readonly beforeEvent: readonly SourceStep[];
  /**
   * After it: the delete, so that a publish that fails can be repeated by processing the message again,
   * which needs the raw object still there.
   */
  readonly afterEvent: readonly SourceStep[];
}

/** Where an archived copy of `source` goes. */
export function archiveLocationOf(source: Pick<SourceVersion, 'bucket' | 'key'>, archive: ArchiveLocation): ObjectLocation {
  return { bucket: archive.bucket ?? source.bucket, key: archive.prefix + source.key };
}

/** The S3 calls `mode` makes for the processed `source`, in order. */
export function planSourceAction(settings: SourceActionSettings, source: SourceVersion, counts: LineCounts): SourcePlan {
  switch (settings.mode) {
    case 'keep':
      return { action: undefined, beforeEvent: [], afterEvent: [] };
    case 'tag': {
      const check: SourceStep[] = source.versionId === undefined ? [{ op: 'checkCurrent', source }] : [];
      return {
        action: 'tag',
        beforeEvent: [...check, { op: 'readTags', source }, { op: 'writeTags', source, tags: processedTags(counts) }],
        afterEvent: [],
      };
    }
    case 'delete':
      return { action: 'delete', beforeEvent: [], afterEvent: [{ op: 'delete', source }] };
    case 'move':
      return {
        action: 'move',
        beforeEvent: [{ op: 'copy', source, to: archiveLocationOf(source, settings.archive) }],
        afterEvent: [{ op: 'delete', source }],
      };
  }
}

/**
 * An object the move mode itself put in the archive: its event is acknowledged without work, so that a
 * move within the raw bucket cannot loop. Only in move mode, where the archive exists.
 */
export function isArchiveCopy(object: Pick<SourceVersion, 'bucket' | 'key'>, settings: SourceActionSettings): boolean {
  if (settings.mode !== 'move') return false;
  const archiveBucket = settings.archive.bucket ?? object.bucket;
  return object.bucket === archiveBucket && object.key.startsWith(settings.archive.prefix);
}

/** An output location: a bucket and the key prefix its objects are written under. */
export interface OutputPrefix {
  readonly bucket: string;
  readonly prefix: string;
}

/** Whether archived copies under `archive` could land among (or overwrite) outputs under `output`. */
export function prefixesOverlap(archive: OutputPrefix, output: OutputPrefix): boolean {
  return archive.bucket === output.bucket && (archive.prefix.startsWith(output.prefix) || output.prefix.startsWith(archive.prefix));
}
