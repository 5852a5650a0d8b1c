import type { FastifyInstance, FastifyReply } from 'fastify';
import { bucketOf, keyOf, queryOf } from './fastify-request.ts';
import type { BucketNotifications } from './notification-configuration-endpoint.ts';
import type { NotificationDelivery } from './notification-delivery.ts';
import { notificationsFor } from './notification-rules.ts';
import { createdObjectOf } from './object-created-request.ts';
import { principalIdOf } from './request-principal.ts';
import { errorMessage } from '../../../worker/errors.ts';
import { logToStderr } from './stderr-log.ts';

export interface ObjectCreatedNotifierOptions {
  readonly notifications: BucketNotifications;
  readonly delivery: NotificationDelivery;
  readonly nextSequencer: () => string;
}

/**
 * Watches every answered request; one that created an object in a bucket with a matching
 * configuration starts a delivery. `onResponse` runs after fauxqs stored the object and answered,
 * so the notification can never overtake the object it announces.
 */
export function registerObjectCreatedNotifier(app: FastifyInstance, options: ObjectCreatedNotifierOptions): void {
  app.addHook('onResponse', async (request, reply) => {
    try {
      const query = queryOf(request);
      const created = createdObjectOf({
        method: request.method,
        statusCode: reply.statusCode,
        bucket: bucketOf(request),
        key: keyOf(request),
        query,
        headers: request.headers,
        body: request.body,
      });
      if (created === undefined) return;
      const notifications = notificationsFor(options.notifications.get(created.bucket) ?? [], created.eventName, created.key);
      if (notifications.length === 0) return;
      options.delivery.deliver({
        ...created,
        notifications,
        eventTime: new Date(),
        sequencer: options.nextSequencer(),
        principalId: principalIdOf(request.headers, query),
        sourceIpAddress: request.ip,
        requestId: headerText(reply, 'x-amz-request-id'),
        hostId: headerText(reply, 'x-amz-id-2'),
      });
    } catch (error) {
      logToStderr('S3 event notification not started', { method: request.method, url: request.url, error: errorMessage(error) });
    }
  });
}

function headerText(reply: FastifyReply, name: string): string {
  const value = reply.getHeader(name);
  return typeof value === 'string' ? value : '';
}
