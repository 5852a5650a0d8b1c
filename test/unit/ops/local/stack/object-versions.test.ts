import { describe, expect, it } from '@jest/globals';
import { createObjectVersions, listVersions, NULL_VERSION_ID, type ListedVersion } from '../../../../../ops/local/stack/object-versions.ts';
import { fakeEmulatorS3 } from '../../../../support/fake-emulator-s3.ts';

/** A versioned bucket over the fake emulator, and a `put` that stores and records a version as a PutObject does. */
function versionedBucket(status: 'Enabled' | 'Suspended' = 'Enabled') {
  const emulator = fakeEmulatorS3();
  const versions = createObjectVersions(emulator);
  versions.setStatus('bucket', status);
  const put = (key: string) => {
    const object = emulator.write(key);
    return { object, versionId: versions.recordWrite('bucket', key) };
  };
  const ids = (key: string) => versions.listVersions('bucket', { prefix: key, maxKeys: 1000 }).versions.map(({ version }) => version.versionId);
  return { emulator, versions, put, ids };
}

describe('object versions', () => {
  it('gives every write on an Enabled bucket its own id, newest first, and keeps the emulator holding the newest', () => {
    const { emulator, versions, put, ids } = versionedBucket();
    const first = put('k');
    const second = put('k');

    expect(first.versionId).toMatch(/^[\w-]{32}$/);
    expect(second.versionId).not.toBe(first.versionId);
    expect(ids('k')).toStrictEqual([second.versionId, first.versionId]);
    expect(versions.objectAt('bucket', 'k', first.versionId)).toBe(first.object);
    expect(versions.objectAt('bucket', 'k', undefined)).toBe(second.object);
    expect(emulator.headObject('bucket', 'k')).toBe(second.object);
    expect(versions.currentVersionId('bucket', 'k')).toBe(second.versionId);
  });

  it('makes what was stored before versioning was first enabled version null', () => {
    const emulator = fakeEmulatorS3();
    const before = emulator.write('old');
    const versions = createObjectVersions(emulator);
    expect(versions.recordWrite('bucket', 'old')).toBeUndefined();

    versions.setStatus('bucket', 'Enabled');

    expect(versions.versionAt('bucket', 'old', NULL_VERSION_ID)).toStrictEqual({ versionId: NULL_VERSION_ID, kind: 'object', object: before });
  });

  it('puts a delete marker over the key on a delete without id, and removing the marker brings the object back', () => {
    const { emulator, versions, put, ids } = versionedBucket();
    const written = put('k');

    const marker = versions.deleteCurrent('bucket', 'k');

    expect(marker.deleteMarker).toBe(true);
    expect(() => emulator.headObject('bucket', 'k')).toThrow('NoSuchKey');
    expect(() => versions.objectAt('bucket', 'k', undefined)).toThrow(expect.objectContaining({ code: 'NoSuchKey', statusCode: 404 }));
    expect(() => versions.objectAt('bucket', 'k', marker.versionId)).toThrow(expect.objectContaining({ code: 'MethodNotAllowed', statusCode: 405 }));
    expect(ids('k')).toStrictEqual([marker.versionId, written.versionId]);
    expect(versions.keepsVersions('bucket')).toBe(true);

    expect(versions.deleteVersion('bucket', 'k', marker.versionId)).toStrictEqual({ versionId: marker.versionId, deleteMarker: true });
    expect(emulator.headObject('bucket', 'k')).toBe(written.object);
  });

  it('deletes one version by id: the current one makes the one before current, an older one leaves the current alone', () => {
    const { emulator, versions, put, ids } = versionedBucket();
    const first = put('k');
    const second = put('k');
    const third = put('k');

    versions.deleteVersion('bucket', 'k', second.versionId ?? '');
    expect(emulator.headObject('bucket', 'k')).toBe(third.object);
    versions.deleteVersion('bucket', 'k', third.versionId ?? '');
    expect(emulator.headObject('bucket', 'k')).toBe(first.object);
    expect(ids('k')).toStrictEqual([first.versionId]);

    versions.deleteVersion('bucket', 'k', first.versionId ?? '');
    expect(() => emulator.headObject('bucket', 'k')).toThrow('NoSuchKey');
    expect(ids('k')).toStrictEqual([]);
    expect(versions.keepsVersions('bucket')).toBe(false);
  });

  it('answers success for a delete of an id it never issued, and NoSuchVersion for a read of one', () => {
    const { versions, put } = versionedBucket();
    put('k');

    expect(versions.deleteVersion('bucket', 'k', 'never-issued')).toStrictEqual({ versionId: 'never-issued', deleteMarker: false });
    expect(() => versions.versionAt('bucket', 'k', 'never-issued')).toThrow(
      expect.objectContaining({ code: 'NoSuchVersion', statusCode: 404, details: { Key: 'k', VersionId: 'never-issued' } }),
    );
  });

  it('with versioning Suspended, a write or a delete replaces the null version and keeps the real ones', () => {
    const { versions, put, ids, emulator } = versionedBucket();
    const kept = put('k');
    versions.setStatus('bucket', 'Suspended');

    expect(put('k').versionId).toBe(NULL_VERSION_ID);
    const latest = put('k');
    expect(latest.versionId).toBe(NULL_VERSION_ID);
    expect(ids('k')).toStrictEqual([NULL_VERSION_ID, kept.versionId]);
    expect(versions.objectAt('bucket', 'k', NULL_VERSION_ID)).toBe(latest.object);

    expect(versions.deleteCurrent('bucket', 'k')).toStrictEqual({ versionId: NULL_VERSION_ID, deleteMarker: true });
    expect(ids('k')).toStrictEqual([NULL_VERSION_ID, kept.versionId]);
    expect(() => emulator.headObject('bucket', 'k')).toThrow('NoSuchKey');
  });

  it('on an unversioned bucket knows only version null, and refuses other ids as S3 does', () => {
    const emulator = fakeEmulatorS3();
    const versions = createObjectVersions(emulator);
    const object = emulator.write('k');

    expect(versions.statusOf('bucket')).toBeUndefined();
    expect(versions.currentVersionId('bucket', 'k')).toBeUndefined();
    expect(versions.objectAt('bucket', 'k', NULL_VERSION_ID)).toBe(object);
    expect(() => versions.objectAt('bucket', 'k', 'abc')).toThrow(expect.objectContaining({ code: 'InvalidArgument', statusCode: 400 }));
    expect(() => versions.objectAt('nobucket', 'k', undefined)).toThrow(expect.objectContaining({ code: 'NoSuchBucket', statusCode: 404 }));
    expect(versions.listVersions('bucket', { maxKeys: 10 }).versions).toStrictEqual([{ key: 'k', version: { versionId: 'null', kind: 'object', object }, isLatest: true }]);
  });

  it('forgets a deleted bucket: one created again under the name starts unversioned', () => {
    const { versions, put } = versionedBucket();
    put('k');

    versions.forgetBucket('bucket');

    expect(versions.statusOf('bucket')).toBeUndefined();
    expect(versions.keepsVersions('bucket')).toBe(false);
  });
});

