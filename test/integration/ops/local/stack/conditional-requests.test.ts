/**
 * S3's ETag preconditions on the local stack, through the real SDK client: DeleteObject with
 * If-Match and CopyObject with x-amz-copy-source-if-match / -if-none-match, matching, not matching
 * and on a missing object; a failed precondition leaves every object as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isObjectMissing } from '../../../../../worker/errors.ts';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { readObjectText, testClients, uniqueName } from '../../../../support/emulator.ts';
import { refusal } from '../../../../support/refusal.ts';

const PRECONDITION_FAILED = 'At least one of the pre-conditions you specified did not hold';
const OTHER_ETAG = '"92eb5ffee6ae2fec3ad71c777531578f"';

describe('ETag preconditions on the local stack', () => {
  let clients: AwsClients;
  let bucket: string;

  beforeAll(async () => {
    clients = testClients();
    bucket = uniqueName('conditions');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  const put = async (Key: string, Body: string): Promise<string> => {
    const { ETag } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    if (ETag === undefined) throw new Error('PutObject answered no ETag');
    return ETag;
  };
  const exists = async (Key: string): Promise<boolean> => {
    try {
      await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return true;
    } catch (error) {
      if (isObjectMissing(error)) return false;
      throw error;
    }
  };
  const copy = (from: string, to: string, conditions: { CopySourceIfMatch?: string; CopySourceIfNoneMatch?: string }) =>
    clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${from}`, ...conditions }));

  describe('DeleteObject with If-Match', () => {
    it('deletes the object when If-Match names its ETag, quoted as S3 gives it or bare', async () => {
      const quoted = await put('delete/match-quoted', 'a');
      const bare = (await put('delete/match-bare', 'b')).replace(/"/g, '');

      const answers = [
        await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/match-quoted', IfMatch: quoted })),
        await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/match-bare', IfMatch: bare })),
      ];

      expect(answers.map((answer) => answer.$metadata.httpStatusCode)).toEqual([204, 204]);
      expect(await exists('delete/match-quoted')).toBe(false);
      expect(await exists('delete/match-bare')).toBe(false);
    });

    it('refuses with 412 PreconditionFailed (Condition If-Match) and deletes nothing when the object has another ETag', async () => {
      await put('delete/newer', 'newer upload');

      const error = await refusal(clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/newer', IfMatch: OTHER_ETAG })));

      expect(error).toMatchObject({
        name: 'PreconditionFailed',
        message: PRECONDITION_FAILED,
        Condition: 'If-Match',
        $metadata: { httpStatusCode: 412 },
      });
      expect(await readObjectText(clients.s3, bucket, 'delete/newer')).toBe('newer upload');
    });

    it('answers 404 NoSuchKey when the key holds no object', async () => {
      const error = await refusal(clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/missing', IfMatch: OTHER_ETAG })));

      expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    });

    it('still deletes unconditionally without the header, a missing key included (204)', async () => {
      await put('delete/plain', 'x');

      const present = await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/plain' }));
      const missing = await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/plain' }));

      expect([present.$metadata.httpStatusCode, missing.$metadata.httpStatusCode]).toEqual([204, 204]);
      expect(await exists('delete/plain')).toBe(false);
    });
  });

  describe('CopyObject with x-amz-copy-source-if-match / -if-none-match', () => {
    it('copies when if-match names the source ETag, or if-none-match names another', async () => {
      const eTag = await put('copy/source', 'source bytes');

      await copy('copy/source', 'copy/by-match', { CopySourceIfMatch: eTag });
      await copy('copy/source', 'copy/by-none-match', { CopySourceIfNoneMatch: OTHER_ETAG });

      expect(await readObjectText(clients.s3, bucket, 'copy/by-match')).toBe('source bytes');
      expect(await readObjectText(clients.s3, bucket, 'copy/by-none-match')).toBe('source bytes');
    });

    it('refuses with 412 and copies nothing when if-match names another ETag', async () => {
      await put('copy/changed', 'newer upload');
      await put('copy/existing-target', 'target before');

      const toNew = await refusal(copy('copy/changed', 'copy/not-created', { CopySourceIfMatch: OTHER_ETAG }));
      const toExisting = await refusal(copy('copy/changed', 'copy/existing-target', { CopySourceIfMatch: OTHER_ETAG }));

      for (const error of [toNew, toExisting]) {
        expect(error).toMatchObject({
          name: 'PreconditionFailed',
          message: PRECONDITION_FAILED,
          Condition: 'x-amz-copy-source-If-Match',
          $metadata: { httpStatusCode: 412 },
        });
      }
      expect(await exists('copy/not-created')).toBe(false);
      expect(await readObjectText(clients.s3, bucket, 'copy/existing-target')).toBe('target before');
    });

    it('refuses with 412 and copies nothing when if-none-match names the source ETag', async () => {
      const eTag = await put('copy/unchanged', 'same');

      const error = await refusal(copy('copy/unchanged', 'copy/not-created-either', { CopySourceIfNoneMatch: eTag }));

      expect(error).toMatchObject({
        name: 'PreconditionFailed',
        Condition: 'x-amz-copy-source-If-None-Match',
        $metadata: { httpStatusCode: 412 },
      });
      expect(await exists('copy/not-created-either')).toBe(false);
    });

    it('answers 404 NoSuchKey for a missing source, whichever condition is given', async () => {
      const byMatch = await refusal(copy('copy/missing', 'copy/from-missing', { CopySourceIfMatch: OTHER_ETAG }));
      const byNoneMatch = await refusal(copy('copy/missing', 'copy/from-missing', { CopySourceIfNoneMatch: OTHER_ETAG }));

      for (const error of [byMatch, byNoneMatch]) expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      expect(await exists('copy/from-missing')).toBe(false);
    });
  });
});
