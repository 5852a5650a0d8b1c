/**
 * What one file may hold in memory while it runs, reserved from the byte budget (byte-budget.ts) before
 * it starts: from the object size its message carries, capped at what any file can hold at most. Pure.
 *
 * A file holds the GetObject stream's buffer, a decompressor and compressors when the input is compressed,
 * at most one line that spans its chunks, and two outputs (processed, rejected). An output's bytes go into
 * a buffer that starts small and doubles up to one part; past a part it holds the part being filled and up
 * to UPLOAD_QUEUE_SIZE parts being sent (multipart-upload.ts). With Parquet the processed output is up to
 * DEFAULT_MAX_OPEN_PARTITIONS objects, each with its row group of decoded values.
 */
import type { ObjectRef } from '../common/events.ts';
import { FIRST_BUFFER_BYTES, type UploadSettings } from '../output/multipart-upload.ts';
import { COMPRESSIONS, compressionOfKey, type Compression } from '../input/compression.ts';
import { DEFAULT_MAX_OPEN_PARTITIONS, DEFAULT_ROW_GROUP_ROWS } from '../output/parquet/partitioned-writer.ts';

const KIBIBYTE = 1024;
const MEBIBYTE = 1024 * KIBIBYTE;

/** The response stream's buffer (Node's default high-water mark of 64 KiB) and the chunk being split. */
export const READ_BUFFER_BYTES = 128 * KIBIBYTE;
/** Two deflate streams at zlib's defaults (256 KiB each), an inflate stream and their chunks. */
export const ZLIB_STATE_BYTES = MEBIBYTE;
/**
 * A zstd decompressor with its window of up to 8 MiB (ZSTD_WINDOW_LOG_MAX) and its output buffers, about 16 MiB,
 * and the two outputs' zstd compressors at the default level (about 3 MiB each, measured on Node 24).
 */
export const ZSTD_STATE_BYTES = 16 * MEBIBYTE + 2 * 4 * MEBIBYTE;
/**
 * By the key's suffix. A key without one may still hold gzip or zstd, told by its magic bytes (compression.ts): its
 * cap allows for zlib's state, not for zstd's, which a zstd object should announce with `.zst`.
 */
const COMPRESSION_STATE_BYTES: Readonly<Record<Compression, number>> = { none: 0, gzip: ZLIB_STATE_BYTES, zstd: ZSTD_STATE_BYTES };
/** Output bytes per input byte, at most: a processed record gains location_id and temp_fahrenheit, a rejected line is quoted and gains its reason. */
const OUTPUT_BYTES_PER_INPUT_BYTE = 1.5;
/** An output buffer doubles as it fills, so its capacity is up to twice the bytes it holds. */
const BUFFER_GROWTH = 2;
/** A buffered Parquet row: its decoded values (five doubles, three string references) and the encoder's work on them. */
const PARQUET_BYTES_PER_BUFFERED_ROW = 128;

export interface FileMemorySettings extends UploadSettings {
  readonly maxLineBytes: number;
  readonly format: 'jsonl' | 'parquet';
}

/** One output at its fullest: the part being filled and `queueSize` parts being sent. */
function outputCapBytes(settings: UploadSettings): number {
  return (settings.queueSize + 1) * settings.partSizeBytes;
}

function processedOutputCapBytes(settings: FileMemorySettings): number {
  if (settings.format === 'jsonl') return outputCapBytes(settings);
  return DEFAULT_MAX_OPEN_PARTITIONS * (outputCapBytes(settings) + DEFAULT_ROW_GROUP_ROWS * PARQUET_BYTES_PER_BUFFERED_ROW);
}

/** The most one file can hold, whatever its size, by the compression its key says. */
export function fileMemoryCapBytes(settings: FileMemorySettings, compression: Compression = COMPRESSIONS.none): number {
  const compressionStateBytes = Math.max(ZLIB_STATE_BYTES, COMPRESSION_STATE_BYTES[compression]);
  return READ_BUFFER_BYTES + compressionStateBytes + settings.maxLineBytes + processedOutputCapBytes(settings) + outputCapBytes(settings);
}

/**
 * The bytes to reserve for one file: from its size when the message carries it, else the cap. A gzip
 * or zstd object (by its key) is reserved its (de)compressors' state and the lines of any length it may
 * decompress to; its outputs are compressed the same way, so they grow with the compressed size.
 */
export function fileReservationBytes(ref: Pick<ObjectRef, 'key' | 'size'>, settings: FileMemorySettings): number {
  const compression = compressionOfKey(ref.key) ?? COMPRESSIONS.none;
  const cap = fileMemoryCapBytes(settings, compression);
  if (ref.size === undefined) return cap;
  const compressed = compression !== COMPRESSIONS.none;
  const lineBytes = compressed ? settings.maxLineBytes : Math.min(settings.maxLineBytes, ref.size);
  const outputBytes = BUFFER_GROWTH * OUTPUT_BYTES_PER_INPUT_BYTE * ref.size + 2 * FIRST_BUFFER_BYTES;
  const estimate = READ_BUFFER_BYTES + COMPRESSION_STATE_BYTES[compression] + lineBytes + outputBytes;
  return Math.min(cap, Math.ceil(estimate));
}