describe('listing versions', () => {
  const entry = (key: string, versionId: string, isLatest: boolean): ListedVersion<null> => ({
    key,
    version: { versionId, kind: 'object', object: null },
    isLatest,
  });
  const all = [entry('a/1', 'v2', true), entry('a/1', 'v1', false), entry('a/2', 'v3', true), entry('b', 'v4', true), entry('c', 'v5', true)];

  it('pages by max-keys with key and version-id markers, every version exactly once', () => {
    const seen: string[] = [];
    let markers: { keyMarker?: string; versionIdMarker?: string } = {};
    for (let page = 0; page < 10; page += 1) {
      const listing = listVersions(all, { maxKeys: 2, ...markers });
      seen.push(...listing.versions.map(({ version }) => version.versionId));
      if (!listing.isTruncated) break;
      markers = { ...(listing.nextKeyMarker === undefined ? {} : { keyMarker: listing.nextKeyMarker }), ...(listing.nextVersionIdMarker === undefined ? {} : { versionIdMarker: listing.nextVersionIdMarker }) };
    }
    expect(seen).toStrictEqual(['v2', 'v1', 'v3', 'v4', 'v5']);
  });

  it('starts after a key marker without a version id marker: none of that key', () => {
    expect(listVersions(all, { maxKeys: 10, keyMarker: 'a/1' }).versions.map(({ version }) => version.versionId)).toStrictEqual(['v3', 'v4', 'v5']);
  });

  it('rolls keys up to common prefixes with a delimiter, each prefix once, counted against max-keys', () => {
    const first = listVersions(all, { maxKeys: 2, delimiter: '/' });
    expect(first.commonPrefixes).toStrictEqual(['a/']);
    expect(first.versions.map(({ key }) => key)).toStrictEqual(['b']);
    expect(first).toMatchObject({ isTruncated: true, nextKeyMarker: 'b', nextVersionIdMarker: 'v4' });

    const second = listVersions(all, { maxKeys: 2, delimiter: '/', keyMarker: 'b', versionIdMarker: 'v4' });
    expect(second).toMatchObject({ commonPrefixes: [], isTruncated: false });
    expect(second.versions.map(({ key }) => key)).toStrictEqual(['c']);
  });

  it('lists only the prefix asked for', () => {
    expect(listVersions(all, { maxKeys: 10, prefix: 'a/' }).versions.map(({ version }) => version.versionId)).toStrictEqual(['v2', 'v1', 'v3']);
  });
});
