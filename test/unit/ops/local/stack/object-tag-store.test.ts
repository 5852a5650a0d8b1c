import { describe, expect, it } from '@jest/globals';
import { createObjectTagStore } from '../../../../../ops/local/stack/object-tag-store.ts';
import { createObjectVersions } from '../../../../../ops/local/stack/object-versions.ts';
import { S3RequestError } from '../../../../../ops/local/stack/s3-protocol.ts';
import { fakeEmulatorS3 } from '../../../../support/fake-emulator-s3.ts';

/** The tag store over the emulator's store, without versioning: one object per key. */
function fakeEmulatorStore() {
  const emulator = fakeEmulatorS3();
  return { objects: createObjectVersions(emulator), write: (key: string) => emulator.write(key), remove: (key: string) => emulator.remove(key) };
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
