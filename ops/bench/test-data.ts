/**
 * The bench's inputs, all from the seeded generator (ops/local/synthetic-data.ts), so every scenario and
 * every run sees the same bytes: the large file (in memory and in a temporary file for the children),
 * the small files, and files of a given size made as a stream, never whole in memory.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { generateJsonl, generateLines, type ReadingsOptions } from '../local/synthetic-data.ts';

export const DATA_SEED = 20250711;
const DEVICES = 100;
const MALFORMED_RATIO = 0.01;

function readings(records: number, seed: number): ReadingsOptions {
  return { records, devices: DEVICES, seed, malformedRatio: MALFORMED_RATIO };
}

export interface LargeInput {
  readonly body: Buffer;
  readonly records: number;
  readonly sha256: string;
  /** The same bytes on disk, for child processes. */
  readonly file: string;
}

export function generateLargeInput(records: number, tempDir: string): LargeInput {
  const body = generateJsonl(readings(records, DATA_SEED));
  const file = join(tempDir, `large-${records}.jsonl`);
  writeFileSync(file, body);
  return { body, records, sha256: createHash('sha256').update(body).digest('hex'), file };
}

export interface SmallFile {
  readonly name: string;
  readonly body: Buffer;
}

/** `count` files of `records` lines, each with a seed of its own. */
export function generateSmallFiles(count: number, records: number): SmallFile[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, index) => ({
    name: `file-${String(index + 1).padStart(width, '0')}.jsonl`,
    body: generateJsonl(readings(records, DATA_SEED + 1 + index)),
  }));
}

export interface StreamedInput {
  readonly stream: Readable;
  /** Bytes and lines produced so far; final once the stream has ended. */
  readonly produced: () => { readonly bytes: number; readonly lines: number };
}

const STREAM_CHUNK_BYTES = 1024 * 1024;

/** Whole lines until at least `targetBytes`, in 1 MiB Buffers made as they are read. */
export function streamJsonl(targetBytes: number, seed: number): StreamedInput {
  let bytes = 0;
  let lines = 0;
  const lineSource = generateLines(readings(Number.MAX_SAFE_INTEGER, seed));
  function* chunks(): Generator<Buffer> {
    let batch: string[] = [];
    let batchBytes = 0;
    while (bytes + batchBytes < targetBytes) {
      const next = lineSource.next();
      if (next.done) break;
      const text = `${next.value.line}\n`;
      batch.push(text);
      batchBytes += Buffer.byteLength(text);
      lines += 1;
      if (batchBytes >= STREAM_CHUNK_BYTES) {
        bytes += batchBytes;
        yield Buffer.from(batch.join(''));
        batch = [];
        batchBytes = 0;
      }
    }
    bytes += batchBytes;
    if (batch.length > 0) yield Buffer.from(batch.join(''));
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), produced: () => ({ bytes, lines }) };
}
