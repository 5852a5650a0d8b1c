/**
 * Page compression. ZSTD is the default: Node's own zlib does it natively (no dependency) and, for
 * these records, it is both smaller and faster than the pure JavaScript SNAPPY bundled with
 * hyparquet-writer (measured when the writer was chosen; see the README). Athena, Glue, Spark and
 * DuckDB read both.
 */
import * as zlib from 'node:zlib';
import type { ParquetWriteOptions } from 'hyparquet-writer';

export const PARQUET_CODECS = { zstd: 'ZSTD', snappy: 'SNAPPY' } as const;
export type ParquetCodec = (typeof PARQUET_CODECS)[keyof typeof PARQUET_CODECS];

type Compressors = NonNullable<ParquetWriteOptions['compressors']>;

/** zstd's default level: most of the size gain of higher levels at a fraction of their CPU. */
const ZSTD_LEVEL = 3;

/** Whether this Node.js has zstd in zlib (22.15 and 23.8 onwards). */
export function zstdAvailable(): boolean {
  return typeof zlib.zstdCompressSync === 'function';
}

/** ZSTD where the runtime has it, SNAPPY otherwise, so that an older Node degrades instead of failing every file. */
export function defaultCodec(): ParquetCodec {
  return zstdAvailable() ? PARQUET_CODECS.zstd : PARQUET_CODECS.snappy;
}

/** The compressors hyparquet-writer needs for `codec` (it brings SNAPPY itself). */
export function compressorsFor(codec: ParquetCodec): Compressors {
  if (codec !== PARQUET_CODECS.zstd) return {};
  if (!zstdAvailable()) throw new Error(`ZSTD needs Node.js 22.15 or newer (zlib.zstdCompressSync); this is ${process.version}`);
  const params = { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL };
  return { ZSTD: (input: Uint8Array) => zlib.zstdCompressSync(input, { params }) };
}
