/**
 * Streams synthetic readings (ops/local/synthetic-data.ts) with devices of a registry
 * (registry-devices.ts) as JSON Lines, gzip-compressed if asked, to a writable: batches of lines,
 * written with backpressure, so a file of any size never sits in memory.
 * Deterministic: the same options give the same bytes, compressed or not.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { generateLines, MALFORMED_KINDS, type LineKind, type ReadingsOptions } from '../local/synthetic-data.ts';
import type { OutputStream } from './context.ts';
import { UsageError } from './exit-codes.ts';
import { checkDeviceMix, withRegistryDevices, type DeviceKind, type DeviceMix } from './registry-devices.ts';

export interface GenerateTally {
  records: number;
  valid: number;
  malformed: Record<(typeof MALFORMED_KINDS)[number], number>;
  /** Lines whose device the registry does not know (the rest have a registered device, or none if it is the missing field). */
  unregisteredDevices: number;
  /** Bytes written, after compression. */
  bytes: number;
}

const LINES_PER_CHUNK = 4_096;

/** The generator's options but its device count, which is the number of registered devices in the mix. */
export type ReadingsWithoutDevices = Omit<ReadingsOptions, 'devices'>;

function generatorOptions(readings: ReadingsWithoutDevices, mix: DeviceMix): ReadingsOptions {
  return { ...readings, devices: mix.registered.length };
}

/** Checks the options up front, so that a bad value is a usage error before any output is opened. */
export function checkReadingsOptions(readings: ReadingsWithoutDevices, mix: DeviceMix): void {
  try {
    generateLines(generatorOptions(readings, mix)).next();
    checkDeviceMix(mix);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`generate: ${error.message}`);
    throw error;
  }
}

function* jsonlChunks(readings: ReadingsWithoutDevices, mix: DeviceMix, tally: GenerateTally): Generator<Buffer> {
  let batch: string[] = [];
  const count = (kind: LineKind, device: DeviceKind) => {
    tally.records += 1;
    if (kind === 'valid') tally.valid += 1;
    else tally.malformed[kind] += 1;
    if (device === 'unregistered') tally.unregisteredDevices += 1;
  };
  for (const { line, kind, device } of withRegistryDevices(generateLines(generatorOptions(readings, mix)), mix)) {
    count(kind, device);
    batch.push(line);
    if (batch.length === LINES_PER_CHUNK) {
      yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
      batch = [];
    }
  }
  if (batch.length > 0) yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
}

export interface GenerateOptions {
  readonly readings: ReadingsWithoutDevices;
  readonly mix: DeviceMix;
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
    unregisteredDevices: 0,
    bytes: 0,
  };
  const plain = Readable.from(jsonlChunks(options.readings, options.mix, tally));
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
