/**
 * The bench's own S3 traffic: uploads of the inputs (multipart, like a device uploader), puts of small
 * files with bounded concurrency, digests of outputs read back as a stream, and listings of outputs
 * with their sizes. Every call bounded.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pLimit from 'p-limit';
import type { AwsClients } from '../../worker/common/aws-clients.ts';
import { withTimeout } from '../local/child-processes.ts';

const MEBIBYTE = 1024 * 1024;
/** The emulator refuses single requests over 11 MiB. */
const INPUT_PART_BYTES = 8 * MEBIBYTE;
const INPUT_QUEUE_SIZE = 4;
const REQUEST_TIMEOUT_MS = 30_000;

/** A bucket with no notifications, for objects no worker should see. */
export async function createPlainBucket(clients: AwsClients, bucket: string): Promise<void> {
  await withTimeout(clients.s3.send(new CreateBucketCommand({ Bucket: bucket })), REQUEST_TIMEOUT_MS, `creating bucket ${bucket}`);
}

/** Multipart upload of a Buffer or a stream (gzip when the key ends in .gz, zstd in .zst); resolves once S3 has the whole object (and has announced it). */
export async function uploadInput(clients: AwsClients, bucket: string, key: string, body: Buffer | Readable, timeoutMs: number): Promise<void> {
  const contentType = key.endsWith('.gz') ? 'application/gzip' : key.endsWith('.zst') ? 'application/zstd' : 'application/x-ndjson';
  const upload = new Upload({
    client: clients.s3,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
    partSize: INPUT_PART_BYTES,
    queueSize: INPUT_QUEUE_SIZE,
    leavePartsOnError: false,
  });
  try {
    await withTimeout(upload.done(), timeoutMs, `uploading s3://${bucket}/${key}`);
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
}

export interface PutTimes {
  /** performance.now() when the first put was sent. */
  readonly firstStartMs: number;
  readonly lastEndMs: number;
  /** performance.now() when each key's put completed. */
  readonly completedMs: ReadonlyMap<string, number>;
}

/** Puts every object, at most `concurrency` at once. */
export async function putObjects(
  clients: AwsClients,
  bucket: string,
  objects: ReadonlyArray<{ readonly key: string; readonly body: Buffer }>,
  concurrency: number,
): Promise<PutTimes> {
  const limit = pLimit(concurrency);
  const completedMs = new Map<string, number>();
  const firstStartMs = performance.now();
  await Promise.all(
    objects.map(({ key, body }) =>
      limit(async () => {
        await putObject(clients, bucket, key, body);
        completedMs.set(key, performance.now());
      }),
    ),
  );
  return { firstStartMs, lastEndMs: performance.now(), completedMs };
}

export async function putObject(clients: AwsClients, bucket: string, key: string, body: Buffer): Promise<void> {
  const command = new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' });
  await withTimeout(clients.s3.send(command), REQUEST_TIMEOUT_MS, `putting s3://${bucket}/${key}`);
}

export interface ObjectDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Size and SHA-256 of an object, read as a stream. */
export async function objectDigest(clients: AwsClients, bucket: string, key: string, timeoutMs: number): Promise<ObjectDigest> {
  const read = async (): Promise<ObjectDigest> => {
    const response = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { bytes, sha256: hash.digest('hex') };
  };
  return withTimeout(read(), timeoutMs, `reading s3://${bucket}/${key}`);
}

export interface ListedObject {
  readonly key: string;
  readonly bytes: number;
}

/** Every object under a prefix with its size (ListObjectsV2, page by page), in key order. */
export async function listObjects(clients: AwsClients, bucket: string, prefix: string, timeoutMs: number): Promise<ListedObject[]> {
  const list = async (): Promise<ListedObject[]> => {
    const objects: ListedObject[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: continuationToken }));
      for (const { Key, Size } of page.Contents ?? []) {
        if (Key === undefined || Size === undefined) throw new Error(`s3://${bucket}/${prefix}: a listed object without its key or size`);
        objects.push({ key: Key, bytes: Size });
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return objects;
  };
  return withTimeout(list(), timeoutMs, `listing s3://${bucket}/${prefix}`);
}
