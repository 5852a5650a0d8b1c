import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { QueueNotification } from './notification-configuration.ts';
import type { CreatedObject } from './object-created-request.ts';
import { sendToQueue } from './queue-destination.ts';
import { objectCreatedMessage } from './s3-event-message.ts';
import type { SelfClients } from './self-clients.ts';
import { errorMessage } from '../../../worker/errors.ts';
import { logToStderr } from './stderr-log.ts';

/** Everything known about an object creation when the emulator has answered it. */
export interface ObjectCreation extends CreatedObject {
  readonly eventTime: Date;
  readonly sequencer: string;
  readonly principalId: string;
  readonly sourceIpAddress: string;
  readonly requestId: string;
  readonly hostId: string;
  readonly notifications: readonly QueueNotification[];
}

export interface NotificationDelivery {
  /** Delivers in the background, as S3 does; a failure is logged to stderr, never thrown. */
  deliver(creation: ObjectCreation): void;
  /** Resolves when every delivery started so far, and any started meanwhile, has settled. */
  settled(): Promise<void>;
}

export interface NotificationDeliveryOptions {
  readonly clients: SelfClients;
  readonly region: string;
  readonly ownerPrincipalId: string;
}

export function createNotificationDelivery(options: NotificationDeliveryOptions): NotificationDelivery {
  const pending = new Set<Promise<void>>();

  return {
    deliver(creation) {
      const delivery = deliverAll(options, creation).finally(() => pending.delete(delivery));
      pending.add(delivery);
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled(pending);
    },
  };
}

async function deliverAll(options: NotificationDeliveryOptions, creation: ObjectCreation): Promise<void> {
  const { bucket, key } = creation;
  try {
    // Read back what was stored, so that size and ETag are those a reader of the object sees.
    const head = await options.clients
      .forRegion(options.region)
      .s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const size = head.ContentLength ?? 0;
    const eTag = (head.ETag ?? '').replaceAll('"', '');
    await Promise.all(
      creation.notifications.map(async (notification) => {
        const message = objectCreatedMessage({
          ...creation,
          region: options.region,
          size,
          eTag,
          configurationId: notification.id,
          ownerPrincipalId: options.ownerPrincipalId,
        });
        try {
          await sendToQueue(options.clients, notification.queueArn, message);
        } catch (error) {
          logToStderr('S3 event notification not delivered', { bucket, key, queueArn: notification.queueArn, error: errorMessage(error) });
        }
      }),
    );
  } catch (error) {
    logToStderr('S3 event notification not delivered: object not readable', { bucket, key, error: errorMessage(error) });
  }
}
