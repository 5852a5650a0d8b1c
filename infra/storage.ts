import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StorageProps {
  /** Rejected lines expire after this many days; they are for review, not for keeping. */
  readonly rejectedRetentionDays: number;
  readonly rejectedPrefix: string;
}

/** The raw and processed buckets, and the bucket their access logs go to. */
export class Storage extends Construct {
  readonly rawBucket: s3.Bucket;
  readonly processedBucket: s3.Bucket;
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

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    this.rawBucket = new s3.Bucket(this, 'Raw', {
      ...secure,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'raw/',
      lifecycleRules: [
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
    this.processedBucket = new s3.Bucket(this, 'Processed', {
      ...secure,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'processed/',
      lifecycleRules: [
        { id: 'expire-rejected', prefix: props.rejectedPrefix, expiration: Duration.days(props.rejectedRetentionDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
