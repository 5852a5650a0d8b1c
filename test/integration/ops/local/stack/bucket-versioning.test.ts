/**
 * S3 bucket versioning on the local stack answers as S3 does, through the real SDK client against the
 * emulator every integration test runs on: the versioning configuration, a version per write, reads of
 * any version, delete markers, ListObjectVersions and its paging, versions under CopyObject, tagging,
 * DeleteObjects, multipart uploads and event notifications, Suspended versioning and its `null`
 * version, DeleteBucket while versions remain, and an unversioned bucket left as it was.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type BucketVersioningStatus,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { createTestStack, receiveUntilQuiet, testClients, uniqueName } from '../../../../support/emulator.ts';
import { refusal } from '../../../../support/refusal.ts';

/** A version id in S3's form (32 URL-safe characters) that no bucket here issued. */
const UNKNOWN_VERSION_ID = 'Zk3Lq1vXo3R5bT0nW2yUe6aI4sD9fG7h';
const MIB = 1024 * 1024;

/** One entry of ListObjectVersions: a version or a delete marker. */
interface Entry {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
}

function entriesOf(page: ListObjectVersionsCommandOutput): { versions: Entry[]; markers: Entry[] } {
  return {
    versions: (page.Versions ?? []).map((v) => ({ key: v.Key ?? '', versionId: v.VersionId ?? '', isLatest: v.IsLatest ?? false, deleteMarker: false })),
    markers: (page.DeleteMarkers ?? []).map((m) => ({ key: m.Key ?? '', versionId: m.VersionId ?? '', isLatest: m.IsLatest ?? false, deleteMarker: true })),
  };
}

function endpoint(): string {
  const value = process.env['IOT_TEST_ENDPOINT'];
  if (!value) throw new Error('IOT_TEST_ENDPOINT is not set: run through jest');
  return value;
}

/** `/bucket/key` with each segment of the key URL-encoded, for a raw request. */
const objectUrl = (bucket: string, key: string, query = '') => `${endpoint()}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}${query}`;

