/**
 * Streams synthetic readings (ops/local/synthetic-data.ts) as JSON Lines, gzip-compressed if asked, to a
 * writable: batches of lines, written with backpressure, so a file of any size never sits in memory.
 * Deterministic: the same options give the same bytes, compressed or not.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { generateLines, MALFORMED_KINDS, type LineKind, type ReadingsOptions } from '../local/synthetic-data.ts';
import type { OutputStream } from './context.ts';
import { UsageError } from './exit-codes.ts';

export interface GenerateTally {
  records: number;
  valid: number;
  malformed: Record<(typeof MALFORMED_KINDS)[number], number>;
  /** Bytes written, after compression. */
  bytes: number;
}

const LINES_PER_CHUNK = 4_096;

/** Checks the options up front, so that a bad value is a usage error before any output is opened. */
export function checkReadingsOptions(options: ReadingsOptions): void {
  try {
    generateLines(options).next();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`generate: ${error.message}`);
    throw error;
  }
}

function* jsonlChunks(options: ReadingsOptions, tally: GenerateTally): Generator<Buffer> {
  let batch: string[] = [];
  const count = (kind: LineKind) => {
    tally.records += 1;
    if (kind === 'valid') tally.valid += 1;
    else tally.malformed[kind] += 1;
  };
  for (const { line, kind } of generateLines(options)) {
    count(kind);
    batch.push(line);
    if (batch.length === LINES_PER_CHUNK) {
      yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
      batch = [];
    }
  }
  if (batch.length > 0) yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
}

export interface GenerateOptions {
  readonly readings: ReadingsOptions;
  readonly gzip: boolean;
  readonly signal: AbortSignal;
  readonly onRecords?: (records: number) => void;
}

/** Writes everything to `destination` (not ended here); resolves with the tally, or `interrupted`. */
export async function writeReadings(destination: OutputStream, options: GenerateOptions): Promise<{ tally: GenerateTally; interrupted: boolean }> {
  const tally: GenerateTally = {
    records: 0,
    valid: 0,
    malformed: Object.fromEntries(MALFORMED_KINDS.map((kind) => [kind, 0])) as GenerateTally['malformed'],
    bytes: 0,
  };
  const plain = Readable.from(jsonlChunks(options.readings, tally));
  const source: AsyncIterable<Buffer> = options.gzip ? plain.pipe(createGzip()) : plain;
  for await (const chunk of source) {
    if (options.signal.aborted) {
      plain.destroy();
      return { tally, interrupted: true };
    }
    tally.bytes += chunk.length;
    if (!destination.write(chunk)) await once(destination as unknown as NodeJS.EventEmitter, 'drain');
    options.onRecords?.(tally.records);
  }
  return { tally, interrupted: false };
}
