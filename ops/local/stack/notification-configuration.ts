import { randomUUID } from 'node:crypto';
import { parseQueueArn } from './queue-arn.ts';
import { S3RequestError } from './s3-request-error.ts';
import { elementsNamed, escapeXml, textOf } from './xml-text.ts';

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