describe('bucket versioning on the local stack', () => {
  let clients: AwsClients;

  beforeAll(() => {
    clients = testClients();
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  const createBucket = async (prefix: string) => {
    const Bucket = uniqueName(prefix);
    await clients.s3.send(new CreateBucketCommand({ Bucket }));
    return Bucket;
  };
  const setVersioning = (Bucket: string, Status: BucketVersioningStatus) =>
    clients.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));
  const versionedBucket = async (prefix: string) => {
    const Bucket = await createBucket(prefix);
    await setVersioning(Bucket, 'Enabled');
    return Bucket;
  };
  const put = (Bucket: string, Key: string, Body: string, extra: Partial<PutObjectCommandInput> = {}) =>
    clients.s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
  const versionIdOf = async (answer: Promise<{ VersionId?: string | undefined }>) => {
    const { VersionId } = await answer;
    if (VersionId === undefined) throw new Error('the answer named no version id');
    return VersionId;
  };
  const get = async (Bucket: string, Key: string, VersionId?: string, Range?: string) => {
    const answer = await clients.s3.send(new GetObjectCommand({ Bucket, Key, VersionId, Range }));
    return { ...answer, text: (await answer.Body?.transformToString('utf8')) ?? '' };
  };
  const listVersions = (input: ListObjectVersionsCommandInput) => clients.s3.send(new ListObjectVersionsCommand(input));
  const allEntries = async (Bucket: string) => entriesOf(await listVersions({ Bucket }));
  const deleteVersion = (Bucket: string, Key: string, VersionId?: string) => clients.s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId }));

  describe('the versioning configuration', () => {
    it('GetBucketVersioning of a bucket whose versioning was never set answers no Status; after Enabled it is Enabled, then Suspended', async () => {
      const bucket = await createBucket('ver-config');

      const never = await clients.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      expect(never.$metadata.httpStatusCode).toBe(200);
      expect(never.Status).toBeUndefined();
      expect(never.MFADelete).toBeUndefined();

      const enabled = await setVersioning(bucket, 'Enabled');
      expect(enabled.$metadata.httpStatusCode).toBe(200);
      expect((await clients.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');

      await setVersioning(bucket, 'Suspended');
      expect((await clients.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Suspended');
    });

    it('answers NoSuchBucket (404) for the configuration of a missing bucket, and MalformedXML for a status S3 does not know', async () => {
      const missing = uniqueName('ver-missing');
      await expect(refusal(setVersioning(missing, 'Enabled'))).resolves.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
      await expect(refusal(clients.s3.send(new GetBucketVersioningCommand({ Bucket: missing })))).resolves.toMatchObject({
        name: 'NoSuchBucket',
        $metadata: { httpStatusCode: 404 },
      });

      const bucket = await createBucket('ver-malformed');
      const answer = await fetch(`${endpoint()}/${bucket}?versioning`, {
        method: 'PUT',
        body: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>On</Status></VersioningConfiguration>',
      });
      expect(answer.status).toBe(400);
      expect(await answer.text()).toContain('<Code>MalformedXML</Code>');
      expect((await clients.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();
    });
  });

  describe('versions of one key', () => {
    let bucket: string;
    const key = 'devices/sensor one.jsonl';
    let ids: { v1: string; v2: string; v3: string };

    beforeAll(async () => {
      bucket = await createBucket('ver-reads');
      await put(bucket, key, 'version zero, before versioning', { Metadata: { generation: '0' } });
      await setVersioning(bucket, 'Enabled');
      ids = {
        v1: await versionIdOf(put(bucket, key, 'first version', { Metadata: { generation: '1' }, ContentType: 'text/plain' })),
        v2: await versionIdOf(put(bucket, key, 'second version!', { Metadata: { generation: '2' }, ContentType: 'application/json' })),
        v3: await versionIdOf(put(bucket, key, 'third', { Metadata: { generation: '3' } })),
      };
    });

    it('gives each PutObject a distinct VersionId, and lists the object stored before versioning as version "null"', async () => {
      expect(new Set([ids.v1, ids.v2, ids.v3, 'null']).size).toBe(4);
      for (const id of [ids.v1, ids.v2, ids.v3]) expect(id).toMatch(/^[A-Za-z0-9._-]+$/);

      const { versions, markers } = await allEntries(bucket);
      expect(markers).toEqual([]);
      expect(versions).toEqual([
        { key, versionId: ids.v3, isLatest: true, deleteMarker: false },
        { key, versionId: ids.v2, isLatest: false, deleteMarker: false },
        { key, versionId: ids.v1, isLatest: false, deleteMarker: false },
        { key, versionId: 'null', isLatest: false, deleteMarker: false },
      ]);
    });

    it('GetObject and HeadObject by VersionId answer that version: its bytes, ETag, metadata and content type, and its id', async () => {
      const listed = (await listVersions({ Bucket: bucket })).Versions ?? [];
      const etagOf = (id: string) => listed.find((version) => version.VersionId === id)?.ETag;

      const second = await get(bucket, key, ids.v2);
      expect(second.text).toBe('second version!');
      expect(second.VersionId).toBe(ids.v2);
      expect(second.ETag).toBe(etagOf(ids.v2));
      expect(second.Metadata).toEqual({ generation: '2' });
      expect(second.ContentType).toBe('application/json');

      const headFirst = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: ids.v1 }));
      expect(headFirst.VersionId).toBe(ids.v1);
      expect(headFirst.ContentLength).toBe('first version'.length);
      expect(headFirst.ETag).toBe(etagOf(ids.v1));
      expect(headFirst.Metadata).toEqual({ generation: '1' });
      expect(headFirst.ContentType).toBe('text/plain');

      const original = await get(bucket, key, 'null');
      expect(original.text).toBe('version zero, before versioning');
      expect(original.Metadata).toEqual({ generation: '0' });
      expect(original.VersionId).toBe('null');

      expect(new Set([ids.v1, ids.v2, ids.v3].map(etagOf)).size).toBe(3);
    });

    it('reads a Range of an old version (206), with that version id', async () => {
      const range = await get(bucket, key, ids.v2, 'bytes=7-13');

      expect(range.$metadata.httpStatusCode).toBe(206);
      expect(range.text).toBe('version');
      expect(range.ContentRange).toBe(`bytes 7-13/${'second version!'.length}`);
      expect(range.VersionId).toBe(ids.v2);
    });

    it('GetObject and HeadObject without a VersionId answer the current version and name its id', async () => {
      const current = await get(bucket, key);
      const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));

      expect(current.text).toBe('third');
      expect(current.VersionId).toBe(ids.v3);
      expect(head.VersionId).toBe(ids.v3);
      expect(head.Metadata).toEqual({ generation: '3' });
    });

    it('answers NoSuchVersion (404) for a version id the key never had, on GetObject and HeadObject', async () => {
      await expect(refusal(get(bucket, key, UNKNOWN_VERSION_ID))).resolves.toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
      await expect(refusal(clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: UNKNOWN_VERSION_ID })))).resolves.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
      await expect(refusal(get(bucket, 'devices/other.jsonl', ids.v1))).resolves.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    });

    it('keeps tags per version: PutObjectTagging with an old VersionId leaves the current version untouched', async () => {
      const tagged = await clients.s3.send(
        new PutObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: ids.v1, Tagging: { TagSet: [{ Key: 'state', Value: 'old' }] } }),
      );
      await clients.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: [{ Key: 'state', Value: 'current' }] } }));

      expect(tagged.VersionId).toBe(ids.v1);
      const old = await clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: ids.v1 }));
      expect(old).toMatchObject({ VersionId: ids.v1, TagSet: [{ Key: 'state', Value: 'old' }] });
      expect((await clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet).toEqual([{ Key: 'state', Value: 'current' }]);
      expect((await clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: ids.v2 }))).TagSet).toEqual([]);
      expect((await get(bucket, key, ids.v1)).TagCount).toBe(1);
      expect((await get(bucket, key, ids.v2)).TagCount).toBeUndefined();
      await expect(
        refusal(clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: UNKNOWN_VERSION_ID }))),
      ).resolves.toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
    });
  });

  describe('CopyObject from a version', () => {
    let bucket: string;
    const source = 'copy/source.txt';
    let old: { id: string; etag: string };
    let current: string;

    beforeAll(async () => {
      bucket = await versionedBucket('ver-copy');
      const first = await put(bucket, source, 'old bytes');
      old = { id: first.VersionId ?? '', etag: first.ETag ?? '' };
      current = await versionIdOf(put(bucket, source, 'new bytes'));
    });

    const copy = (Key: string, CopySource: string, extra: { CopySourceIfMatch?: string } = {}) =>
      clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource, ...extra }));

    it('copies the old bytes of `bucket/key?versionId=<old>`, answering CopySourceVersionId and the new VersionId', async () => {
      const answer = await copy('copy/from-old.txt', `${bucket}/${source}?versionId=${old.id}`);

      expect(answer.CopySourceVersionId).toBe(old.id);
      expect(answer.VersionId).toEqual(expect.any(String));
      expect(answer.VersionId).not.toBe(old.id);
      expect(answer.CopyObjectResult?.ETag).toBe(old.etag);
      const copied = await get(bucket, 'copy/from-old.txt');
      expect(copied.text).toBe('old bytes');
      expect(copied.VersionId).toBe(answer.VersionId);
      expect((await get(bucket, source)).text).toBe('new bytes');
    });

    it('copies the current version without a versionId, naming it as CopySourceVersionId', async () => {
      const answer = await copy('copy/from-current.txt', `${bucket}/${source}`);

      expect(answer.CopySourceVersionId).toBe(current);
      expect((await get(bucket, 'copy/from-current.txt')).text).toBe('new bytes');
    });

    it("checks CopySourceIfMatch against the named version's ETag: the old ETag succeeds, another gives 412", async () => {
      const matched = await copy('copy/if-match.txt', `${bucket}/${source}?versionId=${old.id}`, { CopySourceIfMatch: old.etag });
      expect(matched.CopySourceVersionId).toBe(old.id);
      expect((await get(bucket, 'copy/if-match.txt')).text).toBe('old bytes');

      const currentEtag = (await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: source }))).ETag ?? '';
      await expect(
        refusal(copy('copy/mismatch.txt', `${bucket}/${source}?versionId=${old.id}`, { CopySourceIfMatch: currentEtag })),
      ).resolves.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      await expect(refusal(get(bucket, 'copy/mismatch.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
    });

    it('refuses a delete marker as the copy source: by its version id 400 InvalidRequest, as the current version NoSuchKey', async () => {
      await put(bucket, 'copy/deleted.txt', 'gone');
      const marker = await versionIdOf(deleteVersion(bucket, 'copy/deleted.txt'));

      await expect(refusal(copy('copy/of-marker.txt', `${bucket}/copy/deleted.txt?versionId=${marker}`))).resolves.toMatchObject({
        name: 'InvalidRequest',
        $metadata: { httpStatusCode: 400 },
      });
      await expect(refusal(copy('copy/of-deleted.txt', `${bucket}/copy/deleted.txt`))).resolves.toMatchObject({
        name: 'NoSuchKey',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(refusal(get(bucket, 'copy/of-marker.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
    });

    it('answers NoSuchVersion for a copy source version that does not exist', async () => {
      await expect(refusal(copy('copy/unknown.txt', `${bucket}/${source}?versionId=${UNKNOWN_VERSION_ID}`))).resolves.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
    });
  });

  describe('delete markers', () => {
    it('DeleteObject without a VersionId puts a delete marker on top: NoSuchKey, gone from ListObjectsV2, the marker IsLatest', async () => {
      const bucket = await versionedBucket('ver-marker');
      const v1 = await versionIdOf(put(bucket, 'k.txt', 'one'));
      const v2 = await versionIdOf(put(bucket, 'k.txt', 'two'));

      const deleted = await deleteVersion(bucket, 'k.txt');
      expect(deleted.$metadata.httpStatusCode).toBe(204);
      expect(deleted.DeleteMarker).toBe(true);
      const marker = deleted.VersionId ?? '';
      expect(marker).not.toBe('');
      expect([v1, v2]).not.toContain(marker);

      await expect(refusal(get(bucket, 'k.txt'))).resolves.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      await expect(refusal(clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k.txt' })))).resolves.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
      const raw = await fetch(objectUrl(bucket, 'k.txt'));
      expect(raw.status).toBe(404);
      expect(raw.headers.get('x-amz-delete-marker')).toBe('true');
      expect(await raw.text()).toContain('<Code>NoSuchKey</Code>');

      const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.KeyCount).toBe(0);
      expect(listed.Contents).toBeUndefined();

      expect(await allEntries(bucket)).toEqual({
        versions: [
          { key: 'k.txt', versionId: v2, isLatest: false, deleteMarker: false },
          { key: 'k.txt', versionId: v1, isLatest: false, deleteMarker: false },
        ],
        markers: [{ key: 'k.txt', versionId: marker, isLatest: true, deleteMarker: true }],
      });
      expect((await get(bucket, 'k.txt', v2)).text).toBe('two');
    });

    it("GetObject or HeadObject of the marker's id is 405 MethodNotAllowed, with x-amz-delete-marker", async () => {
      const bucket = await versionedBucket('ver-marker-405');
      await put(bucket, 'k.txt', 'x');
      const marker = await versionIdOf(deleteVersion(bucket, 'k.txt'));

      await expect(refusal(get(bucket, 'k.txt', marker))).resolves.toMatchObject({ name: 'MethodNotAllowed', $metadata: { httpStatusCode: 405 } });
      await expect(refusal(clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k.txt', VersionId: marker })))).resolves.toMatchObject({
        $metadata: { httpStatusCode: 405 },
      });
      const raw = await fetch(objectUrl(bucket, 'k.txt', `?versionId=${encodeURIComponent(marker)}`), { method: 'HEAD' });
      expect(raw.status).toBe(405);
      expect(raw.headers.get('x-amz-delete-marker')).toBe('true');
      expect(raw.headers.get('last-modified')).not.toBeNull();
    });

    it('deleting the marker by its id brings the object back; deleting the current version by id makes the previous one current', async () => {
      const bucket = await versionedBucket('ver-undelete');
      const v1 = await versionIdOf(put(bucket, 'k.txt', 'one'));
      const v2 = await versionIdOf(put(bucket, 'k.txt', 'two'));
      const marker = await versionIdOf(deleteVersion(bucket, 'k.txt'));

      const unmarked = await deleteVersion(bucket, 'k.txt', marker);
      expect(unmarked).toMatchObject({ DeleteMarker: true, VersionId: marker, $metadata: { httpStatusCode: 204 } });
      const back = await get(bucket, 'k.txt');
      expect(back.text).toBe('two');
      expect(back.VersionId).toBe(v2);
      expect((await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((object) => object.Key)).toEqual(['k.txt']);

      const removed = await deleteVersion(bucket, 'k.txt', v2);
      expect(removed.VersionId).toBe(v2);
      expect(removed.DeleteMarker).toBeUndefined();
      const previous = await get(bucket, 'k.txt');
      expect(previous.text).toBe('one');
      expect(previous.VersionId).toBe(v1);
      await expect(refusal(get(bucket, 'k.txt', v2))).resolves.toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
      expect(await allEntries(bucket)).toEqual({ versions: [{ key: 'k.txt', versionId: v1, isLatest: true, deleteMarker: false }], markers: [] });

      await deleteVersion(bucket, 'k.txt', v1);
      await expect(refusal(get(bucket, 'k.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
      expect(await allEntries(bucket)).toEqual({ versions: [], markers: [] });
    });

    it('deleting a noncurrent version by id leaves the current one as it is', async () => {
      const bucket = await versionedBucket('ver-noncurrent');
      const v1 = await versionIdOf(put(bucket, 'k.txt', 'one'));
      const v2 = await versionIdOf(put(bucket, 'k.txt', 'two'));

      await deleteVersion(bucket, 'k.txt', v1);

      expect((await get(bucket, 'k.txt')).text).toBe('two');
      expect((await allEntries(bucket)).versions).toEqual([{ key: 'k.txt', versionId: v2, isLatest: true, deleteMarker: false }]);
    });

    it('DeleteObjects without a VersionId creates markers, with one removes that version, and Quiet answers nothing', async () => {
      const bucket = await versionedBucket('ver-delete-objects');
      const a1 = await versionIdOf(put(bucket, 'a.txt', 'a1'));
      const a2 = await versionIdOf(put(bucket, 'a.txt', 'a2'));
      const b1 = await versionIdOf(put(bucket, 'b.txt', 'b1'));

      const answer = await clients.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'a.txt', VersionId: a2 }, { Key: 'b.txt' }, { Key: 'never.txt' }] } }),
      );

      expect(answer.Errors).toBeUndefined();
      const deleted = answer.Deleted ?? [];
      expect(deleted).toHaveLength(3);
      expect(deleted.find((entry) => entry.Key === 'a.txt')).toEqual({ Key: 'a.txt', VersionId: a2 });
      const bMarker = deleted.find((entry) => entry.Key === 'b.txt');
      expect(bMarker).toMatchObject({ Key: 'b.txt', DeleteMarker: true, DeleteMarkerVersionId: expect.any(String) });
      expect(deleted.find((entry) => entry.Key === 'never.txt')).toMatchObject({ DeleteMarker: true, DeleteMarkerVersionId: expect.any(String) });

      expect((await get(bucket, 'a.txt')).text).toBe('a1');
      await expect(refusal(get(bucket, 'b.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
      const entries = await allEntries(bucket);
      expect(entries.versions).toEqual([
        { key: 'a.txt', versionId: a1, isLatest: true, deleteMarker: false },
        { key: 'b.txt', versionId: b1, isLatest: false, deleteMarker: false },
      ]);
      expect(entries.markers.map(({ key, isLatest }) => [key, isLatest])).toEqual([
        ['b.txt', true],
        ['never.txt', true],
      ]);
      expect(entries.markers[0]?.versionId).toBe(bMarker?.DeleteMarkerVersionId);

      // A marker removed by its id is reported as one; Quiet answers only errors.
      const markerRemoved = await clients.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'b.txt', VersionId: bMarker?.DeleteMarkerVersionId }] } }),
      );
      expect(markerRemoved.Deleted).toEqual([
        { Key: 'b.txt', VersionId: bMarker?.DeleteMarkerVersionId, DeleteMarker: true, DeleteMarkerVersionId: bMarker?.DeleteMarkerVersionId },
      ]);
      expect((await get(bucket, 'b.txt')).text).toBe('b1');

      const quiet = await clients.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'a.txt', VersionId: a1 }, { Key: 'b.txt' }] } }),
      );
      expect(quiet.Deleted).toBeUndefined();
      expect(quiet.Errors).toBeUndefined();
      await expect(refusal(get(bucket, 'a.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
      await expect(refusal(get(bucket, 'b.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
      expect((await allEntries(bucket)).versions).toEqual([{ key: 'b.txt', versionId: b1, isLatest: false, deleteMarker: false }]);
    });
  });

  describe('ListObjectVersions', () => {
    let bucket: string;
    /** Every entry, in S3's order: keys in UTF-8 binary order, each key's newest first. */
    let expected: Entry[];

    beforeAll(async () => {
      bucket = await createBucket('ver-list');
      await put(bucket, 'a.txt', 'a0');
      await setVersioning(bucket, 'Enabled');
      const a1 = await versionIdOf(put(bucket, 'a.txt', 'a1'));
      const a2 = await versionIdOf(put(bucket, 'a.txt', 'a2'));
      const one1 = await versionIdOf(put(bucket, 'b/one.txt', 'one1'));
      const one2 = await versionIdOf(put(bucket, 'b/one.txt', 'one2'));
      const oneMarker = await versionIdOf(deleteVersion(bucket, 'b/one.txt'));
      const two1 = await versionIdOf(put(bucket, 'b/two.txt', 'two1'));
      const c1 = await versionIdOf(put(bucket, 'c.txt', 'c1'));
      const cMarker = await versionIdOf(deleteVersion(bucket, 'c.txt'));
      const d1 = await versionIdOf(put(bucket, 'd/deep/x.txt', 'd1'));
      const entry = (key: string, versionId: string, isLatest: boolean, deleteMarker = false): Entry => ({ key, versionId, isLatest, deleteMarker });
      expected = [
        entry('a.txt', a2, true),
        entry('a.txt', a1, false),
        entry('a.txt', 'null', false),
        entry('b/one.txt', oneMarker, true, true),
        entry('b/one.txt', one2, false),
        entry('b/one.txt', one1, false),
        entry('b/two.txt', two1, true),
        entry('c.txt', cMarker, true, true),
        entry('c.txt', c1, false),
        entry('d/deep/x.txt', d1, true),
      ];
    });

    const split = (entries: readonly Entry[]) => ({ versions: entries.filter((e) => !e.deleteMarker), markers: entries.filter((e) => e.deleteMarker) });

    /** Follows NextKeyMarker/NextVersionIdMarker to the end (at most 50 pages). */
    async function pages(input: Omit<ListObjectVersionsCommandInput, 'Bucket'>) {
      const all: ListObjectVersionsCommandOutput[] = [];
      let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (let page = 0; page < 50; page += 1) {
        const answer = await listVersions({ Bucket: bucket, ...input, ...markers });
        all.push(answer);
        if (answer.IsTruncated !== true) return all;
        expect(answer.NextKeyMarker).toEqual(expect.any(String));
        markers = { KeyMarker: answer.NextKeyMarker, ...(answer.NextVersionIdMarker === undefined ? {} : { VersionIdMarker: answer.NextVersionIdMarker }) };
      }
      throw new Error('ListObjectVersions did not end within 50 pages');
    }

    const concat = (answers: readonly ListObjectVersionsCommandOutput[]) => {
      const parts = answers.map(entriesOf);
      return {
        versions: parts.flatMap((part) => part.versions),
        markers: parts.flatMap((part) => part.markers),
        commonPrefixes: answers.flatMap((answer) => (answer.CommonPrefixes ?? []).map((prefix) => prefix.Prefix)),
      };
    };

    it('lists every version and delete marker in one page, keys in order and each key newest first, with IsLatest on each current one', async () => {
      const answer = await listVersions({ Bucket: bucket });

      expect(answer.IsTruncated).toBe(false);
      expect(answer.NextKeyMarker).toBeUndefined();
      expect(answer.MaxKeys).toBe(1000);
      expect(answer.Name).toBe(bucket);
      expect(entriesOf(answer)).toEqual(split(expected));
      expect(answer.Versions?.find((version) => version.VersionId === 'null')).toMatchObject({ Key: 'a.txt', Size: 2, StorageClass: 'STANDARD' });
    });

    it('pages with MaxKeys 1..n: each page holds at most MaxKeys entries, and the NextKeyMarker/NextVersionIdMarker round trip returns every version exactly once', async () => {
      for (let maxKeys = 1; maxKeys <= expected.length + 1; maxKeys += 1) {
        const answers = await pages({ MaxKeys: maxKeys });
        for (const answer of answers) {
          const { versions, markers } = entriesOf(answer);
          expect(versions.length + markers.length).toBeLessThanOrEqual(maxKeys);
          expect(versions.length + markers.length).toBeGreaterThan(0);
          expect(answer.MaxKeys).toBe(maxKeys);
        }
        expect(answers.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / maxKeys));
        const { versions, markers } = concat(answers);
        expect({ maxKeys, versions, markers }).toEqual({ maxKeys, ...split(expected) });
      }
    });

    it('a page that ends within a key names that key and the last version id listed as the next markers', async () => {
      const first = await listVersions({ Bucket: bucket, MaxKeys: 2 });

      expect(first.IsTruncated).toBe(true);
      expect(first.NextKeyMarker).toBe('a.txt');
      expect(first.NextVersionIdMarker).toBe(expected[1]?.versionId);
      const second = await listVersions({ Bucket: bucket, MaxKeys: 2, KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker });
      expect(second.KeyMarker).toBe('a.txt');
      expect(second.VersionIdMarker).toBe(expected[1]?.versionId);
      expect(entriesOf(second)).toEqual(split(expected.slice(2, 4)));

      // A KeyMarker alone starts after every version of that key.
      const afterKey = await listVersions({ Bucket: bucket, KeyMarker: 'b/one.txt' });
      expect(entriesOf(afterKey)).toEqual(split(expected.slice(6)));
    });

    it('with Prefix lists only the versions under it', async () => {
      const answer = await listVersions({ Bucket: bucket, Prefix: 'b/' });

      expect(answer.Prefix).toBe('b/');
      expect(entriesOf(answer)).toEqual(split(expected.filter((e) => e.key.startsWith('b/'))));
      expect(answer.CommonPrefixes).toBeUndefined();
    });

    it('with Delimiter rolls keys up into CommonPrefixes, each listed once across pages of any size', async () => {
      const whole = await listVersions({ Bucket: bucket, Delimiter: '/' });
      expect(whole.Delimiter).toBe('/');
      expect(whole.CommonPrefixes).toEqual([{ Prefix: 'b/' }, { Prefix: 'd/' }]);
      const topLevel = expected.filter((e) => !e.key.includes('/'));
      expect(entriesOf(whole)).toEqual(split(topLevel));

      const nested = await listVersions({ Bucket: bucket, Delimiter: '/', Prefix: 'd/' });
      expect(nested.CommonPrefixes).toEqual([{ Prefix: 'd/deep/' }]);
      expect(nested.Versions).toBeUndefined();

      for (let maxKeys = 1; maxKeys <= 8; maxKeys += 1) {
        const answers = await pages({ Delimiter: '/', MaxKeys: maxKeys });
        for (const answer of answers) {
          const { versions, markers } = entriesOf(answer);
          expect(versions.length + markers.length + (answer.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(maxKeys);
        }
        const { versions, markers, commonPrefixes } = concat(answers);
        expect({ maxKeys, versions, markers, commonPrefixes }).toEqual({ maxKeys, ...split(topLevel), commonPrefixes: ['b/', 'd/'] });
      }
    });

    it('lists awkward keys (space, +, %, non-ASCII, &<>) exactly, in UTF-8 binary order, and URL-encodes them when asked with encoding-type=url', async () => {
      const awkward = await versionedBucket('ver-awkward');
      const keys = ['sp ace/file name.txt', 'plus+sign.txt', 'per%cent%20.txt', 'ünï温 😀.txt', 'a&b<c>"d\'.txt', 'Zed.txt'];
      for (const key of keys) {
        await put(awkward, key, `${key} 1`);
        await put(awkward, key, `${key} 2`);
      }
      await deleteVersion(awkward, 'plus+sign.txt');
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

      const answer = await listVersions({ Bucket: awkward });
      const { versions, markers } = entriesOf(answer);
      expect(versions.map((v) => v.key)).toEqual(sorted.flatMap((key) => [key, key]));
      expect(markers.map((m) => m.key)).toEqual(['plus+sign.txt']);
      for (const key of keys) {
        const newest = versions.find((v) => v.key === key)?.versionId;
        if (key !== 'plus+sign.txt') expect((await get(awkward, key, newest)).text).toBe(`${key} 2`);
      }

      const paged: string[] = [];
      let markersIn: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (let page = 0; page < 30; page += 1) {
        const one = await listVersions({ Bucket: awkward, MaxKeys: 1, ...markersIn });
        paged.push(...[...(one.Versions ?? []), ...(one.DeleteMarkers ?? [])].map((v) => v.Key ?? ''));
        if (one.IsTruncated !== true) break;
        markersIn = { KeyMarker: one.NextKeyMarker, VersionIdMarker: one.NextVersionIdMarker };
      }
      expect(paged).toHaveLength(keys.length * 2 + 1);
      expect(new Set(paged)).toEqual(new Set(keys));

      const raw = await fetch(`${endpoint()}/${awkward}?versions&encoding-type=url&prefix=${encodeURIComponent('sp ace/')}&delimiter=%20`);
      const xml = await raw.text();
      expect(raw.status).toBe(200);
      expect(xml).toContain('<EncodingType>url</EncodingType>');
      const encodedKeys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1] ?? '');
      const encodedPrefixes = [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((match) => match[1] ?? '');
      const decode = (text: string) => decodeURIComponent(text.replaceAll('+', ' '));
      expect(encodedPrefixes.map(decode)).toEqual(['sp ace/file ']);
      expect(encodedKeys).toEqual([]);
      for (const text of encodedPrefixes) expect(text).not.toMatch(/ /);

      const all = await (await fetch(`${endpoint()}/${awkward}?versions&encoding-type=url`)).text();
      const unescapeXml = (text: string) =>
        text.replace(/&(apos|quot|lt|gt|amp);/g, (_, name: string) => ({ apos: "'", quot: '"', lt: '<', gt: '>', amp: '&' })[name] ?? '');
      const allKeys = [...all.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1] ?? ''));
      // Once URL-encoded, a key holds no space, none of `&<>` and no byte beyond ASCII.
      for (const text of allKeys) expect(text).toMatch(/^[\x21-\x25\x27-\x3b\x3d\x3f-\x7e]*$/);
      expect(allKeys.map(decode).sort()).toEqual([...keys, ...keys, 'plus+sign.txt'].sort());
    });

    it('answers an empty listing for an empty versioned bucket, and NoSuchBucket for a missing one', async () => {
      const empty = await versionedBucket('ver-empty');
      const answer = await listVersions({ Bucket: empty });
      expect(answer.IsTruncated).toBe(false);
      expect(answer.Versions).toBeUndefined();
      expect(answer.DeleteMarkers).toBeUndefined();
      await expect(refusal(listVersions({ Bucket: uniqueName('ver-nobucket') }))).resolves.toMatchObject({
        name: 'NoSuchBucket',
        $metadata: { httpStatusCode: 404 },
      });
    });
  });

  describe('Suspended versioning', () => {
    it('a new write gets version "null" and replaces an earlier null version; the real versions are kept', async () => {
      const bucket = await createBucket('ver-suspended');
      await put(bucket, 'k.txt', 'before versioning');
      await setVersioning(bucket, 'Enabled');
      const v1 = await versionIdOf(put(bucket, 'k.txt', 'enabled write'));
      await setVersioning(bucket, 'Suspended');

      await put(bucket, 'k.txt', 'suspended write');

      expect(await allEntries(bucket)).toEqual({
        versions: [
          { key: 'k.txt', versionId: 'null', isLatest: true, deleteMarker: false },
          { key: 'k.txt', versionId: v1, isLatest: false, deleteMarker: false },
        ],
        markers: [],
      });
      const nullVersion = await get(bucket, 'k.txt', 'null');
      expect(nullVersion.text).toBe('suspended write');
      expect(nullVersion.VersionId).toBe('null');
      const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k.txt' }));
      expect(head.VersionId).toBe('null');
      expect((await get(bucket, 'k.txt', v1)).text).toBe('enabled write');

      await put(bucket, 'k.txt', 'second suspended write');
      expect((await allEntries(bucket)).versions.map((v) => v.versionId)).toEqual(['null', v1]);
      expect((await get(bucket, 'k.txt')).text).toBe('second suspended write');
    });

    it('DeleteObject without a VersionId replaces the null version with a null delete marker; Enabled again writes real versions', async () => {
      const bucket = await versionedBucket('ver-suspended-delete');
      const v1 = await versionIdOf(put(bucket, 'k.txt', 'enabled write'));
      await setVersioning(bucket, 'Suspended');
      await put(bucket, 'k.txt', 'null write');

      const deleted = await deleteVersion(bucket, 'k.txt');

      expect(deleted).toMatchObject({ DeleteMarker: true, VersionId: 'null' });
      expect(await allEntries(bucket)).toEqual({
        versions: [{ key: 'k.txt', versionId: v1, isLatest: false, deleteMarker: false }],
        markers: [{ key: 'k.txt', versionId: 'null', isLatest: true, deleteMarker: true }],
      });
      await expect(refusal(get(bucket, 'k.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });

      await setVersioning(bucket, 'Enabled');
      const v3 = await versionIdOf(put(bucket, 'k.txt', 'enabled again'));
      expect(v3).not.toBe('null');
      expect((await allEntries(bucket)).versions.map((v) => v.versionId)).toEqual([v3, v1]);
      expect((await allEntries(bucket)).markers.map((m) => [m.versionId, m.isLatest])).toEqual([['null', false]]);
    });
  });

  describe('DeleteBucket', () => {
    it('is refused with BucketNotEmpty (409) while versions or delete markers remain, and succeeds once all are deleted', async () => {
      const bucket = await versionedBucket('ver-delete-bucket');
      const v1 = await versionIdOf(put(bucket, 'k.txt', 'one'));
      const v2 = await versionIdOf(put(bucket, 'k.txt', 'two'));
      const marker = await versionIdOf(deleteVersion(bucket, 'k.txt'));
      expect((await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);

      const notEmpty = { name: 'BucketNotEmpty', $metadata: { httpStatusCode: 409 } };
      await expect(refusal(clients.s3.send(new DeleteBucketCommand({ Bucket: bucket })))).resolves.toMatchObject(notEmpty);
      await deleteVersion(bucket, 'k.txt', v1);
      await deleteVersion(bucket, 'k.txt', v2);
      // Only the delete marker is left: still not empty.
      await expect(refusal(clients.s3.send(new DeleteBucketCommand({ Bucket: bucket })))).resolves.toMatchObject(notEmpty);
      expect((await listVersions({ Bucket: bucket })).DeleteMarkers?.map((m) => m.VersionId)).toEqual([marker]);

      await deleteVersion(bucket, 'k.txt', marker);
      const deleted = await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      expect(deleted.$metadata.httpStatusCode).toBe(204);
      await expect(refusal(clients.s3.send(new HeadBucketCommand({ Bucket: bucket })))).resolves.toMatchObject({ $metadata: { httpStatusCode: 404 } });

      // A new bucket under the same name starts unversioned.
      await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      expect((await clients.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();
      expect((await put(bucket, 'k.txt', 'fresh')).VersionId).toBeUndefined();
    });

    it('is refused while only noncurrent versions remain under a current object', async () => {
      const bucket = await versionedBucket('ver-delete-bucket-2');
      await put(bucket, 'k.txt', 'one');
      const v2 = await versionIdOf(put(bucket, 'k.txt', 'two'));
      await deleteVersion(bucket, 'k.txt', v2);

      await expect(refusal(clients.s3.send(new DeleteBucketCommand({ Bucket: bucket })))).resolves.toMatchObject({
        name: 'BucketNotEmpty',
        $metadata: { httpStatusCode: 409 },
      });
    });
  });

  it('a multipart upload on a versioned bucket answers a VersionId and creates a version', async () => {
    const bucket = await versionedBucket('ver-multipart');
    const key = 'bulk/large.bin';
    const before = await versionIdOf(put(bucket, key, 'small'));
    const { UploadId } = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts = [Buffer.alloc(5 * MIB, 'a'), Buffer.from('tail')];
    const uploaded = [];
    for (const [index, Body] of parts.entries()) {
      const { ETag } = await clients.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body }));
      uploaded.push({ PartNumber: index + 1, ETag });
    }

    const completed = await clients.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: uploaded } }));

    const versionId = completed.VersionId ?? '';
    expect(versionId).not.toBe('');
    expect(versionId).not.toBe(before);
    expect((await allEntries(bucket)).versions).toEqual([
      { key, versionId, isLatest: true, deleteMarker: false },
      { key, versionId: before, isLatest: false, deleteMarker: false },
    ]);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    expect(head.ContentLength).toBe(5 * MIB + 4);
    expect(head.ETag).toBe(completed.ETag);
    expect((await get(bucket, key, before)).text).toBe('small');
  });

  it('an S3 event notification carries s3.object.versionId on a versioned bucket, and none on an unversioned one', async () => {
    const pipeline = await createTestStack(clients);
    await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the s3:TestEvent', quietSeconds: 0 });
    interface Records {
      readonly Records?: readonly { readonly eventName: string; readonly s3: { readonly object: Readonly<Record<string, unknown>> } }[];
    }
    const records = async (what: string) =>
      (await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what })).flatMap((body) => (JSON.parse(body) as Records).Records ?? []);

    const unversioned = await put(pipeline.rawBucket, 'before.jsonl', '{}\n');
    const [plain] = await records('the unversioned notification');
    expect(unversioned.VersionId).toBeUndefined();
    expect(plain?.s3.object).toMatchObject({ key: 'before.jsonl' });
    expect(plain?.s3.object).not.toHaveProperty('versionId');

    await setVersioning(pipeline.rawBucket, 'Enabled');
    const first = await versionIdOf(put(pipeline.rawBucket, 'after.jsonl', '{"n":1}\n'));
    const second = await versionIdOf(put(pipeline.rawBucket, 'after.jsonl', '{"n":2}\n'));
    const versioned = await records('the versioned notifications');
    const copied = await clients.s3.send(
      new CopyObjectCommand({ Bucket: pipeline.rawBucket, Key: 'copied.jsonl', CopySource: `${pipeline.rawBucket}/after.jsonl?versionId=${first}` }),
    );
    const [copyRecord] = await records('the copy notification');

    expect(versioned.map((record) => record.s3.object['versionId']).sort()).toEqual([first, second].sort());
    expect(versioned.every((record) => record.s3.object['key'] === 'after.jsonl')).toBe(true);
    expect(versioned.find((record) => record.s3.object['versionId'] === first)?.s3.object['size']).toBe('{"n":1}\n'.length);
    expect(copyRecord).toMatchObject({ eventName: 'ObjectCreated:Copy', s3: { object: { key: 'copied.jsonl', versionId: copied.VersionId } } });
  });

  describe('an unversioned bucket', () => {
    it('answers no VersionId, knows only version "null", and refuses any other id with InvalidArgument (400)', async () => {
      const bucket = await createBucket('ver-none');
      const written = await put(bucket, 'k.txt', 'one');
      expect(written.VersionId).toBeUndefined();
      await put(bucket, 'k.txt', 'two');

      const current = await get(bucket, 'k.txt');
      expect(current.VersionId).toBeUndefined();
      expect(current.text).toBe('two');
      expect((await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k.txt' }))).VersionId).toBeUndefined();
      expect((await get(bucket, 'k.txt', 'null')).text).toBe('two');
      expect((await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k.txt', VersionId: 'null' }))).ContentLength).toBe(3);

      await expect(refusal(get(bucket, 'k.txt', UNKNOWN_VERSION_ID))).resolves.toMatchObject({
        name: 'InvalidArgument',
        $metadata: { httpStatusCode: 400 },
        message: 'Invalid version id specified',
      });
      await expect(refusal(deleteVersion(bucket, 'k.txt', UNKNOWN_VERSION_ID))).resolves.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } });
      expect((await get(bucket, 'k.txt')).text).toBe('two');

      const copy = await clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy.txt', CopySource: `${bucket}/k.txt` }));
      expect(copy.VersionId).toBeUndefined();
      expect(copy.CopySourceVersionId).toBeUndefined();

      expect(await allEntries(bucket)).toEqual({
        versions: [
          { key: 'copy.txt', versionId: 'null', isLatest: true, deleteMarker: false },
          { key: 'k.txt', versionId: 'null', isLatest: true, deleteMarker: false },
        ],
        markers: [],
      });

      const deleted = await deleteVersion(bucket, 'k.txt');
      expect(deleted.$metadata.httpStatusCode).toBe(204);
      expect(deleted.DeleteMarker).toBeUndefined();
      expect(deleted.VersionId).toBeUndefined();
      await expect(refusal(get(bucket, 'k.txt'))).resolves.toMatchObject({ name: 'NoSuchKey' });
      const raw = await fetch(objectUrl(bucket, 'k.txt'));
      expect(raw.status).toBe(404);
      expect(raw.headers.get('x-amz-delete-marker')).toBeNull();

      const batch = await clients.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'copy.txt' }] } }));
      expect(batch.Deleted).toEqual([{ Key: 'copy.txt' }]);
      expect(await allEntries(bucket)).toEqual({ versions: [], markers: [] });
      expect((await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode).toBe(204);
    });
  });
});
