/**
 * The local stack's object tags, in memory. The emulator has no versioning: one object per key,
 * replaced whole by every write. Tags are held against the emulator's stored object itself (a
 * WeakMap), not against its key, so an overwrite (PutObject, CopyObject, a completed multipart
 * upload, a form upload) or a delete (DeleteObject, DeleteObjects, the emulator's own purges)
 * leaves the key without tags by construction, as on S3, whatever path replaced the object.
 */
import { S3RequestError } from './s3-protocol.ts';
import type { TagSet } from './object-tags.ts';

/** What the tag store needs of the emulator's S3 store: the object stored under a key now. */
export interface StoredObjects {
  /** Throws the emulator's NoSuchBucket or NoSuchKey error when there is none. */
  headObject(bucket: string, key: string): object;
}

export interface ObjectTagStore {
  /** The tags of the object under `key` now; throws S3's NoSuchBucket or NoSuchKey. */
  tagsOf(bucket: string, key: string): TagSet;
  /** Gives the object under `key` exactly these tags (none when empty); throws as `tagsOf`. */
  replaceTags(bucket: string, key: string, tags: TagSet): void;
  /** How many tags the object under `key` has; 0 when there is no such object. */
  tagCountOf(bucket: string, key: string): number;
  /** Keeps the tags a CreateMultipartUpload gave until its upload completes or is aborted. */
  holdForUpload(uploadId: string, tags: TagSet): void;
  /** The tags held for an upload (none when it had none), forgetting them. */
  takeForUpload(uploadId: string): TagSet;
}

export function createObjectTagStore(objects: StoredObjects): ObjectTagStore {
  const tagsByObject = new WeakMap<object, TagSet>();
  const tagsByUpload = new Map<string, TagSet>();

  const storedObject = (bucket: string, key: string): object => {
    try {
      return objects.headObject(bucket, key);
    } catch (error) {
      throw asS3RequestError(error, bucket, key);
    }
  };

  return {
    tagsOf(bucket, key) {
      return tagsByObject.get(storedObject(bucket, key)) ?? [];
    },
    replaceTags(bucket, key, tags) {
      const object = storedObject(bucket, key);
      if (tags.length === 0) tagsByObject.delete(object);
      else tagsByObject.set(object, [...tags]);
    },
    tagCountOf(bucket, key) {
      try {
        return (tagsByObject.get(objects.headObject(bucket, key)) ?? []).length;
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

/** The emulator's missing-bucket and missing-key errors as S3 words them; anything else as it came. */
function asS3RequestError(error: unknown, bucket: string, key: string): unknown {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'NoSuchBucket') return new S3RequestError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
  if (code === 'NoSuchKey') return new S3RequestError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
  return error;
}
