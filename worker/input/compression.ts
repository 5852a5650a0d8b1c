/**
 * Which compression a raw object is in: its key's suffix says, else the magic bytes its body starts
 * with. Pure.
 */

export const COMPRESSIONS = { none: 'none', gzip: 'gzip', zstd: 'zstd' } as const;

export type Compression = (typeof COMPRESSIONS)[keyof typeof COMPRESSIONS];

const KEY_SUFFIXES: ReadonlyArray<readonly [string, Compression]> = [
  ['.gz', COMPRESSIONS.gzip],
  ['.zst', COMPRESSIONS.zstd],
];

const GZIP_MAGIC = [0x1f, 0x8b] as const;
/** A zstd frame's magic number, 0xFD2FB528 little-endian (RFC 8878, 3.1.1). */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/** The most bytes `compressionOfMagic` looks at. */
export const MAGIC_BYTES = ZSTD_MAGIC.length;

/** The compression the key's suffix names, if any. */
export function compressionOfKey(key: string): Compression | undefined {
  return KEY_SUFFIXES.find(([suffix]) => key.endsWith(suffix))?.[1];
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((byte, index) => bytes[index] === byte);
}

/** The compression the body's first bytes show (up to MAGIC_BYTES of them). */
export function compressionOfMagic(firstBytes: Uint8Array): Compression {
  if (startsWith(firstBytes, GZIP_MAGIC)) return COMPRESSIONS.gzip;
  if (startsWith(firstBytes, ZSTD_MAGIC)) return COMPRESSIONS.zstd;
  return COMPRESSIONS.none;
}

/** The key decides when its suffix names a compression (a `.gz` key that is not gzip fails as corrupt gzip); else the magic bytes. */
export function compressionOf(key: string, firstBytes: Uint8Array): Compression {
  return compressionOfKey(key) ?? compressionOfMagic(firstBytes);
}
