import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueuesProps {
  readonly maxReceiveCount: number;
  /** The queue's visibility timeout: at least the longest file, so an unrenewed message still waits that long. */
  readonly visibilityTimeoutSeconds: number;
}

/** The ingest queue and its dead-letter queue. */
export class Queues extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    // SQS-managed keys: S3 can deliver notifications to them without a key policy.
    const secure = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetter', { ...secure, retentionPeriod: Duration.days(14) });
    this.queue = new sqs.Queue(this, 'Ingest', {
      ...secure,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
      receiveMessageWaitTime: Duration.seconds(20),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
