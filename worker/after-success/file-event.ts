/**
 * The completion event a file's success publishes (FILE_EVENTS_TOPIC_ARN): which raw object version, the
 * outputs stored, the counts by outcome and reason. Pure. Its id depends on the source version alone, so
 * a file processed again (a redelivered message) publishes an event with the same id.
 */
import { createHash } from 'node:crypto';
import type { StoredOutputs } from '../output/file-outputs.ts';
import type { FileTally } from '../records/line-outcomes.ts';
import type { SourceVersion } from './source-version.ts';

export const FILE_EVENT_TYPE = 'iot-ingest.file.processed';

/** SNS's limit on a message, body and attributes together. */
export const MAX_SNS_MESSAGE_BYTES = 256 * 1024;

export interface FileProcessedEvent {
  readonly type: typeof FILE_EVENT_TYPE;
  readonly eventId: string;
  readonly source: { readonly bucket: string; readonly key: string; readonly versionId: string | null; readonly eTag: string };
  readonly outputs: StoredOutputs;
  readonly counts: {
    readonly processed: number;
    readonly filtered: number;
    readonly rejected: number;
    readonly rejectedByReason: Readonly<Record<string, number>>;
  };
  /** From the start of the file to its outputs stored. */
  readonly durationMs: number;
  readonly workerVersion: string;
  /** ISO 8601, when the event was made. */
  readonly completedAt: string;
  /**
   * Only when the processed objects (Parquet: one per dt= partition) would not fit SNS's 256 KiB: how many were
   * left out of outputs.processed. The rejected output's provenance still names the file's counts.
   */
  readonly processedOutputsOmitted?: number;
}

/**
 * First 32 hex characters of SHA-256 over bucket, key, version id, ETag and Last-Modified (empty when none),
 * one per line: one upload, however often delivered, has one id; the same bytes uploaded again to an
 * unversioned bucket (A, B, A) are another upload, with another id.
 */
export function fileEventId(source: SourceVersion): string {
  const identity = [source.bucket, source.key, source.versionId ?? '', source.eTag.replace(/"/g, ''), source.lastModified ?? ''].join('\n');
  return createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, 32);
}

export interface FileEventInput {
  readonly source: SourceVersion;
  readonly outputs: StoredOutputs;
  readonly tally: FileTally;
  readonly durationMs: number;
  readonly workerVersion: string;
  readonly completedAtMs: number;
}

export function buildFileEvent(input: FileEventInput): FileProcessedEvent {
  const { source, tally } = input;
  return {
    type: FILE_EVENT_TYPE,
    eventId: fileEventId(source),
    source: { bucket: source.bucket, key: source.key, versionId: source.versionId ?? null, eTag: source.eTag.replace(/"/g, '') },
    outputs: input.outputs,
    counts: {
      processed: tally.processed,
      filtered: tally.filtered,
      rejected: tally.rejected,
      rejectedByReason: { ...tally.rejectedByReason },
    },
    durationMs: Math.round(input.durationMs),
    workerVersion: input.workerVersion,
    completedAt: new Date(input.completedAtMs).toISOString(),
  };
}

/** Room left in an SNS message for the attributes and for JSON escaping the body may still need on the way. */
const SNS_HEADROOM_BYTES = 4 * 1024;

/** The event as it is published: whole, or with processed outputs left out from the end until it fits SNS's limit. */
export function fitForSns(event: FileProcessedEvent, maxBytes = MAX_SNS_MESSAGE_BYTES - SNS_HEADROOM_BYTES): FileProcessedEvent {
  const bytes = (candidate: FileProcessedEvent) => Buffer.byteLength(JSON.stringify(candidate), 'utf8');
  if (bytes(event) <= maxBytes) return event;
  const all = event.outputs.processed;
  // The largest number of leading objects that fits: a binary search, since one event may list thousands.
  let low = 0;
  let high = all.length;
  const withFirst = (count: number): FileProcessedEvent => ({
    ...event,
    outputs: { ...event.outputs, processed: all.slice(0, count) },
    processedOutputsOmitted: all.length - count,
  });
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (bytes(withFirst(middle)) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  return withFirst(low);
}

/** The SNS message attributes, for subscription filter policies. */
export function fileEventAttributes(event: FileProcessedEvent): Record<string, { DataType: 'String'; StringValue: string }> {
  return {
    type: { DataType: 'String', StringValue: event.type },
    eventId: { DataType: 'String', StringValue: event.eventId },
  };
}
