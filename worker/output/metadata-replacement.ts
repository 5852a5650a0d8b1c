/**
 * Gives a stored object new user metadata without sending its bytes again: S3 fixes metadata when an
 * upload starts, so an output whose line counts are known only at its end gets them by a server-side
 * copy onto itself (MetadataDirective REPLACE). CopyObject takes objects up to 5 GiB; a larger one is
 * copied part by part (UploadPartCopy over byte ranges) into a multipart upload onto the same key.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { inParallel } from './in-parallel.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's limits on copies and parts. */
export const S3_COPY_LIMITS = {
  /** The largest object CopyObject copies in one request. */
  copyObjectMaxBytes: 5 * GiB,
  minPartBytes: 5 * MiB,
  maxPartBytes: 5 * GiB,
  maxParts: 10_000,
} as const;

/** The checksum every output object carries (the uploads' own, multipart-upload.ts). */
export const OUTPUT_CHECKSUM_ALGORITHM = 'CRC32';

export interface MetadataReplacementLimits {
  /** Objects up to this size are copied with one CopyObject; default (and at most) S3's 5 GiB. */
  readonly copyObjectMaxBytes?: number;
  /** Part size of a multipart copy; default 1 GiB, raised when the object would need more than 10,000 parts. */
  readonly copyPartBytes?: number;
  /** Part copies in flight at once; default 4. */
  readonly copyConcurrency?: number;
}

const DEFAULT_COPY_PART_BYTES = GiB;
const DEFAULT_COPY_CONCURRENCY = 4;

export interface StoredObjectToUpdate {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  /** The stored object's ETag: the copy reads that object or fails (another writer replaced it meanwhile). */
  readonly eTag?: string | undefined;
  /** A copy that replaces the metadata replaces the content type too, so it is given again. */
  readonly contentType: string;
}

/** One part of a multipart copy: its number and the inclusive byte range of the source it copies. */
export interface CopyRange {
  readonly partNumber: number;
  readonly firstByte: number;
  readonly lastByte: number;
}

/**
 * The ranges a multipart copy of `totalBytes` is made of: parts of `partBytes` (the last one smaller),
 * the part size raised as far as needed to stay within 10,000 parts, every part between 5 MiB and
 * 5 GiB but the last, which may be smaller. Pure.
 */
export function planCopyRanges(totalBytes: number, partBytes: number = DEFAULT_COPY_PART_BYTES): CopyRange[] {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 1) throw new RangeError(`a multipart copy needs at least one byte, got ${totalBytes}`);
  if (!Number.isSafeInteger(partBytes) || partBytes < S3_COPY_LIMITS.minPartBytes || partBytes > S3_COPY_LIMITS.maxPartBytes) {
    throw new RangeError(`copy part size must be between ${S3_COPY_LIMITS.minPartBytes} and ${S3_COPY_LIMITS.maxPartBytes} bytes, got ${partBytes}`);
  }
  const size = Math.max(partBytes, Math.ceil(totalBytes / S3_COPY_LIMITS.maxParts));
  if (size > S3_COPY_LIMITS.maxPartBytes) throw new RangeError(`${totalBytes} bytes do not fit ${S3_COPY_LIMITS.maxParts} parts of at most 5 GiB`);
  const ranges: CopyRange[] = [];
  for (let firstByte = 0; firstByte < totalBytes; firstByte += size) {
    ranges.push({ partNumber: ranges.length + 1, firstByte, lastByte: Math.min(firstByte + size, totalBytes) - 1 });
  }
  return ranges;
}

/** CopySource names the object URL-encoded; the key's slashes may stay or be encoded, S3 takes both. */
function copySource(object: StoredObjectToUpdate): string {
  return `${object.bucket}/${encodeURIComponent(object.key)}`;
}

/**
 * Replaces the user metadata of `object` with `metadata`, keeping its bytes, content type and checksum
 * algorithm; returns the object's new ETag. Throws as any S3 request does; a multipart copy that
 * fails is aborted (the object keeps its old metadata).
 */
export async function replaceObjectMetadata(
  s3: S3Client,
  object: StoredObjectToUpdate,
  metadata: Record<string, string>,
  limits: MetadataReplacementLimits = {},
): Promise<string | undefined> {
  const copyObjectMaxBytes = Math.min(limits.copyObjectMaxBytes ?? S3_COPY_LIMITS.copyObjectMaxBytes, S3_COPY_LIMITS.copyObjectMaxBytes);
  if (object.bytes <= copyObjectMaxBytes) {
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        CopySource: copySource(object),
        ...(object.eTag ? { CopySourceIfMatch: object.eTag } : {}),
        MetadataDirective: 'REPLACE',
        Metadata: metadata,
        ContentType: object.contentType,
        ChecksumAlgorithm: OUTPUT_CHECKSUM_ALGORITHM,
      }),
    );
    return copied.CopyObjectResult?.ETag;
  }
  return multipartCopy(s3, object, metadata, limits);
}

async function multipartCopy(
  s3: S3Client,
  object: StoredObjectToUpdate,
  metadata: Record<string, string>,
  limits: MetadataReplacementLimits,
): Promise<string | undefined> {
  const ranges = planCopyRanges(object.bytes, limits.copyPartBytes);
  const { bucket, key } = object;
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: object.contentType, Metadata: metadata, ChecksumAlgorithm: OUTPUT_CHECKSUM_ALGORITHM }),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new Error(`CreateMultipartUpload for s3://${bucket}/${key} returned no UploadId`);
  try {
    const copyPart = async (range: CopyRange): Promise<CompletedPart> => {
      const { CopyPartResult: result } = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: range.partNumber,
          CopySource: copySource(object),
          CopySourceRange: `bytes=${range.firstByte}-${range.lastByte}`,
          ...(object.eTag ? { CopySourceIfMatch: object.eTag } : {}),
        }),
      );
      if (result?.ETag === undefined) throw new Error(`UploadPartCopy ${range.partNumber} of s3://${bucket}/${key} returned no ETag`);
      return { PartNumber: range.partNumber, ETag: result.ETag, ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}) };
    };
    const parts = await inParallel(ranges, limits.copyConcurrency ?? DEFAULT_COPY_CONCURRENCY, copyPart);
    const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    return completed.ETag;
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}

