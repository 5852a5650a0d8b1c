import { describe, expect, it } from '@jest/globals';
import {
  assertValidNotifications,
  notificationConfigurationXml,
  notificationsFor,
  parseNotificationConfiguration,
} from '../../../../../ops/local/stack/notification-configuration.ts';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:iot-ingest';

function queueConfigurationXml(id: string, rules: string): string {
  return `<QueueConfiguration><Id>${id}</Id><Queue>${QUEUE_ARN}</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key>${rules}</S3Key></Filter></QueueConfiguration>`;
}

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
