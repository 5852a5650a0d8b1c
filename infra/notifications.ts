import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination as LambdaSqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type { aws_s3 as s3Refs } from 'aws-cdk-lib/interfaces';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ObjectCreatedEvents } from './object-created-events.ts';
import type { NotificationMode } from './settings.ts';
import { projectPath } from './project-path.ts';

export interface NotificationsProps {
  readonly mode: NotificationMode;
  /** In direct and trigger mode, a bucket the stack creates: those modes write its notification configuration. */
  readonly rawBucket: s3.IBucket;
  readonly queue: sqs.Queue;
  /** Where the trigger's events go when Lambda's own retries are exhausted; the worker reads them after a redrive. */
  readonly deadLetterQueue: sqs.Queue;
  readonly suffixes: readonly string[];
  readonly logRetentionDays: number;
}

/**
 * S3 → SQS as aws-s3-notifications' SqsDestination does it, but the queue policy's statement for S3 names the
 * account as well as the bucket (aws:SourceAccount next to aws:SourceArn): a bucket ARN carries no account, so
 * the account condition is what stops a bucket of that name in another account from sending (confused deputy).
 * No key policy to extend, unlike SqsDestination: the queues use SQS-managed encryption (queues.ts).
 */
class QueueDestination implements s3.IBucketNotificationDestination {
  private readonly queue: sqs.IQueue;

  constructor(queue: sqs.IQueue) {
    this.queue = queue;
  }

  bind(_scope: Construct, bucket: s3Refs.IBucketRef): s3.BucketNotificationDestinationConfig {
    this.queue.grantSendMessages(
      new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
        },
      }),
    );
    // The queue, with its policy: S3 checks the permission when the notification configuration is written.
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}

/** Announces every new raw object on the queue: directly (S3 → SQS), through the trigger Lambda, or through EventBridge. */
export class Notifications extends Construct {
  readonly trigger: NodejsFunction | undefined;
  readonly triggerLogGroup: logs.LogGroup | undefined;
  readonly objectCreatedEvents: ObjectCreatedEvents | undefined;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    if (props.mode === 'eventbridge') {
      this.objectCreatedEvents = new ObjectCreatedEvents(this, 'ObjectCreated', {
        rawBucket: props.rawBucket,
        queue: props.queue,
        deadLetterQueue: props.deadLetterQueue,
        suffixes: props.suffixes,
      });
      return;
    }
    let destination: s3.IBucketNotificationDestination;
    if (props.mode === 'direct') {
      destination = new QueueDestination(props.queue);
    } else {
      ({ trigger: this.trigger, logGroup: this.triggerLogGroup } = this.createTrigger(props));
      destination = new s3n.LambdaDestination(this.trigger);
    }
    for (const suffix of props.suffixes) {
      props.rawBucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { suffix });
    }
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
      onFailure: new LambdaSqsDestination(props.deadLetterQueue),
      description: `Forwards S3 notifications from the raw bucket to the ingest queue (${Stack.of(this).stackName})`,
    });
    props.queue.grantSendMessages(trigger);
    return { trigger, logGroup };
  }
}
