/**
 * Bytes in, one S3 object out: what lib-storage's Upload does, minus its copies. The bytes are
 * encoded or copied straight into part-sized buffers, each buffer is sent as an UploadPart as soon as
 * it is full and is reused once S3 has it. lib-storage instead collects the written chunks and
 * concatenates them into a fresh buffer per part, which costs CPU, most of it garbage collection.
 *
 * An object smaller than one part is stored with one PutObject. Nothing is visible in S3 before
 * `finish` succeeds; `abort` discards the multipart upload.
 *
 * Metadata known only at the end (an output's line counts) is given to `finish`: a single PutObject
 * carries it directly; a multipart upload, whose metadata S3 fixed when it was created, gets it by a
 * server-side copy onto itself once completed (metadata-replacement.ts).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { OUTPUT_CHECKSUM_ALGORITHM, replaceObjectMetadata, type MetadataReplacementLimits } from './metadata-replacement.ts';

export interface MultipartUploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Stored from the start: with the upload's creation, or with the single PutObject unless `finish` is given other metadata. */
  readonly metadata?: Record<string, string>;
  /** At least 5 MiB, S3's smallest part but the last. */
  readonly partSizeBytes: number;
  /** Parts sent at once; writing waits while this many are in flight. */
  readonly queueSize: number;
  /** How metadata is replaced after a multipart upload; S3's own limits when omitted (tests lower them). */
  readonly metadataReplacement?: MetadataReplacementLimits;
}

/** How every output object is uploaded: WorkerConfig.upload. */
export type UploadSettings = Pick<MultipartUploadOptions, 'partSizeBytes' | 'queueSize' | 'metadataReplacement'>;

/** What `finish` stored. */
interface StoredState {
  readonly bytes: number;
  readonly eTag: string | undefined;
  readonly metadata: Readonly<Record<string, string>> | undefined;
}

/** S3's limit on the parts of one upload. */
const MAX_PARTS = 10_000;
/** An object starts in a buffer this small and grows to a part, so a small file costs little memory. */
export const FIRST_BUFFER_BYTES = 4 * 1024;
/** S3 verifies every part and the whole object against CRC32s the SDK computes. */
const CHECKSUM_ALGORITHM = OUTPUT_CHECKSUM_ALGORITHM;

export class MultipartUpload {
  private readonly s3: S3Client;
  private readonly options: MultipartUploadOptions;
  private readonly encoder = new TextEncoder();
  private buffer: Buffer;
  private used = 0;
  /** Part-sized buffers whose upload is done, ready to be filled again. */
  private readonly spare: Buffer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly parts: CompletedPart[] = [];
  private uploadId: Promise<string> | undefined;
  private failure: { readonly error: unknown } | undefined;
  private partsSent = 0;
  private lastWrite: Promise<void> | undefined;
  private bytesSent = 0;
  private stored: StoredState | undefined;

  constructor(s3: S3Client, options: MultipartUploadOptions) {
    this.s3 = s3;
    this.options = options;
    this.buffer = Buffer.allocUnsafeSlow(Math.min(FIRST_BUFFER_BYTES, options.partSizeBytes));
  }

  /**
   * Appends text (as UTF-8) or bytes, waiting while `queueSize` parts are in flight; fails as soon as a
   * part does. Writes not awaited one by one still land in the order they were made, as on a stream.
   */
  write(data: string | Uint8Array): Promise<void> {
    const previous = this.lastWrite;
    const write = (async () => {
      await previous?.catch(() => undefined);
      this.throwIfFailed();
      if (typeof data === 'string') await this.writeText(data);
      else await this.writeBytes(data);
    })();
    this.lastWrite = write;
    return write;
  }

