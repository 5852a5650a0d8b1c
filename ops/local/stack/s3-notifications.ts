/**
 * S3 event notifications to SQS, which fauxqs lacks: the configuration endpoint, the hook that sees
 * an object created, and the delivery of S3's message to each matching queue through the stack's
 * own SQS API.
 */
import { HeadBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAwsClients, destroyAwsClients } from '../../../worker/common/aws-clients.ts';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import { errorMessage } from '../../../worker/common/error-message.ts';
import {
  assertValidNotifications,
  notificationConfigurationXml,
  notificationsFor,
  parseNotificationConfiguration,
  parseQueueArn,
} from './notification-configuration.ts';
import type { QueueNotification } from './notification-configuration.ts';
import { createdObjectOf, objectCreatedMessage, testEventMessage } from './s3-events.ts';
import type { CreatedObject } from './s3-events.ts';
import { bucketOf, keyOf, newHostId, newRequestId, principalIdOf, queryOf, S3RequestError, sendS3Error } from './s3-protocol.ts';
import { logToStderr } from './stderr-log.ts';

/** Each bucket's notification configuration, by bucket name. */
export type BucketNotifications = Map<string, readonly QueueNotification[]>;

/** SDK clients pointed at the local stack itself, one pair per region (fauxqs scopes queues by the signing region). */
export interface SelfClients {
  forRegion(region: string): AwsClients;
  destroy(): void;
}

/** `endpoint` is read when the first client is made: the stack knows its port only once it listens. */
export function createSelfClients(endpoint: () => string): SelfClients {
  const byRegion = new Map<string, AwsClients>();
  return {
    forRegion(region) {
      let clients = byRegion.get(region);
      if (clients === undefined) {
        clients = createAwsClients({ region, endpoint: endpoint(), forcePathStyle: true });
        byRegion.set(region, clients);
      }
      return clients;
    },
    destroy() {
      byRegion.forEach(destroyAwsClients);
      byRegion.clear();
    },
  };
}

export interface NotificationConfigurationEndpointOptions {
  readonly notifications: BucketNotifications;
  readonly clients: SelfClients;
  readonly region: string;
}

/**
 * Answers PutBucketNotificationConfiguration and GetBucketNotificationConfiguration
 * (`PUT|GET /bucket?notification`, which fauxqs would treat as CreateBucket and ListObjects),
 * and forgets a bucket's configuration when the bucket is deleted, as S3 does.
 */
export function registerNotificationConfigurationEndpoint(
  app: FastifyInstance,
  options: NotificationConfigurationEndpointOptions,
): void {
  app.addHook('preHandler', async (request, reply) => {
    const bucket = bucketOf(request);
    if (bucket === undefined || keyOf(request) || !('notification' in queryOf(request))) return;
    if (request.method !== 'PUT' && request.method !== 'GET') return;
    const requestId = newRequestId();
    const hostId = newHostId();
    reply.header('x-amz-request-id', requestId).header('x-amz-id-2', hostId);
    try {
      await assertBucketExists(options.clients.forRegion(options.region).s3, bucket);
      if (request.method === 'GET') {
        const xml = notificationConfigurationXml(options.notifications.get(bucket) ?? []);
        return reply.header('content-type', 'application/xml').send(xml);
      }
      await putConfiguration(options, request, bucket, { requestId, hostId });
      return reply.status(200).send();
    } catch (error) {
      if (error instanceof S3RequestError) return sendS3Error(reply, error, requestId);
      throw error;
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const bucket = bucketOf(request);
    const isDeleteBucket = request.method === 'DELETE' && bucket !== undefined && !keyOf(request);
    if (isDeleteBucket && reply.statusCode === 204 && Object.keys(queryOf(request)).length === 0) {
      options.notifications.delete(bucket);
    }
  });
}

async function assertBucketExists(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchBucket')) {
      throw new S3RequestError('NoSuchBucket', 'The specified bucket does not exist', 404);
    }
    throw error;
  }
}

async function putConfiguration(
  options: NotificationConfigurationEndpointOptions,
  request: FastifyRequest,
  bucket: string,
  ids: { requestId: string; hostId: string },
): Promise<void> {
  const notifications = parseNotificationConfiguration(bodyText(request.body));
  assertValidNotifications(notifications);
  const skipValidation = request.headers['x-amz-skip-destination-validation'] === 'true';
  const queueArns = [...new Set(notifications.map((notification) => notification.queueArn))];
  if (!skipValidation) await assertQueuesExist(options.clients, queueArns);
  if (notifications.length === 0) options.notifications.delete(bucket);
  else options.notifications.set(bucket, notifications);
  // Like S3, announce the configuration to every destination queue with an s3:TestEvent.
  const testEvent = testEventMessage({ bucket, time: new Date(), ...ids });
  await Promise.all(
    queueArns.map(async (queueArn) => {
      try {
        await sendToQueue(options.clients, queueArn, testEvent);
      } catch (error) {
        logToStderr('s3:TestEvent not delivered', { bucket, queueArn, error: errorMessage(error) });
      }
    }),
  );
}

async function assertQueuesExist(clients: SelfClients, queueArns: readonly string[]): Promise<void> {
  const unreachable: string[] = [];
  await Promise.all(
    queueArns.map(async (queueArn) => {
      try {
        await queueUrlOf(clients, queueArn);
      } catch {
        unreachable.push(queueArn);
      }
    }),
  );
  if (unreachable.length > 0) {
    throw new S3RequestError('InvalidArgument', `Unable to validate the following destination configurations: ${unreachable.join(', ')}`);
  }
}

function bodyText(body: unknown): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return typeof body === 'string' ? body : '';
}

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
      const versionId = headerText(reply, 'x-amz-version-id');
      options.delivery.deliver({
        ...created,
        ...(versionId === '' ? {} : { versionId }),
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

/** Everything known about an object creation when the emulator has answered it. */
export interface ObjectCreation extends CreatedObject {
  /** The version the write created, on a versioned bucket (bucket-versioning.ts). */
  readonly versionId?: string;
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
      .s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: creation.versionId }));
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

/** Resolves a queue ARN to its URL the way S3 would reach it: by name, in the ARN's region. */
async function queueUrlOf(clients: SelfClients, queueArn: string): Promise<string> {
  const { region, queueName } = parseQueueArn(queueArn);
  const { QueueUrl } = await clients.forRegion(region).sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  if (QueueUrl === undefined) throw new Error(`GetQueueUrl returned no URL for ${queueArn}`);
  return QueueUrl;
}

async function sendToQueue(clients: SelfClients, queueArn: string, body: string): Promise<void> {
  const queueUrl = await queueUrlOf(clients, queueArn);
  const { region } = parseQueueArn(queueArn);
  await clients.forRegion(region).sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}
