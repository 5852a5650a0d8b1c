/**
 * Turns an SQS message body into the S3 objects it announces.
 * Accepts the trigger's own object message, S3 event notifications (direct, SNS-wrapped or
 * EventBridge-shaped) and `s3:TestEvent`; anything else is a poison message.
 */
import { isJsonObject } from './json-object.ts';
import { OBJECT_MESSAGE_TYPE, OBJECT_MESSAGE_VERSION } from './object-message.ts';

/** One S3 object version that a message asks the worker to process. */
export interface ObjectRef {
  readonly bucket: string;
  /** Decoded: exactly the key as stored in S3. */
  readonly key: string;
  readonly size?: number;
  /** Without quotes, as S3 puts it in notifications. */
  readonly eTag?: string;
  readonly versionId?: string;
  /** S3's sequencer of the event (hex): orders two uploads of one key. Absent from reconcile's and backfill's messages. */
  readonly sequencer?: string;
  /**
   * When S3 announced the object (an S3 record's eventTime, an EventBridge event's time), as the event gave
   * it; present only when Date.parse reads it. Freshness is measured from it.
   */
  readonly eventTime?: string;
}

export type ParsedMessage =
  | { readonly kind: 'objects'; readonly objects: readonly ObjectRef[] }
  | { readonly kind: 'test-event'; readonly bucket: string | undefined }
  /** A well-formed event this pipeline has nothing to do for, such as ObjectRemoved. */
  | { readonly kind: 'ignored'; readonly reason: string };

/** A message that can never succeed, however often it is retried. */
export class PoisonMessageError extends Error {
  readonly reason: string;
  /** What is wrong, without the reason (the DLQ copy carries the two in separate attributes). */
  readonly detail: string;

  constructor(reason: string, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'PoisonMessageError';
    this.reason = reason;
    this.detail = detail;
  }
}

export const POISON_REASONS = {
  notJson: 'not_json',
  notAnS3Event: 'not_an_s3_event',
  invalidRecord: 'invalid_record',
} as const;

type Json = Record<string, unknown>;

/** For messages: any JSON value, even one whose toString is not callable. */
function describe(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** S3 notifications form-encode keys: `+` is a space, everything else is %XX. */
export function decodeS3EventKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new PoisonMessageError(POISON_REASONS.invalidRecord, `object key ${JSON.stringify(encoded)} is not valid URL encoding`);
  }
}

/** A time the event carries, kept as given when Date.parse reads it; anything else is left out, never an error. */
function eventTimeOf(value: unknown): Pick<ObjectRef, 'eventTime'> {
  return typeof value === 'string' && Number.isFinite(Date.parse(value)) ? { eventTime: value } : {};
}