  /**
   * Stores the object whole and returns its size in bytes. With `finalMetadata` the object ends with
   * that metadata instead of the options' one: after a multipart upload that costs a copy, and until
   * the copy succeeds the object carries the options' metadata (a failed copy throws like a failed upload).
   */
  async finish(finalMetadata?: Record<string, string>): Promise<number> {
    await this.lastWrite;
    this.throwIfFailed();
    if (this.uploadId === undefined) {
      const metadata = finalMetadata ?? this.options.metadata;
      const bytes = this.used;
      const put = await this.s3.send(new PutObjectCommand({ ...this.objectParams(metadata), Body: this.buffer.subarray(0, bytes) }));
      this.stored = { bytes, eTag: put.ETag, metadata };
      this.releaseBuffers();
      return bytes;
    }
    if (this.used > 0) this.sendPart();
    await Promise.all(this.inFlight);
    this.throwIfFailed();
    const uploadId = await this.uploadId;
    const parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const completed = await this.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: this.options.bucket, Key: this.options.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
    );
    this.stored = { bytes: this.bytesSent, eTag: completed.ETag, metadata: this.options.metadata };
    this.releaseBuffers();
    if (finalMetadata !== undefined) await this.replaceMetadata(finalMetadata);
    return this.bytesSent;
  }

  /**
   * After `finish`: gives the stored object `metadata` in place of what it carries, by a copy onto
   * itself (none when it carries exactly that already). The copy reads only the object `finish`
   * stored (its ETag): should another writer have replaced it meanwhile, the copy fails.
   */
  async replaceMetadata(metadata: Record<string, string>): Promise<void> {
    const stored = this.stored;
    if (stored === undefined) throw new Error(`s3://${this.options.bucket}/${this.options.key} is not stored yet: finish it first`);
    if (sameMetadata(stored.metadata, metadata)) return;
    const { bucket, key, contentType, metadataReplacement } = this.options;
    const eTag = await replaceObjectMetadata(this.s3, { bucket, key, contentType, bytes: stored.bytes, eTag: stored.eTag }, metadata, metadataReplacement);
    this.stored = { bytes: stored.bytes, eTag, metadata };
  }

  /** Discards whatever was sent; never throws. */
  async abort(): Promise<void> {
    this.failure ??= { error: new Error('the upload was aborted') };
    await Promise.allSettled(this.inFlight);
    const uploadId = await this.uploadId?.catch(() => undefined);
    if (uploadId === undefined) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.options.bucket, Key: this.options.key, UploadId: uploadId }))
      .catch(() => undefined);
  }

  private async writeText(text: string): Promise<void> {
    let rest = text;
    for (;;) {
      const { read, written } = this.encoder.encodeInto(rest, this.buffer.subarray(this.used));
      this.used += written;
      if (read === rest.length) return;
      rest = rest.slice(read);
      if (this.used < this.buffer.length) {
        // The next character's UTF-8 bytes straddle the end of the buffer. S3 refuses a part but the
        // last that is under 5 MiB, so it is split across the two parts like any other bytes.
        const width = (rest.codePointAt(0) ?? 0) > 0xffff ? 2 : 1;
        await this.writeBytes(Buffer.from(rest.slice(0, width)));
        rest = rest.slice(width);
        if (rest.length === 0) return;
      } else {
        await this.makeRoom();
      }
    }
  }

  private async writeBytes(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const count = Math.min(bytes.length - offset, this.buffer.length - this.used);
      this.buffer.set(bytes.subarray(offset, offset + count), this.used);
      this.used += count;
      offset += count;
      if (offset < bytes.length) await this.makeRoom();
    }
  }

  /** The buffer is full: grow it while it is smaller than a part, else send it and take an empty one. */
  private async makeRoom(): Promise<void> {
    const { partSizeBytes, queueSize } = this.options;
    if (this.buffer.length < partSizeBytes) {
      const grown = Buffer.allocUnsafeSlow(Math.min(partSizeBytes, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
      return;
    }
    // Aborted while this write waited: no new part, and above all no new multipart upload to leave behind.
    this.throwIfFailed();
    this.sendPart();
    while (this.inFlight.size >= queueSize && this.failure === undefined) await Promise.race(this.inFlight);
    this.throwIfFailed();
    this.buffer = this.spare.pop() ?? Buffer.allocUnsafeSlow(partSizeBytes);
    this.used = 0;
  }

  private sendPart(): void {
    if (this.partsSent >= MAX_PARTS) {
      const error = new Error(`s3://${this.options.bucket}/${this.options.key} would need more than ${MAX_PARTS} parts of ${this.options.partSizeBytes} bytes`);
      this.failure ??= { error };
      throw error;
    }
    const buffer = this.buffer;
    const body = buffer.subarray(0, this.used);
    this.partsSent += 1;
    const partNumber = this.partsSent;
    this.bytesSent += body.length;
    this.uploadId ??= this.createUpload();
    const sent = this.uploadPart(partNumber, body).then(
      () => {
        this.inFlight.delete(sent);
        if (buffer.length === this.options.partSizeBytes) this.spare.push(buffer);
      },
      (error: unknown) => {
        this.inFlight.delete(sent);
        this.failure ??= { error };
      },
    );
    this.inFlight.add(sent);
  }

  private async createUpload(): Promise<string> {
    const created = await this.s3.send(new CreateMultipartUploadCommand({ ...this.objectParams(), ChecksumAlgorithm: CHECKSUM_ALGORITHM }));
    if (created.UploadId === undefined) throw new Error(`CreateMultipartUpload for s3://${this.options.bucket}/${this.options.key} returned no UploadId`);
    return created.UploadId;
  }

  private async uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const uploadId = await (this.uploadId as Promise<string>);
    // Aborted meanwhile: there is nothing to send the part for.
    if (this.failure !== undefined) return;
    const { ETag, ChecksumCRC32 } = await this.s3.send(
      new UploadPartCommand({
        Bucket: this.options.bucket,
        Key: this.options.key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ChecksumAlgorithm: CHECKSUM_ALGORITHM,
      }),
    );
    if (ETag === undefined) throw new Error(`UploadPart ${partNumber} of s3://${this.options.bucket}/${this.options.key} returned no ETag`);
    this.parts.push({ PartNumber: partNumber, ETag, ...(ChecksumCRC32 ? { ChecksumCRC32 } : {}) });
  }

  private objectParams(metadata = this.options.metadata) {
    const { bucket, key, contentType } = this.options;
    return { Bucket: bucket, Key: key, ContentType: contentType, ...(metadata ? { Metadata: metadata } : {}) };
  }

  /** Stored: the part buffers are no longer needed, even if this object is kept to replace its metadata later. */
  private releaseBuffers(): void {
    this.buffer = Buffer.alloc(0);
    this.used = 0;
    this.spare.length = 0;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}

function sameMetadata(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const entries = Object.entries(a ?? {});
  return entries.length === Object.keys(b).length && entries.every(([name, value]) => b[name] === value);
}
