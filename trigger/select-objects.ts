/**
 * Which objects of an S3 event notification become ingest messages, and why the others do not.
 * Pure: an event in, object messages and counts out.
 */
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { decodeS3EventKey } from '../worker/common/events.ts';
import { objectMessage, type ObjectMessage } from '../worker/common/object-message.ts';

/** What S3 sends once when a notification is configured; it announces no object. */
export interface S3TestEvent {
  readonly Service?: string;
  readonly Event: 's3:TestEvent';
  readonly Bucket?: string;
  readonly Time?: string;
}

export type TriggerEvent = S3Event | S3TestEvent;

export const SKIP_REASONS = {
  notObjectCreated: 'not_object_created',
  folderMarker: 'folder_marker',
  suffixNotMatched: 'suffix_not_matched',
  emptyObject: 'empty_object',
} as const;

export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];
export type SkippedCounts = Record<SkipReason, number>;

/** A record that is not a well-formed S3 object notification; never produced by S3 itself. */
export interface InvalidRecord {
  readonly index: number;
  readonly reason: string;
}

export type Selection =
  | { readonly kind: 'test-event'; readonly bucket: string | undefined }
  | {
      readonly kind: 'records';
      readonly received: number;
      readonly messages: readonly ObjectMessage[];
      readonly skipped: SkippedCounts;
      readonly invalid: readonly InvalidRecord[];
    };

type RecordOutcome =
  | { readonly kind: 'message'; readonly message: ObjectMessage }
  | { readonly kind: 'skipped'; readonly reason: SkipReason }
  | { readonly kind: 'invalid'; readonly reason: string };

export function noneSkipped(): SkippedCounts {
  return { not_object_created: 0, folder_marker: 0, suffix_not_matched: 0, empty_object: 0 };
}

function isTestEvent(event: TriggerEvent): event is S3TestEvent {
  return 'Event' in event && event.Event === 's3:TestEvent';
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function decodedKey(encoded: string): string | undefined {
  try {
    return decodeS3EventKey(encoded);
  } catch {
    return undefined;
  }
}

function selectRecord(record: S3EventRecord | undefined, suffixes: readonly string[]): RecordOutcome {
  // The types promise more than a hand-made or corrupted event may hold.
  const { eventSource, eventName, eventTime, s3 } = (record ?? {}) as Partial<S3EventRecord>;
  if (eventSource !== 'aws:s3' || s3 === undefined) return { kind: 'invalid', reason: 'not an S3 event record' };
  if (typeof eventName !== 'string' || !eventName.startsWith('ObjectCreated:')) {
    return { kind: 'skipped', reason: SKIP_REASONS.notObjectCreated };
  }
  const bucket = s3.bucket?.name;
  const object = s3.object;
  if (!nonEmptyString(bucket) || !nonEmptyString(object?.key)) return { kind: 'invalid', reason: 'no bucket name or object key' };
  const key = decodedKey(object.key);
  if (key === undefined) return { kind: 'invalid', reason: `object key ${JSON.stringify(object.key)} is not valid URL encoding` };

  if (key.endsWith('/')) return { kind: 'skipped', reason: SKIP_REASONS.folderMarker };
  if (!suffixes.some((suffix) => key.endsWith(suffix))) return { kind: 'skipped', reason: SKIP_REASONS.suffixNotMatched };
  if (object.size === 0) return { kind: 'skipped', reason: SKIP_REASONS.emptyObject };

  return {
    kind: 'message',
    message: objectMessage({
      bucket,
      key,
      ...(typeof object.size === 'number' ? { size: object.size } : {}),
      ...(nonEmptyString(object.eTag) ? { eTag: object.eTag.replace(/"/g, '') } : {}),
      ...(nonEmptyString(object.versionId) ? { versionId: object.versionId } : {}),
      ...(nonEmptyString(object.sequencer) ? { sequencer: object.sequencer } : {}),
      ...(nonEmptyString(eventTime) ? { eventTime } : {}),
    }),
  };
}

/** Splits an event's records into object messages (in record order), skip counts by reason and invalid records. */
export function selectObjects(event: TriggerEvent, suffixes: readonly string[]): Selection {
  if (isTestEvent(event)) return { kind: 'test-event', bucket: event.Bucket };
  const records: readonly (S3EventRecord | undefined)[] = Array.isArray(event.Records) ? event.Records : [];
  const messages: ObjectMessage[] = [];
  const skipped = noneSkipped();
  const invalid: InvalidRecord[] = [];
  records.forEach((record, index) => {
    const outcome = selectRecord(record, suffixes);
    if (outcome.kind === 'message') messages.push(outcome.message);
    else if (outcome.kind === 'skipped') skipped[outcome.reason] += 1;
    else invalid.push({ index, reason: outcome.reason });
  });
  return { kind: 'records', received: records.length, messages, skipped, invalid };
}