function objectRef(bucket: unknown, object: Json, fields: { eTag: string; versionId: string }, index: number, eventTime: unknown): ObjectRef {
  if (!nonEmptyString(bucket)) {
    throw new PoisonMessageError(POISON_REASONS.invalidRecord, `record ${index} has no bucket name`);
  }
  if (!nonEmptyString(object.key)) {
    throw new PoisonMessageError(POISON_REASONS.invalidRecord, `record ${index} has no object key`);
  }
  const eTag = object[fields.eTag];
  const versionId = object[fields.versionId];
  const { sequencer } = object;
  return {
    bucket,
    key: decodeS3EventKey(object.key),
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
    ...(nonEmptyString(eTag) ? { eTag: eTag.replace(/"/g, '') } : {}),
    ...(nonEmptyString(versionId) ? { versionId } : {}),
    ...(nonEmptyString(sequencer) ? { sequencer } : {}),
    ...eventTimeOf(eventTime),
  };
}

function parseNotificationRecords(records: unknown[]): ParsedMessage {
  if (records.length === 0) throw new PoisonMessageError(POISON_REASONS.notAnS3Event, 'Records is empty');
  const objects: ObjectRef[] = [];
  const ignored: string[] = [];
  records.forEach((record, index) => {
    if (!isJsonObject(record) || record.eventSource !== 'aws:s3' || !isJsonObject(record.s3)) {
      throw new PoisonMessageError(POISON_REASONS.notAnS3Event, `record ${index} is not an S3 event record`);
    }
    const eventName = typeof record.eventName === 'string' ? record.eventName : '';
    if (!eventName.startsWith('ObjectCreated:')) {
      ignored.push(eventName || 'unnamed event');
      return;
    }
    const { bucket, object } = record.s3;
    if (!isJsonObject(bucket) || !isJsonObject(object)) {
      throw new PoisonMessageError(POISON_REASONS.invalidRecord, `record ${index} lacks s3.bucket or s3.object`);
    }
    objects.push(objectRef(bucket.name, object, { eTag: 'eTag', versionId: 'versionId' }, index, record.eventTime));
  });
  if (objects.length === 0) return { kind: 'ignored', reason: `not an object creation: ${ignored.join(', ')}` };
  return { kind: 'objects', objects };
}

function parseEventBridgeEvent(event: Json): ParsedMessage {
  const detailType = event['detail-type'];
  if (detailType !== 'Object Created') return { kind: 'ignored', reason: `not an object creation: ${describe(detailType)}` };
  const { detail } = event;
  if (!isJsonObject(detail) || !isJsonObject(detail.bucket) || !isJsonObject(detail.object)) {
    throw new PoisonMessageError(POISON_REASONS.invalidRecord, 'EventBridge event lacks detail.bucket or detail.object');
  }
  return { kind: 'objects', objects: [objectRef(detail.bucket.name, detail.object, { eTag: 'etag', versionId: 'version-id' }, 0, event.time)] };
}

function parseObjectMessage(message: Json): ParsedMessage {
  if (message.version !== OBJECT_MESSAGE_VERSION) {
    throw new PoisonMessageError(POISON_REASONS.invalidRecord, `${OBJECT_MESSAGE_TYPE} version ${describe(message.version)} is not supported`);
  }
  if (!nonEmptyString(message.bucket) || !nonEmptyString(message.key)) {
    throw new PoisonMessageError(POISON_REASONS.invalidRecord, `${OBJECT_MESSAGE_TYPE} needs a bucket and a key`);
  }
  const { bucket, key, size, eTag, versionId, sequencer, eventTime } = message;
  return {
    kind: 'objects',
    objects: [
      {
        bucket,
        key,
        ...(typeof size === 'number' ? { size } : {}),
        ...(nonEmptyString(eTag) ? { eTag: eTag.replace(/"/g, '') } : {}),
        ...(nonEmptyString(versionId) ? { versionId } : {}),
        ...(nonEmptyString(sequencer) ? { sequencer } : {}),
        ...eventTimeOf(eventTime),
      },
    ],
  };
}

/** `allowEnvelope`: one SNS or on-failure wrapper is unwrapped, never a wrapper inside it. */
function parseEvent(event: unknown, allowEnvelope: boolean): ParsedMessage {
  if (!isJsonObject(event)) throw new PoisonMessageError(POISON_REASONS.notAnS3Event, 'the body is not a JSON object');
  if (event.type === OBJECT_MESSAGE_TYPE) return parseObjectMessage(event);
  if (Array.isArray(event.Records)) return parseNotificationRecords(event.Records);
  if (event.Event === 's3:TestEvent') {
    return { kind: 'test-event', bucket: typeof event.Bucket === 'string' ? event.Bucket : undefined };
  }
  if (event.source === 'aws.s3' && 'detail-type' in event) return parseEventBridgeEvent(event);
  // The trigger Lambda's on-failure destination record: the S3 event it could not forward.
  if (allowEnvelope && isJsonObject(event.requestContext) && isJsonObject(event.requestPayload)) return parseEvent(event.requestPayload, false);
  if (allowEnvelope && event.Type === 'Notification' && typeof event.Message === 'string') {
    return parseEvent(parseJson(event.Message, 'the SNS Message'), false);
  }
  throw new PoisonMessageError(POISON_REASONS.notAnS3Event, 'no Records, s3:TestEvent, EventBridge or SNS envelope found');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PoisonMessageError(POISON_REASONS.notJson, `${what} is not JSON`);
  }
}

/** Parses one SQS message body; throws `PoisonMessageError` for anything that can never be processed. */
export function parseMessageBody(body: string | undefined): ParsedMessage {
  if (body === undefined || body.length === 0) throw new PoisonMessageError(POISON_REASONS.notJson, 'the body is empty');
  return parseEvent(parseJson(body, 'the body'), true);
}
