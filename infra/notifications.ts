import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type { aws_s3 as s3Refs } from 'aws-cdk-lib/interfaces';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { queueKeyStatement, type DeliveringService } from './encryption.ts';
import { ObjectCreatedEvents } from './object-created-events.ts';
import type { NotificationMode } from './settings.ts';
import { sourceBuckets, type IngestSource } from './sources.ts';
import { projectPath } from './project-path.ts';

export interface NotificationsProps {
  readonly mode: NotificationMode;
  /**
   * Where raw objects come from (sources.ts). In direct and trigger mode the stack's raw bucket is one it creates
   * (settings.ts): those modes write its notification configuration, one filter rule per source prefix and suffix.
   */
  readonly sources: readonly IngestSource[];
  readonly queue: sqs.Queue;
  /** Where the trigger's events go when Lambda's own retries are exhausted; the worker reads them after a redrive. */
  readonly deadLetterQueue: sqs.Queue;
  readonly suffixes: readonly string[];
  readonly logRetentionDays: number;
  /** The queues' customer key, which the trigger encrypts its messages with; undefined with SQS-managed encryption. */
  readonly queueKey: kms.IKey | undefined;
}

/**
 * The DLQ as the trigger's on-failure destination, as aws-lambda-destinations' SqsDestination is but without its
 * grantSendMessages, which adds sqs:GetQueueAttributes and, with a customer key, kms:Encrypt, ReEncrypt* and
 * GenerateDataKey*: the trigger's role gets exactly sqs:SendMessage and what sending needs of the key instead.
 */
class QueueOnFailure implements lambda.IDestination {
  private readonly queue: sqs.IQueue;

  constructor(queue: sqs.IQueue) {
    this.queue = queue;
  }

  bind(): lambda.DestinationConfig {
    return { destination: this.queue.queueArn };
  }
}

/**
 * S3 → SQS as aws-s3-notifications' SqsDestination does it, but the queue policy's statement for S3 names the
 * account as well as the bucket (aws:SourceAccount next to aws:SourceArn): a bucket ARN carries no account, so
 * the account condition is what stops a bucket of that name in another account from sending (confused deputy).
 * A customer queue key lets S3 use it in its key policy (encryption.ts, through deliveringServices).
 */
class QueueDestination implements s3.IBucketNotificationDestination {
  private readonly queue: sqs.IQueue;

  constructor(queue: sqs.IQueue) {
    this.queue = queue;
  }

  bind(_scope: Construct, bucket: s3Refs.IBucketRef): s3.BucketNotificationDestinationConfig {
    allowBucketToSend(this.queue, bucket.bucketRef.bucketArn, Stack.of(bucket).account);
    // The queue, with its policy: S3 checks the permission when the notification configuration is written.
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}

/**
 * Lets S3 send the notifications of the bucket `bucketArn` of `account` to the queue, and no other bucket's. The
 * queue policy only: grantSendMessages would also put the bucket's ARN into a customer key's policy, and the
 * bucket, encrypted with that key, would then depend on the key and the key on the bucket. The key policy lets
 * S3 use the key whatever the bucket (encryption.ts); which bucket may send is this statement's to say.
 */
function allowBucketToSend(queue: sqs.IQueue, bucketArn: string, account: string): void {
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      resources: [queue.queueArn],
      conditions: { ArnLike: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': account } },
    }),
  );
}

/**
 * Announces every new raw object on the queue: directly (S3 → SQS), through the trigger Lambda, or through EventBridge.
 * The stack's raw bucket goes the way of the mode; any other bucket of the account through an EventBridge rule
 * (the stack never writes its notification configuration); a bucket of another account sends its own S3
 * notifications straight to the queue, which lets exactly that bucket of that account send (cross-account.ts
 * writes what its owner must configure).
 */
export class Notifications extends Construct {
  readonly trigger: NodejsFunction | undefined;
  readonly triggerLogGroup: logs.LogGroup | undefined;
  /** One rule per bucket whose events come through EventBridge, in the order of the sources. */
  readonly objectCreatedEvents: readonly ObjectCreatedEvents[];
  /** The AWS services that send to the queues on their own behalf: a customer queue key must let them (encryption.ts). */
  readonly deliveringServices: readonly DeliveringService[];

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const crossAccount = props.sources.filter((source) => source.account !== undefined);
    const sameAccount = props.sources.filter((source) => source.account === undefined);
    const byS3 = props.mode === 'eventbridge' ? [] : sameAccount.filter((source) => source.reference === undefined);
    const byEventBridge = sameAccount.filter((source) => !byS3.includes(source));

    if (byS3.length > 0) {
      let destination: s3.IBucketNotificationDestination;
      if (props.mode === 'direct') {
        destination = new QueueDestination(props.queue);
      } else {
        ({ trigger: this.trigger, logGroup: this.triggerLogGroup } = this.createTrigger(props));
        destination = new s3n.LambdaDestination(this.trigger);
      }
      for (const source of byS3) {
        for (const suffix of props.suffixes) {
          const filter = source.prefix === '' ? { suffix } : { prefix: source.prefix, suffix };
          source.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, filter);
        }
      }
    }
    this.objectCreatedEvents = sourceBuckets(byEventBridge).map(
      (group, index) =>
        new ObjectCreatedEvents(this, index === 0 ? 'ObjectCreated' : `ObjectCreated${index + 1}`, {
          bucket: group.bucket,
          prefixes: group.sources.map((source) => source.prefix),
          queue: props.queue,
          deadLetterQueue: props.deadLetterQueue,
          suffixes: props.suffixes,
        }),
    );
    for (const group of sourceBuckets(crossAccount)) allowBucketToSend(props.queue, group.bucket.bucketArn, group.account!);
    const s3Sends = (props.mode === 'direct' && byS3.length > 0) || crossAccount.length > 0;
    this.deliveringServices = [...(s3Sends ? ['s3.amazonaws.com' as const] : []), ...(this.objectCreatedEvents.length > 0 ? ['events.amazonaws.com' as const] : [])];
  }

  private createTrigger(props: NotificationsProps): { trigger: NodejsFunction; logGroup: logs.LogGroup } {
    const logGroup = new logs.LogGroup(this, 'TriggerLogs', { retention: props.logRetentionDays as logs.RetentionDays });
    // A role of its own instead of AWSLambdaBasicExecutionRole, whose log permissions are on every log group.
    const role = new iam.Role(this, 'TriggerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'The trigger Lambda: write its own logs, send to the ingest queue, fail over to the DLQ',
    });
    logGroup.grantWrite(role);
    const trigger = new NodejsFunction(this, 'Trigger', {
      role,
      entry: projectPath('trigger/handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      // The bundle is minified: stack traces point into the sources only with the source map loaded.
      environment: { QUEUE_URL: props.queue.queueUrl, SUFFIXES: props.suffixes.join(','), NODE_OPTIONS: '--enable-source-maps' },
      bundling: { format: OutputFormat.ESM, target: 'node24', minify: true, sourceMap: true },
      logGroup,
      retryAttempts: 2,
      onFailure: new QueueOnFailure(props.deadLetterQueue),
      description: `Forwards S3 notifications from the raw bucket to the ingest queue (${Stack.of(this).stackName})`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'SendToQueues', actions: ['sqs:SendMessage'], resources: [props.queue.queueArn, props.deadLetterQueue.queueArn] }),
    );
    if (props.queueKey) role.addToPrincipalPolicy(queueKeyStatement('SendWithQueueKey', props.queueKey, ['send']));
    return { trigger, logGroup };
  }
}
