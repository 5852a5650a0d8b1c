import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bucketOf, keyOf, queryOf } from './fastify-request.ts';
import { notificationConfigurationXml, parseNotificationConfiguration } from './notification-configuration.ts';
import type { QueueNotification } from './notification-configuration.ts';
import { assertValidNotifications } from './notification-rules.ts';
import { queueUrlOf, sendToQueue } from './queue-destination.ts';
import { newHostId, newRequestId } from './request-ids.ts';
import { S3RequestError, sendS3Error } from './s3-request-error.ts';
import { testEventMessage } from './s3-event-message.ts';
import type { SelfClients } from './self-clients.ts';
import { errorMessage } from '../../../worker/errors.ts';
import { logToStderr } from './stderr-log.ts';

/** Each bucket's notification configuration, by bucket name. */
export type BucketNotifications = Map<string, readonly QueueNotification[]>;

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
