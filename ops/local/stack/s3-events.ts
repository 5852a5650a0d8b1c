/**
 * S3's ObjectCreated events: which answered request created an object (PutObject, CopyObject,
 * PostObject, CompleteMultipartUpload), the sequencer that orders the events of one key, and the
 * message bodies S3 sends to SQS, field for field:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
import { formUploadKey } from './s3-protocol.ts';

export const OBJECT_CREATED_EVENT_NAMES = [
  'ObjectCreated:Put',
  'ObjectCreated:Post',
  'ObjectCreated:Copy',
  'ObjectCreated:CompleteMultipartUpload',
] as const;

export type ObjectCreatedEventName = (typeof OBJECT_CREATED_EVENT_NAMES)[number];

/** What the emulator answered, as an `onResponse` hook sees it (bucket and key already URL-decoded). */
export interface FinishedS3Request {
  readonly method: string;
  readonly statusCode: number;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface CreatedObject {
  readonly eventName: ObjectCreatedEventName;
  readonly bucket: string;
  readonly key: string;
}

const POST_OBJECT_SUCCESS = new Set([200, 201, 204, 303]);

/** The object a successful request created, or undefined for every other request. */
export function createdObjectOf(request: FinishedS3Request): CreatedObject | undefined {
  const { bucket, key } = request;
  if (bucket === undefined || bucket === '') return undefined;
  if (request.method === 'PUT' && key && request.statusCode === 200 && isPlainObjectWrite(request.query)) {
    const eventName = request.headers['x-amz-copy-source'] === undefined ? 'ObjectCreated:Put' : 'ObjectCreated:Copy';
    return { eventName, bucket, key };
  }
  if (request.method === 'POST' && key && request.statusCode === 200 && isMultipartCompletion(request.query)) {
    return { eventName: 'ObjectCreated:CompleteMultipartUpload', bucket, key };
  }
  if (request.method === 'POST' && !key && POST_OBJECT_SUCCESS.has(request.statusCode)) {
    const postedKey = formUploadKey(request.headers, request.body);
    return postedKey ? { eventName: 'ObjectCreated:Post', bucket, key: postedKey } : undefined;
  }
  return undefined;
}

// PutObject and CopyObject carry no sub-resource in the query: only the SDK's `x-id` and the
// parameters of a presigned URL. Anything else (uploadId, tagging, acl, ...) is another operation.
export function isPlainObjectWrite(query: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(query).every((name) => name === 'x-id' || /^x-amz-/i.test(name) || PRESIGN_V2_PARAMS.has(name));
}

const PRESIGN_V2_PARAMS = new Set(['AWSAccessKeyId', 'Expires', 'Signature']);

function isMultipartCompletion(query: Readonly<Record<string, unknown>>): boolean {
  return typeof query['uploadId'] === 'string' && query['uploadId'] !== '' && !('uploads' in query);
}

// S3 sequencers are hex strings that order the events of one key; compared at equal length,
// a later event has the greater value. Milliseconds in the high bits keep them increasing
// across restarts of the local stack, the counter within one millisecond.
const COUNTER_BITS = 16n;
const SEQUENCER_HEX_DIGITS = 18;

export function createSequencer(now: () => number = Date.now): () => string {
  let last = 0n;
  return () => {
    const fromClock = BigInt(now()) << COUNTER_BITS;
    last = fromClock > last ? fromClock : last + 1n;
    return last.toString(16).toUpperCase().padStart(SEQUENCER_HEX_DIGITS, '0');
  };
}

export interface ObjectCreatedEvent {
  readonly eventName: string;
  readonly eventTime: Date;
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  /** Only on a versioned bucket, as S3 sends it. */
  readonly versionId?: string | undefined;
  readonly sequencer: string;
  readonly configurationId: string;
  readonly principalId: string;
  readonly ownerPrincipalId: string;
  readonly sourceIpAddress: string;
  readonly requestId: string;
  readonly hostId: string;
}

export function objectCreatedMessage(event: ObjectCreatedEvent): string {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: event.region,
    eventTime: event.eventTime.toISOString(),
    eventName: event.eventName,
    userIdentity: { principalId: event.principalId },
    requestParameters: { sourceIPAddress: event.sourceIpAddress },
    responseElements: { 'x-amz-request-id': event.requestId, 'x-amz-id-2': event.hostId },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: event.configurationId,
      bucket: {
        name: event.bucket,
        ownerIdentity: { principalId: event.ownerPrincipalId },
        arn: `arn:aws:s3:::${event.bucket}`,
      },
      object: {
        key: encodeNotificationKey(event.key),
        size: event.size,
        eTag: event.eTag,
        ...(event.versionId === undefined ? {} : { versionId: event.versionId }),
        sequencer: event.sequencer,
      },
    },
  };
  return JSON.stringify({ Records: [record] });
}

export interface TestEvent {
  readonly bucket: string;
  readonly time: Date;
  readonly requestId: string;
  readonly hostId: string;
}

export function testEventMessage(event: TestEvent): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: event.time.toISOString(),
    Bucket: event.bucket,
    RequestId: event.requestId,
    HostId: event.hostId,
  });
}

// Bytes S3 leaves as they are in a notification key: the form-urlencoding safe set, plus `/`.
const UNENCODED_BYTE = /[A-Za-z0-9.*_/-]/;

/** Encodes a key as S3 does in notifications: UTF-8, form-urlencoded (space as `+`), `/` kept. */
export function encodeNotificationKey(key: string): string {
  let encoded = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const character = String.fromCharCode(byte);
    if (byte === 0x20) encoded += '+';
    else if (byte < 0x80 && UNENCODED_BYTE.test(character)) encoded += character;
    else encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
