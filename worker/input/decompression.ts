/**
 * A raw object's body as the bytes it stands for: as stored, gunzipped or zstd-decompressed, the
 * compression chosen by compression.ts. Counts the stored bytes as they are read.
 */
import { pipeline as pipeStreams, Readable } from 'node:stream';
import { constants, createGunzip, createZstdDecompress } from 'node:zlib';
import { isZlibDataError } from '../errors.ts';
import { COMPRESSIONS, compressionOf, MAGIC_BYTES, type Compression } from './compression.ts';
import { ZstdFrameSplitter, type FramePiece } from './zstd-frames.ts';

/**
 * The largest zstd window accepted, as a power of two: 8 MiB, what levels up to 19 use. A frame may ask
 * for up to 2 GiB (`--long`, `--ultra`), which the decompressor would hold for the whole file.
 */
export const ZSTD_WINDOW_LOG_MAX = 23;

export interface DecodedBody {
  readonly compression: Compression;
  readonly decoded: AsyncIterable<Buffer>;
}

/** Stands in for zlib's own error when a zstd stream ends inside a frame or holds no frame. */
class UnexpectedEndOfInput extends Error {
  override readonly name = 'UnexpectedEndOfInput';
  readonly code = 'Z_BUF_ERROR';
}

const TRAILING_JUNK = 'ERR_TRAILING_JUNK_AFTER_STREAM_END';
const ZSTD_ERROR_PREFIX = 'ZSTD_error_';
const ZSTD_WINDOW_TOO_LARGE = 'ZSTD_error_frameParameter_windowTooLarge';

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The bytes themselves are bad (or cut short): a gzip or zstd decoder refused them. */
export function isCorruptInputError(error: unknown): boolean {
  const code = codeOf(error);
  return isZlibDataError(error) || code === TRAILING_JUNK || (code?.startsWith(ZSTD_ERROR_PREFIX) === true && code !== 'ZSTD_error_memory_allocation');
}

/** What a decoder's refusal means for whoever uploaded the object. */
export function corruptInputDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (codeOf(error) === ZSTD_WINDOW_TOO_LARGE) {
    return `${message}: a frame needs a window over ${2 ** ZSTD_WINDOW_LOG_MAX / 1024 / 1024} MiB (zstd --long or --ultra); compress with a level up to 19 without --long`;
  }
  return message;
}

/** The body's chunks as Buffers, counted, with at least MAGIC_BYTES of them read ahead (unless the body is shorter). */
async function readAhead(body: AsyncIterable<Uint8Array>, counter: { bytes: number }): Promise<{ readonly head: Buffer; readonly chunks: AsyncGenerator<Buffer> }> {
  const iterator = body[Symbol.asyncIterator]();
  const ahead: Buffer[] = [];
  let aheadBytes = 0;
  while (aheadBytes < MAGIC_BYTES) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    ahead.push(chunk);
    aheadBytes += chunk.length;
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const chunk of ahead) {
      counter.bytes += chunk.length;
      if (chunk.length > 0) yield chunk;
    }
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      counter.bytes += next.value.length;
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  }
  return { head: Buffer.concat(ahead).subarray(0, MAGIC_BYTES), chunks: chunks() };
}

function decompressed(input: AsyncIterable<Buffer>, decompressor: NodeJS.ReadWriteStream): AsyncIterable<Buffer> {
  // pipeStreams destroys every stage on failure, so an error on either side ends the reader's iteration.
  pipeStreams(Readable.from(input), decompressor, () => undefined);
  return decompressor as AsyncIterable<Buffer>;
}

/** A zstd stream's frames one after another, each through a decompressor of its own; skippable frames are passed over. */
async function* zstdDecoded(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const splitter = new ZstdFrameSplitter();
  const source = chunks[Symbol.asyncIterator]();
  const pending: FramePiece[] = [];
  let sawBytes = false;
  const nextPiece = async (): Promise<FramePiece | undefined> => {
    while (pending.length === 0) {
      const next = await source.next();
      if (next.done) return undefined;
      sawBytes ||= next.value.length > 0;
      pending.push(...splitter.split(next.value));
    }
    return pending.shift();
  };
  async function* frameBytes(first: FramePiece): AsyncGenerator<Buffer> {
    for (let piece: FramePiece | undefined = first; piece !== undefined; piece = piece.endsFrame ? undefined : await nextPiece()) {
      yield piece.bytes;
    }
  }

  for (let piece = await nextPiece(); piece !== undefined; piece = await nextPiece()) {
    if (piece.skippable) continue;
    // Should this reading of the headers and the decompressor ever disagree on where a frame ends, the
    // decompressor fails (rejectGarbageAfterEnd) rather than dropping what follows.
    const decompressor = createZstdDecompress({ params: { [constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX }, rejectGarbageAfterEnd: true });
    yield* decompressed(frameBytes(piece), decompressor);
  }
  if (!sawBytes || !splitter.betweenFrames) throw new UnexpectedEndOfInput('unexpected end of file');
}

/** Opens the body: reads its first bytes to tell its compression (when its key does not), and decodes it as it streams. */
export async function openDecodedBody(body: AsyncIterable<Uint8Array>, key: string, counter: { bytes: number }): Promise<DecodedBody> {
  const { head, chunks } = await readAhead(body, counter);
  const compression = compressionOf(key, head);
  if (compression === COMPRESSIONS.gzip) return { compression, decoded: decompressed(chunks, createGunzip()) };
  if (compression === COMPRESSIONS.zstd) return { compression, decoded: zstdDecoded(chunks) };
  return { compression, decoded: chunks };
}
