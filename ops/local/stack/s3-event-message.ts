// The message bodies S3 sends to SQS, field for field:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html

export interface ObjectCreatedEvent {
  readonly eventName: string;
  readonly eventTime: Date;
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
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
