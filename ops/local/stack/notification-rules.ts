import type { QueueNotification } from './notification-configuration.ts';
import { S3RequestError } from './s3-request-error.ts';

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
