/**
 * The metadata an output ends with, on the emulator: given to one PutObject directly, or after a
 * multipart upload by a copy onto itself; and the multipart copy S3 needs above CopyObject's 5 GiB,
 * run here on a few MiB by lowering the threshold.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { replaceObjectMetadata } from '../../../../worker/output/metadata-replacement.ts';
import { MultipartUpload } from '../../../../worker/output/multipart-upload.ts';
import { CONTENT_TYPES, ObjectWriter } from '../../../../worker/output/object-writer.ts';
import { testClients, uniqueName } from '../../../support/emulator.ts';

const MiB = 1024 * 1024;
const INITIAL = { 'source-etag': 'abc', 'worker-version': '1.0.0' };
const FINAL = { ...INITIAL, 'lines-processed': '7', 'lines-filtered': '0', 'lines-rejected': '1' };

function patterned(bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  for (let index = 0; index < bytes; index += 1) buffer[index] = (index * 31 + (index >> 13)) % 251;
  return buffer;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A client of its own that records each command it sends. */
function recordingClient(): { s3: S3Client; sent: string[] } {
  const { s3 } = testClients();
  const sent: string[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize' },
  );
  return { s3, sent };
}

describe('an output’s final metadata on the emulator', () => {
  let clients: AwsClients;
  let bucket: string;

  beforeAll(async () => {
    clients = testClients();
    bucket = uniqueName('final-metadata');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  async function stored(key: string) {
    const headed = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const body = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { headed, sha: sha256(await body.Body!.transformToByteArray()) };
  }

  it('puts a small object once, with the final metadata', async () => {
    const { s3, sent } = recordingClient();
    const writer = new ObjectWriter(s3, { bucket, key: 'small.jsonl', contentType: CONTENT_TYPES.jsonLines, metadata: INITIAL, partSizeBytes: 5 * MiB, queueSize: 2 });
    await writer.write('{"a":1}\n');
    await writer.finish(FINAL);
    s3.destroy();

    expect(sent).toStrictEqual(['PutObjectCommand']);
    expect((await stored('small.jsonl')).headed.Metadata).toStrictEqual(FINAL);
  });

  it('after a multipart upload, copies the object onto itself with the final metadata, bytes and content type unchanged', async () => {
    const bytes = patterned(11 * MiB + 3);
    const { s3, sent } = recordingClient();
    const upload = new MultipartUpload(s3, { bucket, key: 'multi.parquet', contentType: CONTENT_TYPES.parquet, metadata: INITIAL, partSizeBytes: 5 * MiB, queueSize: 2 });
    await upload.write(bytes);
    expect(await upload.finish(FINAL)).toBe(bytes.length);
    s3.destroy();

    expect(sent.slice(-2)).toStrictEqual(['CompleteMultipartUploadCommand', 'CopyObjectCommand']);
    const { headed, sha } = await stored('multi.parquet');
    expect(headed.Metadata).toStrictEqual(FINAL);
    expect(headed.ContentType).toBe(CONTENT_TYPES.parquet);
    expect(headed.ContentLength).toBe(bytes.length);
    expect(sha).toBe(sha256(bytes));
  });

  it('without final metadata, a multipart object keeps the metadata it started with and nothing is copied', async () => {
    const { s3, sent } = recordingClient();
    const upload = new MultipartUpload(s3, { bucket, key: 'unfinished.jsonl', contentType: CONTENT_TYPES.jsonLines, metadata: INITIAL, partSizeBytes: 5 * MiB, queueSize: 2 });
    await upload.write(patterned(6 * MiB));
    await upload.finish();
    s3.destroy();

    expect(sent).not.toContain('CopyObjectCommand');
    expect((await stored('unfinished.jsonl')).headed.Metadata).toStrictEqual(INITIAL);
  });

  it('above the CopyObject threshold (lowered here from 5 GiB to 5 MiB), copies the object part by part in byte ranges', async () => {
    const bytes = patterned(13 * MiB + 5);
    const { s3, sent } = recordingClient();
    const upload = new MultipartUpload(s3, {
      bucket,
      key: 'huge.jsonl.gz',
      contentType: CONTENT_TYPES.gzip,
      metadata: INITIAL,
      partSizeBytes: 5 * MiB,
      queueSize: 2,
      metadataReplacement: { copyObjectMaxBytes: 5 * MiB, copyPartBytes: 5 * MiB, copyConcurrency: 2 },
    });
    await upload.write(bytes);
    await upload.finish(FINAL);
    s3.destroy();

    // After the upload's own completion: a second multipart upload onto the same key, of three ranges of the first.
    const copying = sent.slice(sent.indexOf('CompleteMultipartUploadCommand') + 1);
    expect(copying).toStrictEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCopyCommand',
      'UploadPartCopyCommand',
      'UploadPartCopyCommand',
      'CompleteMultipartUploadCommand',
    ]);
    const { headed, sha } = await stored('huge.jsonl.gz');
    expect(headed.Metadata).toStrictEqual(FINAL);
    expect(headed.ContentType).toBe(CONTENT_TYPES.gzip);
    expect(sha).toBe(sha256(bytes));
    const open = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'huge' }));
    expect(open.Uploads ?? []).toHaveLength(0);
  });

  it('a multipart copy that fails is aborted, leaving the object as it was and no upload open', async () => {
    const bytes = patterned(12 * MiB);
    const { s3 } = recordingClient();
    const upload = new MultipartUpload(s3, { bucket, key: 'kept.jsonl', contentType: CONTENT_TYPES.jsonLines, metadata: INITIAL, partSizeBytes: 5 * MiB, queueSize: 2 });
    await upload.write(bytes);
    await upload.finish();
    let copies = 0;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCopyCommand' && ++copies === 2) throw Object.assign(new Error('injected'), { name: 'InternalError' });
        return next(args);
      },
      { step: 'initialize' },
    );

    await expect(
      replaceObjectMetadata(s3, { bucket, key: 'kept.jsonl', bytes: bytes.length, contentType: CONTENT_TYPES.jsonLines }, FINAL, {
        copyObjectMaxBytes: 5 * MiB,
        copyPartBytes: 5 * MiB,
        copyConcurrency: 1,
      }),
    ).rejects.toThrow('injected');
    s3.destroy();

    const { headed, sha } = await stored('kept.jsonl');
    expect(headed.Metadata).toStrictEqual(INITIAL);
    expect(sha).toBe(sha256(bytes));
    const open = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'kept' }));
    expect(open.Uploads ?? []).toHaveLength(0);
  });
});
