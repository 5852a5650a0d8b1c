/**
 * The local stack's object tags, in memory. Tags are held against the emulator's stored object
 * itself (a WeakMap), not against its key, so an overwrite (PutObject, CopyObject, a completed
 * multipart upload, a form upload) or a delete (DeleteObject, DeleteObjects, the emulator's own
 * purges) leaves the key without tags by construction, as on S3, whatever path replaced the object;
 * on a versioned bucket (object-versions.ts) each version is its own stored object with its own tags.
 */
import type { ObjectVersions, StoredObject } from './object-versions.ts';
import type { TagSet } from './object-tags.ts';

/** What the tag store needs: the stored object a key and version id name. */
export type StoredObjects = Pick<ObjectVersions<StoredObject>, 'objectAt'>;

export interface ObjectTagStore {
  /** The tags of the version named (the current object without an id); throws S3's error when there is none. */
  tagsOf(bucket: string, key: string, versionId?: string): TagSet;
  /** Gives the version named exactly these tags (none when empty); throws as `tagsOf`. */
  replaceTags(bucket: string, key: string, tags: TagSet, versionId?: string): void;
  /** How many tags the version named has; 0 when there is no such object. */
  tagCountOf(bucket: string, key: string, versionId?: string): number;
  /** Keeps the tags a CreateMultipartUpload gave until its upload completes or is aborted. */
  holdForUpload(uploadId: string, tags: TagSet): void;
  /** The tags held for an upload (none when it had none), forgetting them. */
  takeForUpload(uploadId: string): TagSet;
}

export function createObjectTagStore(objects: StoredObjects): ObjectTagStore {
  const tagsByObject = new WeakMap<object, TagSet>();
  const tagsByUpload = new Map<string, TagSet>();

  return {
    tagsOf(bucket, key, versionId) {
      return tagsByObject.get(objects.objectAt(bucket, key, versionId)) ?? [];
    },
    replaceTags(bucket, key, tags, versionId) {
      const object = objects.objectAt(bucket, key, versionId);
      if (tags.length === 0) tagsByObject.delete(object);
      else tagsByObject.set(object, [...tags]);
    },
    tagCountOf(bucket, key, versionId) {
      try {
        return (tagsByObject.get(objects.objectAt(bucket, key, versionId)) ?? []).length;
      } catch {
        return 0;
      }
    },
    holdForUpload(uploadId, tags) {
      if (tags.length > 0) tagsByUpload.set(uploadId, [...tags]);
    },
    takeForUpload(uploadId) {
      const tags = tagsByUpload.get(uploadId) ?? [];
      tagsByUpload.delete(uploadId);
      return tags;
    },
  };
}
