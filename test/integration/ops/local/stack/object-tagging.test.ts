/**
 * Object tagging on the local stack answers as S3 does, through the real SDK client against the
 * emulator every integration test runs on: the tagging API, tags given at creation (PutObject,
 * CreateMultipartUpload, CopyObject with either directive), the tag count on reads, tags that end
 * with the object they belong to, S3's errors, and the limits for every way tags arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type Tag,
} from '@aws-sdk/client-s3';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { readObjectText, testClients, uniqueName } from '../../../../support/emulator.ts';
import { refusal } from '../../../../support/refusal.ts';

/** Every character XML and URL encoding treat specially, non-ASCII, and an empty value. */
const AWKWARD_TAGS: Tag[] = [
  { Key: 'iot-ingest', Value: 'processed' },
  { Key: 'a&b <c> "d"', Value: "x=y&z+1 'q'" },
  { Key: 'ü温 space', Value: '' },
];

const tagging = (tags: readonly Tag[]) => new URLSearchParams(tags.map((tag): [string, string] => [tag.Key ?? '', tag.Value ?? ''])).toString();

describe('object tagging on the local stack', () => {
  let clients: AwsClients;
  let bucket: string;

  beforeAll(async () => {
    clients = testClients();
    bucket = uniqueName('tagging');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  const put = (Key: string, Body = 'content', Tagging?: string) =>
    clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ...(Tagging === undefined ? {} : { Tagging }) }));
  const tagsOf = async (Key: string, Bucket = bucket) => (await clients.s3.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet;
  const putTags = (Key: string, TagSet: Tag[], Bucket = bucket) =>
    clients.s3.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet } }));
  const tagCounts = async (Key: string) => {
    const get = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    await get.Body?.transformToString();
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    return { get: get.TagCount, head: head.TagCount };
  };

  it('PutObjectTagging stores the tag set GetObjectTagging returns, leaves the object as it was, and counts the tags on GetObject and HeadObject', async () => {
    await put('api/awkward.txt', 'unchanged');
    expect(await tagCounts('api/awkward.txt')).toEqual({ get: undefined, head: undefined });

    const putAnswer = await putTags('api/awkward.txt', AWKWARD_TAGS);
    const getAnswer = await clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'api/awkward.txt' }));

    expect(putAnswer.$metadata.httpStatusCode).toBe(200);
    expect(putAnswer.VersionId).toBeUndefined();
    expect(getAnswer.TagSet).toEqual(AWKWARD_TAGS);
    expect(getAnswer.VersionId).toBeUndefined();
    expect(await readObjectText(clients.s3, bucket, 'api/awkward.txt')).toBe('unchanged');
    expect(await tagCounts('api/awkward.txt')).toEqual({ get: 3, head: 3 });
  });

  it('PutObjectTagging replaces the whole tag set, and DeleteObjectTagging (204) removes it', async () => {
    await put('api/replace.txt', 'x', tagging([{ Key: 'old', Value: '1' }, { Key: 'kept?', Value: 'no' }]));

    await putTags('api/replace.txt', [{ Key: 'new', Value: '2' }]);
    expect(await tagsOf('api/replace.txt')).toEqual([{ Key: 'new', Value: '2' }]);

    const deleted = await clients.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'api/replace.txt' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await tagsOf('api/replace.txt')).toEqual([]);
    expect(await tagCounts('api/replace.txt')).toEqual({ get: undefined, head: undefined });
    expect(await readObjectText(clients.s3, bucket, 'api/replace.txt')).toBe('x');
  });

  it('PutObject with x-amz-tagging gives the object its tags; an overwrite starts with the tags its own request gives, none otherwise', async () => {
    await put('create/put.txt', 'v1', tagging(AWKWARD_TAGS));
    expect(await tagsOf('create/put.txt')).toEqual(AWKWARD_TAGS);

    await put('create/put.txt', 'v2');
    expect(await tagsOf('create/put.txt')).toEqual([]);

    await put('create/put.txt', 'v3', tagging([{ Key: 'v', Value: '3' }]));
    expect(await tagsOf('create/put.txt')).toEqual([{ Key: 'v', Value: '3' }]);
    expect(await tagCounts('create/put.txt')).toEqual({ get: 1, head: 1 });
  });

  it('tags end with their object: DeleteObject and DeleteObjects drop them, and a new object under the key has none', async () => {
    await put('gone/one.txt', 'x', tagging([{ Key: 'k', Value: 'v' }]));
    await put('gone/two.txt', 'x', tagging([{ Key: 'k', Value: 'v' }]));

    await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone/one.txt' }));
    await clients.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'gone/two.txt' }] } }));

    for (const key of ['gone/one.txt', 'gone/two.txt']) {
      await expect(refusal(tagsOf(key))).resolves.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      await put(key, 'again');
      expect(await tagsOf(key)).toEqual([]);
    }
  });

  it('CreateMultipartUpload with x-amz-tagging tags the object when the upload completes, and an aborted upload leaves nothing behind', async () => {
    const key = 'create/multipart.bin';
    const { UploadId } = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Tagging: tagging(AWKWARD_TAGS) }));
    const { ETag } = await clients.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'only part' }));
    await expect(refusal(tagsOf(key))).resolves.toMatchObject({ name: 'NoSuchKey' });

    await clients.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }),
    );
    expect(await tagsOf(key)).toEqual(AWKWARD_TAGS);

    const aborted = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Tagging: tagging([{ Key: 'a', Value: 'b' }]) }));
    await clients.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: aborted.UploadId }));
    const untagged = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await clients.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: untagged.UploadId, PartNumber: 1, Body: 'p' }));
    await clients.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: untagged.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(await tagsOf(key)).toEqual([]);
  });

  it("CopyObject keeps the source's tags by default (COPY), takes the request's with REPLACE, and a copy onto itself keeps its own", async () => {
    await put('copy/source.txt', 'source', tagging(AWKWARD_TAGS));
    const copy = (Key: string, options: { TaggingDirective?: 'COPY' | 'REPLACE'; Tagging?: string; MetadataDirective?: 'REPLACE' } = {}) =>
      clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource: `${bucket}/copy/source.txt`, ...options }));

    await copy('copy/default.txt');
    await copy('copy/explicit.txt', { TaggingDirective: 'COPY', Tagging: tagging([{ Key: 'ignored', Value: 'x' }]) });
    await copy('copy/replaced.txt', { TaggingDirective: 'REPLACE', Tagging: tagging([{ Key: 'r', Value: '1' }]) });
    await copy('copy/cleared.txt', { TaggingDirective: 'REPLACE' });
    await copy('copy/source.txt', { MetadataDirective: 'REPLACE' });

    expect(await tagsOf('copy/default.txt')).toEqual(AWKWARD_TAGS);
    expect(await tagsOf('copy/explicit.txt')).toEqual(AWKWARD_TAGS);
    expect(await tagsOf('copy/replaced.txt')).toEqual([{ Key: 'r', Value: '1' }]);
    expect(await tagsOf('copy/cleared.txt')).toEqual([]);
    expect(await tagsOf('copy/source.txt')).toEqual(AWKWARD_TAGS);
    expect(await readObjectText(clients.s3, bucket, 'copy/replaced.txt')).toBe('source');
  });

  it('answers NoSuchKey and NoSuchBucket (404) for a missing object or bucket, on every tagging call, as S3 does', async () => {
    const missingBucket = uniqueName('no-such-bucket');
    const calls = (Bucket: string, Key: string) => [
      () => clients.s3.send(new GetObjectTaggingCommand({ Bucket, Key })),
      () => clients.s3.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })),
      () => clients.s3.send(new DeleteObjectTaggingCommand({ Bucket, Key })),
    ];

    for (const call of calls(bucket, 'missing/key.txt')) {
      await expect(refusal(call())).resolves.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    }
    for (const call of calls(missingBucket, 'any.txt')) {
      await expect(refusal(call())).resolves.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
    }
    expect(await readObjectText(clients.s3, bucket, 'missing/key.txt')).toBeUndefined();
  });

  it('knows one version per object, "null", as an unversioned bucket does: other version ids are refused with InvalidArgument', async () => {
    await put('versions/object.txt', 'x', tagging([{ Key: 'k', Value: 'v' }]));

    await expect(clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'versions/object.txt', VersionId: 'null' }))).resolves.toMatchObject({
      TagSet: [{ Key: 'k', Value: 'v' }],
    });
    await expect(
      refusal(clients.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'versions/object.txt', VersionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY', Tagging: { TagSet: [] } }))),
    ).resolves.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 }, message: 'Invalid version id specified' });
    expect(await tagsOf('versions/object.txt')).toEqual([{ Key: 'k', Value: 'v' }]);
  });

  it('checks the limits for every way tags arrive: more than 10 (BadRequest), duplicate keys and long keys or values (InvalidTag), and changes nothing when it refuses', async () => {
    await put('limits/object.txt', 'x', tagging([{ Key: 'before', Value: '1' }]));
    const eleven = Array.from({ length: 11 }, (_, index): Tag => ({ Key: `tag${index}`, Value: 'v' }));

    await expect(refusal(putTags('limits/object.txt', eleven))).resolves.toMatchObject({ name: 'BadRequest', $metadata: { httpStatusCode: 400 } });
    await expect(refusal(putTags('limits/object.txt', [{ Key: 'same', Value: '1' }, { Key: 'same', Value: '2' }]))).resolves.toMatchObject({
      name: 'InvalidTag',
    });
    await expect(refusal(putTags('limits/object.txt', [{ Key: 'k', Value: 'v'.repeat(257) }]))).resolves.toMatchObject({ name: 'InvalidTag' });
    await expect(
      refusal(
        clients.s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'limits/copy.txt',
            CopySource: `${bucket}/limits/object.txt`,
            TaggingDirective: 'REPLACE',
            Tagging: tagging(eleven),
          }),
        ),
      ),
    ).resolves.toMatchObject({ name: 'BadRequest' });
    await expect(refusal(put('limits/object.txt', 'overwrite', tagging([{ Key: 'k'.repeat(129), Value: 'v' }])))).resolves.toMatchObject({
      name: 'InvalidTag',
    });

    expect(await tagsOf('limits/object.txt')).toEqual([{ Key: 'before', Value: '1' }]);
    expect(await readObjectText(clients.s3, bucket, 'limits/object.txt')).toBe('x');
    expect(await readObjectText(clients.s3, bucket, 'limits/copy.txt')).toBeUndefined();

    const ten = eleven.slice(0, 10);
    await putTags('limits/object.txt', ten);
    expect(await tagsOf('limits/object.txt')).toEqual(ten);
  });

  it("speaks S3's wire format: the GetObjectTagging document, MalformedXML for a body that is no tag set, and the missing key named in the error", async () => {
    await put('wire/object.txt', 'x', tagging([{ Key: 'a&b', Value: '<v>' }]));
    const url = (key: string) => `${process.env['IOT_TEST_ENDPOINT'] ?? ''}/${bucket}/${key}?tagging`;

    const document = await fetch(url('wire/object.txt'));
    const malformed = await fetch(url('wire/object.txt'), { method: 'PUT', body: '<Tagging><Tag><Key>k</Key></Tag></Tagging>' });
    const missing = await fetch(url('wire/missing.txt'));

    expect(document.status).toBe(200);
    expect(document.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(await document.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a&amp;b</Key><Value>&lt;v&gt;</Value></Tag></TagSet></Tagging>',
    );
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain('<Code>MalformedXML</Code>');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/<Code>NoSuchKey<\/Code>.*<Key>wire\/missing\.txt<\/Key>.*<RequestId>[0-9A-F]{16}<\/RequestId>/);
    expect(missing.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    expect(await tagsOf('wire/object.txt')).toEqual([{ Key: 'a&b', Value: '<v>' }]);
  });
});
