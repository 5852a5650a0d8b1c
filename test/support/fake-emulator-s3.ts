/**
 * The emulator's S3 store as object-versions.ts and the tag store see it, in memory: one new stored
 * object per write, the emulator's error codes for a missing bucket or key.
 */
import type { CurrentObjects, StoredObject } from '../../ops/local/stack/object-versions.ts';

export interface FakeEmulatorS3 extends CurrentObjects<StoredObject> {
  /** Stores a new object under `key` of bucket `bucket`, as a PutObject would; returns it. */
  write(key: string, bucket?: string): StoredObject;
  /** Removes the key's object, as the emulator's own DeleteObject would. */
  remove(key: string, bucket?: string): void;
}

export function fakeEmulatorS3(bucketNames: readonly string[] = ['bucket']): FakeEmulatorS3 {
  const buckets = new Map(bucketNames.map((name) => [name, new Map<string, StoredObject>()]));
  let writes = 0;
  const fail = (code: string) => Object.assign(new Error(code), { code });
  const bucketOf = (bucket: string) => {
    const objects = buckets.get(bucket);
    if (objects === undefined) throw fail('NoSuchBucket');
    return objects;
  };
  return {
    hasBucket: (bucket) => buckets.has(bucket),
    headObject(bucket, key) {
      const object = bucketOf(bucket).get(key);
      if (object === undefined) throw fail('NoSuchKey');
      return object;
    },
    listObjects: (bucket) => ({ objects: [...bucketOf(bucket).values()] }),
    restoreObject: (bucket, object) => void bucketOf(bucket).set(object.key, object),
    deleteObject: (bucket, key) => void bucketOf(bucket).delete(key),
    write(key, bucket = 'bucket') {
      writes += 1;
      const object = { key, etag: `"etag-${writes}"`, lastModified: new Date(Date.UTC(2026, 0, 1, 0, 0, writes)), contentLength: writes };
      bucketOf(bucket).set(key, object);
      return object;
    },
    remove: (key, bucket = 'bucket') => void bucketOf(bucket).delete(key),
  };
}
