import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { announceLeftAlone, importBucket } from './existing-buckets.ts';

export interface StorageProps {
  /** Rejected lines expire after this many days; they are for review, not for keeping. */
  readonly rejectedRetentionDays: number;
  readonly rejectedPrefix: string;
  /** Expires what sourceAfterSuccess leaves behind in the raw bucket (source-lifecycle.ts); undefined for none. */
  readonly sourceExpiryRule: s3.LifecycleRule | undefined;
  /** S3 sends the raw bucket's events to EventBridge (notificationMode eventbridge). */
  readonly rawEventBridgeEnabled: boolean;
  /** Name or ARN of an existing raw bucket to use instead of creating one; the stack leaves its configuration alone. */
  readonly existingRawBucket: string | undefined;
  /** Name or ARN of an existing processed bucket to use instead of creating one; the stack leaves its configuration alone. */
  readonly existingProcessedBucket: string | undefined;
  /** A customer key (encryption.ts) for the raw and processed buckets the stack creates, or none for SSE-S3. */
  readonly encryptionKey?: kms.IKey | undefined;
}

/** What the stack sets on every bucket it creates, and so skips on an existing one. */
const BUCKET_SAFEGUARDS = ['default encryption', 'public access block', 'object ownership', 'TLS-only bucket policy', 'server access logging'];

function lifecycleRuleNames(rules: readonly s3.LifecycleRule[]): string[] {
  return rules.map((rule) => `lifecycle rule ${rule.id ?? '(unnamed)'}`);
}

/** The raw and processed buckets, created or existing ones, and the bucket the access logs go to. */
export class Storage extends Construct {
  readonly rawBucket: s3.IBucket;
  readonly processedBucket: s3.IBucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const secure = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Sensor data outlives a stack: deleting the stack leaves the buckets behind.
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;

    // S3 server access logs can be delivered only to an SSE-S3 bucket, whatever key the data buckets use.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });

    const rawLifecycleRules: s3.LifecycleRule[] = [
      { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ...(props.sourceExpiryRule ? [props.sourceExpiryRule] : []),
    ];
    // An S3 Bucket Key: one KMS request per bucket and key every so often instead of one per object.
    const encrypted = props.encryptionKey
      ? { ...secure, encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
      : secure;
    if (props.existingRawBucket === undefined) {
      this.rawBucket = new s3.Bucket(this, 'Raw', {
        ...encrypted,
        versioned: true,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: 'raw/',
        lifecycleRules: rawLifecycleRules,
        eventBridgeEnabled: props.rawEventBridgeEnabled,
      });
    } else {
      this.rawBucket = importBucket(this, 'Raw', props.existingRawBucket);
      announceLeftAlone(
        this.rawBucket,
        props.existingRawBucket,
        ['versioning', ...BUCKET_SAFEGUARDS, ...lifecycleRuleNames(rawLifecycleRules), 'notification configuration'],
        props.rawEventBridgeEnabled ? 'turn on its Amazon EventBridge notifications, merged with the notification configuration it has' : undefined,
      );
    }

    const processedLifecycleRules: s3.LifecycleRule[] = [
      { id: 'expire-rejected', prefix: props.rejectedPrefix, expiration: Duration.days(props.rejectedRetentionDays) },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ];
    if (props.existingProcessedBucket === undefined) {
      this.processedBucket = new s3.Bucket(this, 'Processed', {
        ...encrypted,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: 'processed/',
        lifecycleRules: processedLifecycleRules,
      });
    } else {
      this.processedBucket = importBucket(this, 'Processed', props.existingProcessedBucket);
      announceLeftAlone(this.processedBucket, props.existingProcessedBucket, [...BUCKET_SAFEGUARDS, ...lifecycleRuleNames(processedLifecycleRules)]);
    }
  }
}
