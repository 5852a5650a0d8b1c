import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueuesProps {
  readonly maxReceiveCount: number;
  /** The queue's visibility timeout: at least the longest file, so an unrenewed message still waits that long. */
  readonly visibilityTimeoutSeconds: number;
  /** A customer key (encryption.ts), or none for SQS-managed encryption. */
  readonly encryptionKey?: kms.IKey | undefined;
}

/** The ingest queue and its dead-letter queue. */
export class Queues extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    // SQS-managed keys need no key policy for S3 or EventBridge to deliver; a customer key has them in its own.
    const encryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    const secure = { ...encryption, enforceSSL: true } as const;
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
