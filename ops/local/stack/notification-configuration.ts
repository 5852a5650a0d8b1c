/**
 * A bucket's notification configuration as data: read from and written back to S3's XML, checked
 * against the rules S3 itself applies, and matched against an event on a key.
 */
import { randomUUID } from 'node:crypto';
import { elementsNamed, escapeXml, S3RequestError, textOf } from './s3-protocol.ts';

/** One `QueueConfiguration` of a bucket; an absent prefix or suffix rule is ''. */
export interface QueueNotification {
  readonly id: string;
  readonly queueArn: string;
  readonly events: readonly string[];
  readonly prefix: string;
  readonly suffix: string;
}

const UNSUPPORTED_DESTINATIONS = [
  'TopicConfiguration',
  'CloudFunctionConfiguration',
  'LambdaFunctionConfiguration',
  'EventBridgeConfiguration',
] as const;

const RULE_NAMES = { prefix: 'Prefix', suffix: 'Suffix' } as const;

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function parseNotificationConfiguration(xml: string): QueueNotification[] {
  const [root] = elementsNamed(xml, 'NotificationConfiguration');
  if (root === undefined) {
    throw new S3RequestError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  for (const destination of UNSUPPORTED_DESTINATIONS) {
    if (elementsNamed(root, destination).length > 0) {
      throw new S3RequestError('InvalidArgument', `${destination} is not supported by the local stack: it delivers to SQS queues only`);
    }
  }
  return elementsNamed(root, 'QueueConfiguration').map(parseQueueConfiguration);
}

function parseQueueConfiguration(xml: string): QueueNotification {
  const queueArn = textOf(xml, 'Queue')?.trim();
  const events = elementsNamed(xml, 'Event').map((event) => event.trim());
  if (queueArn === undefined || events.length === 0) {
    throw new S3RequestError('MalformedXML', 'A QueueConfiguration needs a Queue and at least one Event');
  }
  parseQueueArn(queueArn);
  return { id: textOf(xml, 'Id')?.trim() || randomUUID(), queueArn, events, ...parseKeyFilter(xml) };
}

function parseKeyFilter(xml: string): { prefix: string; suffix: string } {
  const filter = { prefix: '', suffix: '' };
  const seen = new Set<string>();
  for (const rule of elementsNamed(xml, 'FilterRule')) {
    const name = textOf(rule, 'Name')?.trim().toLowerCase();
    if (name !== 'prefix' && name !== 'suffix') {
      throw new S3RequestError('InvalidArgument', 'FilterRule name must be either prefix or suffix');
    }
    if (seen.has(name)) {
      throw new S3RequestError('InvalidArgument', `Cannot specify more than one ${name} rule in a filter.`);
    }
    seen.add(name);
    filter[name] = textOf(rule, 'Value') ?? '';
  }
  return filter;
}

export function notificationConfigurationXml(notifications: readonly QueueNotification[]): string {
  const configurations = notifications.map((notification) => {
    const events = notification.events.map((event) => `<Event>${escapeXml(event)}</Event>`).join('');
    return `<QueueConfiguration><Id>${escapeXml(notification.id)}</Id><Queue>${escapeXml(notification.queueArn)}</Queue>${events}${filterXml(notification)}</QueueConfiguration>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="${S3_NAMESPACE}">${configurations.join('')}</NotificationConfiguration>`;
}

function filterXml(notification: QueueNotification): string {
  // S3 answers the rule names capitalised, whatever case they were configured in.
  const rules = (['prefix', 'suffix'] as const)
    .filter((name) => notification[name] !== '')
    .map((name) => `<FilterRule><Name>${RULE_NAMES[name]}</Name><Value>${escapeXml(notification[name])}</Value></FilterRule>`);
  return rules.length === 0 ? '' : `<Filter><S3Key>${rules.join('')}</S3Key></Filter>`;
}

export interface QueueArn {
  readonly region: string;
  readonly accountId: string;
  readonly queueName: string;
}

const SQS_QUEUE_ARN = /^arn:[a-z-]+:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

export function parseQueueArn(arn: string): QueueArn {
  const match = SQS_QUEUE_ARN.exec(arn);
  const [, region, accountId, queueName] = match ?? [];
  if (region === undefined || accountId === undefined || queueName === undefined) {
    throw new S3RequestError('InvalidArgument', `The ARN is not well formed: ${arn}`);
  }
  if (queueName.endsWith('.fifo')) {
    throw new S3RequestError('InvalidArgument', `S3 does not send event notifications to FIFO queues: ${arn}`);
  }
  return { region, accountId, queueName };
}

// Event types as S3 spells them in a configuration: `s3:ObjectCreated:Put`, `s3:ObjectCreated:*`, ...
const EVENT_TYPE = /^s3:[A-Za-z]+(?::[A-Za-z]+)*(?::\*)?$/;

/** Rejects what S3 itself rejects, so that a configuration that works here also works on AWS. */
export function assertValidNotifications(notifications: readonly QueueNotification[]): void {
  for (const notification of notifications) {
    const unknown = notification.events.find((event) => !EVENT_TYPE.test(event));
    if (unknown !== undefined) {
      throw new S3RequestError('InvalidArgument', `The event is not supported for notifications: ${unknown}`);
    }
  }
  notifications.forEach((first, index) => {
    for (const second of notifications.slice(index + 1)) {
      if (first.id === second.id) {
        throw new S3RequestError('InvalidArgument', `Configuration Id must be unique: ${first.id}`);
      }
      if (overlap(first, second)) {
        throw new S3RequestError(
          'InvalidArgument',
          'Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.',
        );
      }
    }
  });
}

function overlap(first: QueueNotification, second: QueueNotification): boolean {
  const sameEventType = first.events.some((a) => second.events.some((b) => eventTypesOverlap(a, b)));
  const prefixesOverlap = first.prefix.startsWith(second.prefix) || second.prefix.startsWith(first.prefix);
  const suffixesOverlap = first.suffix.endsWith(second.suffix) || second.suffix.endsWith(first.suffix);
  return sameEventType && prefixesOverlap && suffixesOverlap;
}

function eventTypesOverlap(a: string, b: string): boolean {
  return eventTypeMatches(a, b) || eventTypeMatches(b, a);
}

/** Whether a configured event type (maybe ending in `*`) covers an event type such as `s3:ObjectCreated:Put`. */
function eventTypeMatches(configured: string, eventType: string): boolean {
  return configured.endsWith('*') ? eventType.startsWith(configured.slice(0, -1)) : configured === eventType;
}

/** The configurations that want to hear about `eventName` (e.g. `ObjectCreated:Put`) on this decoded key. */
export function notificationsFor(
  notifications: readonly QueueNotification[],
  eventName: string,
  key: string,
): QueueNotification[] {
  return notifications.filter(
    (notification) =>
      notification.events.some((configured) => eventTypeMatches(configured, `s3:${eventName}`)) &&
      key.startsWith(notification.prefix) &&
      key.endsWith(notification.suffix),
  );
}
