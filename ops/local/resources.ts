import { BucketAlreadyOwnedByYou, CreateBucketCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import type { BucketLocationConstraint, QueueConfiguration } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import type { AwsClients } from '../../worker/common/aws-clients.ts';

export interface LocalResourceNames {
  readonly rawBucket: string;
  readonly processedBucket: string;
  readonly queueName: string;
  readonly dlqName: string;
}

/** The names `npm start` uses on the local stack. */
export const DEFAULT_LOCAL_NAMES = {
  rawBucket: 'iot-raw',
  processedBucket: 'iot-processed',
  queueName: 'iot-ingest',
  dlqName: 'iot-ingest-dlq',
} as const satisfies LocalResourceNames;

export interface LocalResourceOptions {
  /** Receives before SQS moves a message to the DLQ (1..1000). */
  readonly maxReceiveCount: number;
  /** The queue's VisibilityTimeout (0..43200 s); the SQS default (30 s) when omitted. */
  readonly visibilityTimeoutSeconds?: number;
  /** Notify only for keys ending in one of these (one QueueConfiguration each); every key when omitted or empty. */
  readonly suffixes?: readonly string[];
}

export interface LocalResources {
  readonly rawBucket: string;
  readonly processedBucket: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

const DLQ_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/**
 * Creates (or brings up to date) the raw and processed buckets, the queue and its DLQ, and points the
 * raw bucket's ObjectCreated notifications at the queue. Safe to run again on existing resources.
 */
export async function createLocalResources(
  clients: AwsClients,
  names: LocalResourceNames,
  options: LocalResourceOptions,
): Promise<LocalResources> {
  assertIntegerIn('maxReceiveCount', options.maxReceiveCount, 1, 1000);
  if (options.visibilityTimeoutSeconds !== undefined) {
    assertIntegerIn('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 0, 43_200);
  }
  await Promise.all([ensureBucket(clients, names.rawBucket), ensureBucket(clients, names.processedBucket)]);

  const dlq = await ensureQueue(clients, names.dlqName, { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) });
  const queue = await ensureQueue(clients, names.queueName, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: options.maxReceiveCount }),
    ...(options.visibilityTimeoutSeconds === undefined
      ? {}
      : { VisibilityTimeout: String(options.visibilityTimeoutSeconds) }),
  });
  // What real S3 needs before it may send to the queue; the emulator does not check it.
  await clients.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queue.url,
      Attributes: { Policy: JSON.stringify(serviceSendPolicy('AllowRawBucketNotifications', 's3.amazonaws.com', queue.arn, { test: 'ArnLike', arn: `arn:aws:s3:::${names.rawBucket}` })) },
    }),
  );

  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: names.rawBucket,
      NotificationConfiguration: { QueueConfigurations: queueConfigurations(queue.arn, options.suffixes ?? []) },
    }),
  );

  return {
    rawBucket: names.rawBucket,
    processedBucket: names.processedBucket,
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
  };
}

async function ensureBucket(clients: AwsClients, bucket: string): Promise<void> {
  const region = await clients.s3.config.region();
  // Outside us-east-1, S3 wants the region named in the request body.
  const configuration = region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } };
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket, ...configuration }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
  }
}

interface Queue {
  readonly url: string;
  readonly arn: string;
}

async function ensureQueue(clients: Pick<AwsClients, 'sqs'>, name: string, attributes: Record<string, string>): Promise<Queue> {
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })));
  } catch (error) {
    // The queue exists with other attributes (e.g. a changed maxReceiveCount): bring it up to date.
    if (!isQueueNameExists(error)) throw error;
    ({ QueueUrl: url } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name })));
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (url === undefined) throw new Error(`SQS returned no URL for queue ${name}`);
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`SQS returned no ARN for queue ${name}`);
  return { url, arn };
}

// Real SQS answers the JSON-protocol error (QueueNameExists); fauxqs the query-protocol code
// (AWS.SimpleQueueService.QueueNameExists), which the SDK surfaces as the error name.
function isQueueNameExists(error: unknown): boolean {
  return error instanceof QueueNameExists || (error instanceof Error && error.name.endsWith('QueueNameExists'));
}

/** A queue policy letting one AWS service send from one source ARN, as real SQS needs before S3 or SNS may deliver. */
function serviceSendPolicy(sid: string, service: string, queueArn: string, source: { readonly test: 'ArnLike' | 'ArnEquals'; readonly arn: string }): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: sid,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { [source.test]: { 'aws:SourceArn': source.arn } },
      },
    ],
  };
}

function queueConfigurations(queueArn: string, suffixes: readonly string[]): QueueConfiguration[] {
  const events = ['s3:ObjectCreated:*' as const];
  if (suffixes.length === 0) return [{ Id: 'raw-objects-to-ingest-queue', QueueArn: queueArn, Events: events }];
  return suffixes.map((suffix, index) => ({
    Id: `raw-objects-to-ingest-queue-${index + 1}`,
    QueueArn: queueArn,
    Events: events,
    Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }] } },
  }));
}

/** The names `npm start` gives the completion events' topic and the queue subscribed to it. */
export const DEFAULT_FILE_EVENTS_NAMES = { topicName: 'iot-ingest-file-events', queueName: 'iot-ingest-file-events' } as const satisfies FileEventsNames;

export interface FileEventsNames {
  readonly topicName: string;
  readonly queueName: string;
}

export interface FileEventsResources {
  /** FILE_EVENTS_TOPIC_ARN. */
  readonly topicArn: string;
  /** Where the events can be read: each SQS message is SNS's envelope (raw message delivery off, as SNS's default), the event in its Message. */
  readonly queueUrl: string;
  readonly queueArn: string;
}

/**
 * The topic the worker publishes completion events to, and a queue subscribed to it, as a consumer would
 * set them up. Safe to run again: CreateTopic and Subscribe return what exists.
 */
export async function createFileEventsResources(clients: Pick<AwsClients, 'sns' | 'sqs'>, names: FileEventsNames): Promise<FileEventsResources> {
  const { TopicArn: topicArn } = await clients.sns.send(new CreateTopicCommand({ Name: names.topicName }));
  if (topicArn === undefined) throw new Error(`SNS returned no ARN for topic ${names.topicName}`);
  const queue = await ensureQueue({ sqs: clients.sqs }, names.queueName, {});
  // What real SQS needs before SNS may send to the queue; the emulator does not check it.
  await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy: JSON.stringify(serviceSendPolicy('AllowFileEventsTopic', 'sns.amazonaws.com', queue.arn, { test: 'ArnEquals', arn: topicArn })) } }));
  await clients.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.arn }));
  return { topicArn, queueUrl: queue.url, queueArn: queue.arn };
}

function assertIntegerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
