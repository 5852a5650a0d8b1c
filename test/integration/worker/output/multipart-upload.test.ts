import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { MultipartUpload } from '../../../../worker/output/multipart-upload.ts';
import { CONTENT_TYPES, ObjectWriter } from '../../../../worker/output/object-writer.ts';
import { testClients, uniqueName } from '../../../support/emulator.ts';

const PART_BYTES = 5 * 1024 * 1024;

async function storedBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Lines with two- and four-byte UTF-8 characters, so that part boundaries fall inside characters. */
function textPieces(totalChars: number): string[] {
  const pieces: string[] = [];
  let chars = 0;
  for (let index = 0; chars < totalChars; index += 1) {
    const piece = `{"device_id":"sensor-${index}","note":"Zürich 🌡️ ${'é'.repeat(index % 7)}"}\n`.repeat(1 + (index % 300));
    pieces.push(piece);
    chars += piece.length;
  }
  return pieces;
}

describe('MultipartUpload and ObjectWriter on the emulator', () => {
  let clients: AwsClients;
  let bucket: string;

  beforeAll(async () => {
    clients = testClients();
    bucket = uniqueName('multipart');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  it('stores text of several parts byte for byte, multi-byte characters across part boundaries included', async () => {
    // Three-byte characters do not divide 5 MiB: some character straddles every part boundary.
    const pieces = [...textPieces(6 * 1024 * 1024), ...Array.from({ length: 25 }, () => '€'.repeat(100_000))];
    const expected = Buffer.from(pieces.join(''));
    const partSizes: number[] = [];
    const s3 = testClients().s3;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') partSizes.push(((args.input as { Body: Uint8Array }).Body).length);
        return next(args);
      },
      { step: 'initialize' },
    );
    const upload = new MultipartUpload(s3, { bucket, key: 'text.jsonl', contentType: CONTENT_TYPES.jsonLines, partSizeBytes: PART_BYTES, queueSize: 2 });

    for (const piece of pieces) await upload.write(piece);
    const bytes = await upload.finish();
    s3.destroy();

    expect(expected.length).toBeGreaterThan(2 * PART_BYTES);
    expect(bytes).toBe(expected.length);
    // S3 (unlike the emulator) refuses a part under 5 MiB unless it is the last.
    expect(partSizes.slice(0, -1)).toStrictEqual(Array.from({ length: partSizes.length - 1 }, () => PART_BYTES));
    expect(partSizes.reduce((sum, size) => sum + size, 0)).toBe(expected.length);
    const stored = await storedBytes(clients.s3, bucket, 'text.jsonl');
    expect(stored.length).toBe(expected.length);
    expect(sha256(stored)).toBe(sha256(expected));
  });

  it('stores bytes written in pieces larger than a part, with the content type and metadata', async () => {
    const expected = Buffer.alloc(2 * PART_BYTES + 12_345);
    for (let index = 0; index < expected.length; index += 1) expected[index] = (index * 31) % 251;
    const upload = new MultipartUpload(clients.s3, {
      bucket,
      key: 'bytes.bin',
      contentType: CONTENT_TYPES.parquet,
      metadata: { 'source-etag': 'abc' },
      partSizeBytes: PART_BYTES,
      queueSize: 1,
    });

    // Not awaited one by one: the bytes must still land in order.
    const writes = [upload.write(expected.subarray(0, 100)), upload.write(expected.subarray(100, PART_BYTES + 7)), upload.write(expected.subarray(PART_BYTES + 7))];
    await Promise.all(writes);
    await upload.finish();

    expect(sha256(await storedBytes(clients.s3, bucket, 'bytes.bin'))).toBe(sha256(expected));
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bytes.bin' }));
    expect(head.ContentType).toBe(CONTENT_TYPES.parquet);
    expect(head.Metadata).toStrictEqual({ 'source-etag': 'abc' });
  });

  it('stores a small object, and an empty one, with a single put', async () => {
    const small = new MultipartUpload(clients.s3, { bucket, key: 'small.jsonl', contentType: CONTENT_TYPES.jsonLines, partSizeBytes: PART_BYTES, queueSize: 2 });
    await small.write('{"a":1}\n');
    await small.write('{"b":"ü"}\n');
    const empty = new MultipartUpload(clients.s3, { bucket, key: 'empty.jsonl', contentType: CONTENT_TYPES.jsonLines, partSizeBytes: PART_BYTES, queueSize: 2 });

    expect(await small.finish()).toBe(Buffer.byteLength('{"a":1}\n{"b":"ü"}\n'));
    expect(await empty.finish()).toBe(0);

    expect((await storedBytes(clients.s3, bucket, 'small.jsonl')).toString()).toBe('{"a":1}\n{"b":"ü"}\n');
    expect((await storedBytes(clients.s3, bucket, 'empty.jsonl')).length).toBe(0);
    const uploads = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 's' }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
  });

  it('leaves neither an object nor an open upload when aborted after parts were sent', async () => {
    const upload = new MultipartUpload(clients.s3, { bucket, key: 'aborted.jsonl', contentType: CONTENT_TYPES.jsonLines, partSizeBytes: PART_BYTES, queueSize: 2 });
    for (const piece of textPieces(11 * 1024 * 1024)) await upload.write(piece);

    await upload.abort();

    await expect(upload.write('more')).rejects.toThrow('aborted');
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'aborted' }));
    expect(listed.Contents ?? []).toHaveLength(0);
    const uploads = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'aborted' }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
  });

  it('fails the write that follows a refused upload, instead of writing on', async () => {
    const upload = new MultipartUpload(clients.s3, { bucket: uniqueName('missing-bucket'), key: 'x.jsonl', contentType: CONTENT_TYPES.jsonLines, partSizeBytes: PART_BYTES, queueSize: 1 });
    const write = async () => {
      for (const piece of textPieces(30 * 1024 * 1024)) await upload.write(piece);
    };

    await expect(write()).rejects.toThrow(/bucket/i);
    await upload.abort();
  });

  it('gzips through ObjectWriter into an object that decompresses to what was written', async () => {
    const pieces = textPieces(8 * 1024 * 1024);
    const writer = new ObjectWriter(clients.s3, { bucket, key: 'out.jsonl.gz', contentType: CONTENT_TYPES.gzip, gzip: true, partSizeBytes: PART_BYTES, queueSize: 2 });

    for (const piece of pieces) await writer.write(piece);
    const bytes = await writer.finish();

    const stored = await storedBytes(clients.s3, bucket, 'out.jsonl.gz');
    expect(bytes).toBe(stored.length);
    expect(sha256(gunzipSync(stored))).toBe(sha256(Buffer.from(pieces.join(''))));
  });
});
