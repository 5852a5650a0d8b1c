import { describe, expect, it } from '@jest/globals';
import { createObjectTagStore, type StoredObjects } from '../../../../../ops/local/stack/object-tag-store.ts';
import { S3RequestError } from '../../../../../ops/local/stack/s3-protocol.ts';

/** The emulator's store as the tag store sees it: one object record per write, errors with S3's codes. */
function fakeEmulatorStore() {
  const buckets = new Map<string, Map<string, object>>([['bucket', new Map()]]);
  const fail = (code: string) => Object.assign(new Error(code), { code });
  const objects: StoredObjects = {
    headObject(bucket, key) {
      const objectsOfBucket = buckets.get(bucket);
      if (objectsOfBucket === undefined) throw fail('NoSuchBucket');
      const object = objectsOfBucket.get(key);
      if (object === undefined) throw fail('NoSuchKey');
      return object;
    },
  };
  return {
    objects,
    write: (key: string) => buckets.get('bucket')?.set(key, { key }),
    remove: (key: string) => buckets.get('bucket')?.delete(key),
  };
}

const TAGS = [{ key: 'iot-ingest', value: 'processed' }];

describe('object tag store', () => {
  it('keeps tags with the object they were given to: an overwrite or a delete leaves the key without tags', () => {
    const emulator = fakeEmulatorStore();
    const tags = createObjectTagStore(emulator.objects);
    emulator.write('k');

    tags.replaceTags('bucket', 'k', TAGS);
    expect(tags.tagsOf('bucket', 'k')).toEqual(TAGS);
    expect(tags.tagCountOf('bucket', 'k')).toBe(1);

    emulator.write('k');
    expect(tags.tagsOf('bucket', 'k')).toEqual([]);

    tags.replaceTags('bucket', 'k', TAGS);
    emulator.remove('k');
    expect(tags.tagCountOf('bucket', 'k')).toBe(0);
    emulator.write('k');
    expect(tags.tagsOf('bucket', 'k')).toEqual([]);
  });

  it('empties the tag set when given none', () => {
    const emulator = fakeEmulatorStore();
    const tags = createObjectTagStore(emulator.objects);
    emulator.write('k');
    tags.replaceTags('bucket', 'k', TAGS);

    tags.replaceTags('bucket', 'k', []);

    expect(tags.tagsOf('bucket', 'k')).toEqual([]);
  });

  it("answers S3's NoSuchKey and NoSuchBucket (404, naming the key or bucket) for a missing object or bucket, and counts them as untagged", () => {
    const tags = createObjectTagStore(fakeEmulatorStore().objects);

    expect(() => tags.tagsOf('bucket', 'missing')).toThrow(
      expect.objectContaining({ code: 'NoSuchKey', statusCode: 404, details: { Key: 'missing' } }),
    );
    expect(() => tags.replaceTags('nobucket', 'k', TAGS)).toThrow(S3RequestError);
    expect(() => tags.replaceTags('nobucket', 'k', TAGS)).toThrow(
      expect.objectContaining({ code: 'NoSuchBucket', statusCode: 404, details: { BucketName: 'nobucket' } }),
    );
    expect(tags.tagCountOf('nobucket', 'k')).toBe(0);
  });

  it('holds the tags of a multipart upload until it is taken, once', () => {
    const tags = createObjectTagStore(fakeEmulatorStore().objects);

    tags.holdForUpload('upload-1', TAGS);

    expect(tags.takeForUpload('upload-2')).toEqual([]);
    expect(tags.takeForUpload('upload-1')).toEqual(TAGS);
    expect(tags.takeForUpload('upload-1')).toEqual([]);
  });
});
