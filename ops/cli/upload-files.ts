/**
 * Puts local files into the raw bucket with lib-storage's Upload (multipart for big files, which a
 * single PutObject cannot carry), one file after another, reporting bytes as they go.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { UsageError } from './exit-codes.ts';

export interface PlannedUpload {
  readonly path: string;
  readonly key: string;
  readonly bytes: number;
}

export interface UploadedFile extends PlannedUpload {
  readonly eTag: string | undefined;
}

/** Keys are prefix + basename; refuses what is not a file and two files that would share a key. */
export async function planUploads(paths: readonly string[], prefix: string): Promise<PlannedUpload[]> {
  const planned: PlannedUpload[] = [];
  const keys = new Set<string>();
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isFile()) throw new UsageError(`upload: ${path} is not a file`);
    const key = prefix + basename(path);
    if (keys.has(key)) throw new UsageError(`upload: two files would both become the key ${key}`);
    keys.add(key);
    planned.push({ path, key, bytes: info.size });
  }
  return planned;
}

export function contentTypeOf(key: string): string {
  if (key.endsWith('.gz')) return 'application/gzip';
  if (key.endsWith('.zst')) return 'application/zstd';
  if (key.endsWith('.jsonl') || key.endsWith('.ndjson')) return 'application/x-ndjson';
  return 'application/octet-stream';
}

export interface UploadOptions {
  readonly bucket: string;
  readonly signal: AbortSignal;
  /** Bytes sent so far, over all files. */
  readonly onBytes?: (bytes: number) => void;
}

export interface UploadResult {
  readonly uploaded: readonly UploadedFile[];
  readonly interrupted: boolean;
}

export async function uploadFiles(s3: S3Client, files: readonly PlannedUpload[], options: UploadOptions): Promise<UploadResult> {
  const uploaded: UploadedFile[] = [];
  let bytesBefore = 0;
  for (const file of files) {
    if (options.signal.aborted) return { uploaded, interrupted: true };
    const upload = new Upload({
      client: s3,
      params: { Bucket: options.bucket, Key: file.key, Body: createReadStream(file.path), ContentType: contentTypeOf(file.key) },
    });
    upload.on('httpUploadProgress', ({ loaded }) => options.onBytes?.(bytesBefore + (loaded ?? 0)));
    const abort = () => void upload.abort();
    options.signal.addEventListener('abort', abort, { once: true });
    try {
      const { ETag } = await upload.done();
      uploaded.push({ ...file, eTag: ETag?.replace(/"/g, '') });
    } catch (error) {
      if (options.signal.aborted) return { uploaded, interrupted: true };
      throw error;
    } finally {
      options.signal.removeEventListener('abort', abort);
    }
    bytesBefore += file.bytes;
    options.onBytes?.(bytesBefore);
  }
  return { uploaded, interrupted: false };
}
