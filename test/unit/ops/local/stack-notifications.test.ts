import { describe, expect, it } from '@jest/globals';
import {
  notificationConfigurationXml,
  parseNotificationConfiguration,
} from '../../../../ops/local/stack/notification-configuration.ts';
import { assertValidNotifications, notificationsFor } from '../../../../ops/local/stack/notification-rules.ts';
import { createdObjectOf } from '../../../../ops/local/stack/object-created-request.ts';
import type { FinishedS3Request } from '../../../../ops/local/stack/object-created-request.ts';
import { postObjectKey } from '../../../../ops/local/stack/post-object-key.ts';
import { encodeNotificationKey } from '../../../../ops/local/stack/s3-event-message.ts';
import { createSequencer } from '../../../../ops/local/stack/sequencer.ts';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:iot-ingest';

function queueConfigurationXml(id: string, rules: string): string {
  return `<QueueConfiguration><Id>${id}</Id><Queue>${QUEUE_ARN}</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key>${rules}</S3Key></Filter></QueueConfiguration>`;
}

function finished(request: Partial<FinishedS3Request>): FinishedS3Request {
  return { method: 'PUT', statusCode: 200, bucket: 'raw', key: 'a.jsonl', query: {}, headers: {}, body: undefined, ...request };
}

describe('encodeNotificationKey', () => {
  it.each([
    ['plain/key.jsonl', 'plain/key.jsonl'],
    ['with space', 'with+space'],
    ['a+b', 'a%2Bb'],
    ['100%', '100%25'],
    ['café/😀', 'caf%C3%A9/%F0%9F%98%80'],
    ["(x)~!'=&?#", '%28x%29%7E%21%27%3D%26%3F%23'],
    ['keep-_.*', 'keep-_.*'],
  ])('encodes %j as %j, which decodes back', (key, encoded) => {
    expect(encodeNotificationKey(key)).toBe(encoded);
    expect(decodeURIComponent(encoded.replaceAll('+', ' '))).toBe(key);
  });
});

describe('notification configuration XML', () => {
  it('reads what the SDK and the AWS CLI send, and writes it back as S3 does', () => {
    const xml = `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${queueConfigurationXml(
      'a&amp;b',
      '<FilterRule><Name>Prefix</Name><Value>in/&lt;x&gt;</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.jsonl</Value></FilterRule>',
    )}</NotificationConfiguration>`;

    const notifications = parseNotificationConfiguration(xml);

    expect(notifications).toEqual([
      { id: 'a&b', queueArn: QUEUE_ARN, events: ['s3:ObjectCreated:*'], prefix: 'in/<x>', suffix: '.jsonl' },
    ]);
    expect(parseNotificationConfiguration(notificationConfigurationXml(notifications))).toEqual(notifications);
    expect(notificationConfigurationXml(notifications)).toContain('<Name>Prefix</Name>');
  });

  it('treats an empty configuration as none and rejects what it cannot deliver', () => {
    expect(parseNotificationConfiguration('<NotificationConfiguration/>')).toEqual([]);
    expect(() => parseNotificationConfiguration('<nope/>')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() =>
      parseNotificationConfiguration('<NotificationConfiguration><TopicConfiguration/></NotificationConfiguration>'),
    ).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() =>
      parseNotificationConfiguration(
        `<NotificationConfiguration>${queueConfigurationXml('x', '<FilterRule><Name>middle</Name><Value>a</Value></FilterRule>')}</NotificationConfiguration>`,
      ),
    ).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});

describe('notification rules', () => {
  const base = { queueArn: QUEUE_ARN, events: ['s3:ObjectCreated:*'], prefix: '' } as const;

  it('rejects overlapping suffixes for the same event type, as S3 does', () => {
    expect(() =>
      assertValidNotifications([
        { ...base, id: 'gz', suffix: '.gz' },
        { ...base, id: 'jsonl-gz', suffix: '.jsonl.gz' },
      ]),
    ).toThrow(/ambiguously defined/);
    expect(() =>
      assertValidNotifications([
        { ...base, id: 'jsonl', suffix: '.jsonl' },
        { ...base, id: 'jsonl-gz', suffix: '.jsonl.gz' },
      ]),
    ).not.toThrow();
  });

  it('matches event types with or without a wildcard, and prefix and suffix on the decoded key', () => {
    const putOnly = { ...base, id: 'put', events: ['s3:ObjectCreated:Put'], prefix: 'in/', suffix: '.jsonl' };

    expect(notificationsFor([putOnly], 'ObjectCreated:Put', 'in/a b.jsonl')).toEqual([putOnly]);
    expect(notificationsFor([putOnly], 'ObjectCreated:CompleteMultipartUpload', 'in/a.jsonl')).toEqual([]);
    expect(notificationsFor([putOnly], 'ObjectCreated:Put', 'out/a.jsonl')).toEqual([]);
    expect(notificationsFor([{ ...base, id: 'all', suffix: '' }], 'ObjectCreated:Copy', 'x')).toHaveLength(1);
  });
});

describe('createdObjectOf', () => {
  it('recognises PutObject, presigned PUT, CopyObject and multipart completion', () => {
    expect(createdObjectOf(finished({ query: { 'x-id': 'PutObject' } }))?.eventName).toBe('ObjectCreated:Put');
    expect(createdObjectOf(finished({ query: { 'X-Amz-Signature': 'abc', 'X-Amz-Date': 'd' } }))?.eventName).toBe(
      'ObjectCreated:Put',
    );
    expect(createdObjectOf(finished({ headers: { 'x-amz-copy-source': 'raw/b' } }))?.eventName).toBe('ObjectCreated:Copy');
    expect(createdObjectOf(finished({ method: 'POST', query: { uploadId: 'u1' } }))?.eventName).toBe(
      'ObjectCreated:CompleteMultipartUpload',
    );
  });

  it('ignores parts, sub-resources, failures and bucket-level requests', () => {
    expect(createdObjectOf(finished({ query: { uploadId: 'u1', partNumber: '1', 'x-id': 'UploadPart' } }))).toBeUndefined();
    expect(createdObjectOf(finished({ query: { tagging: '' } }))).toBeUndefined();
    expect(createdObjectOf(finished({ method: 'POST', query: { uploads: '' } }))).toBeUndefined();
    expect(createdObjectOf(finished({ statusCode: 413 }))).toBeUndefined();
    expect(createdObjectOf(finished({ key: '' }))).toBeUndefined();
    expect(createdObjectOf(finished({ method: 'GET' }))).toBeUndefined();
  });
});

describe('postObjectKey', () => {
  it('reads the key field and substitutes ${filename} from the file part', () => {
    const boundary = 'XyZ';
    const body = Buffer.from(
      [
        `--${boundary}`,
        'Content-Disposition: form-data; name="key"',
        '',
        'uploads/${filename}',
        `--${boundary}`,
        'Content-Disposition: form-data; name="file"; filename="C:\\tmp\\día 1.jsonl"',
        'Content-Type: application/octet-stream',
        '',
        '{}',
        `--${boundary}--`,
        '',
      ].join('\r\n'),
    );

    expect(postObjectKey(body, `multipart/form-data; boundary=${boundary}`)).toBe('uploads/día 1.jsonl');
  });
});

describe('createSequencer', () => {
  it('gives strictly increasing hex strings of equal length, even within one millisecond', () => {
    const next = createSequencer(() => 1_700_000_000_000);
    const sequencers = [next(), next(), next()];

    expect(new Set(sequencers.map((sequencer) => sequencer.length)).size).toBe(1);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
  });
});
