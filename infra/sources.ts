/**
 * The raw sources of the settings (settings.ts `sources`) as the stack uses them: each with its bucket construct,
 * the stack's raw bucket or an imported one (one import per bucket however many sources read it), and what the
 * worker and the scheduled reconcile are given of them: the SOURCES variable and exactly their objects and listings.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { announceLeftAlone, importBucket } from './existing-buckets.ts';
import { bucketNameOf, type SourceSetting } from './settings.ts';

export interface IngestSource {
  readonly bucket: s3.IBucket;
  /** The bucket as the settings name it; undefined for the stack's raw bucket. */
  readonly reference: string | undefined;
  readonly prefix: string;
  readonly outputPrefix: string;
  /** The other account that owns the bucket; undefined for a bucket of the stack's account. */
  readonly account: string | undefined;
  readonly kmsKeyArn: string | undefined;
}

/** The sources of one bucket, in the order the settings list them. */
export interface SourceBucket {
  readonly bucket: s3.IBucket;
  readonly reference: string | undefined;
  readonly account: string | undefined;
  readonly sources: readonly IngestSource[];
}

/** The raw objects of a source, for IAM: the bucket's objects under its prefix. */
export function sourceObjects(source: Pick<IngestSource, 'bucket' | 'prefix'>, under = ''): string {
  return source.bucket.arnForObjects(`${under}${source.prefix}*`);
}

/** The sources grouped by bucket, buckets in the order they first appear. */
export function sourceBuckets(sources: readonly IngestSource[]): SourceBucket[] {
  const groups = new Map<s3.IBucket, IngestSource[]>();
  for (const source of sources) groups.set(source.bucket, [...(groups.get(source.bucket) ?? []), source]);
  return [...groups.entries()].map(([bucket, members]) => ({ bucket, reference: members[0]!.reference, account: members[0]!.account, sources: members }));
}

/**
 * s3:ListBucket on each source bucket, with the source prefixes as an s3:prefix condition when no source of the
 * bucket is the whole bucket. Listing is what makes S3 answer a missing key with 404 instead of 403: the worker
 * skips an event whose object is gone (404) but dead-letters an access error, and reconcile lists each source.
 */
export function listSourcesStatements(sid: string, sources: readonly IngestSource[]): iam.PolicyStatement[] {
  return sourceBuckets(sources).map((group, index) => {
    const prefixes = group.sources.map((source) => source.prefix);
    const wholeBucket = prefixes.includes('');
    return new iam.PolicyStatement({
      sid: index === 0 ? sid : `${sid}${index + 1}`,
      actions: ['s3:ListBucket'],
      resources: [group.bucket.bucketArn],
      ...(wholeBucket ? {} : { conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } } }),
    });
  });
}

/**
 * The SOURCES variable of the worker and of ops reconcile: a JSON array of {bucket, prefix?, outputPrefix?,
 * expectedBucketOwner}. Bucket names and the stack's account are tokens CloudFormation fills in; every source names
 * its owner, the stack's own account for a bucket of it, so that every S3 call on a raw bucket is owner-checked.
 */
export function sourcesEnvironment(scope: Construct, sources: readonly IngestSource[]): string {
  const entries = sources.map((source) => ({
    bucket: source.bucket.bucketName,
    ...(source.prefix === '' ? {} : { prefix: source.prefix }),
    ...(source.outputPrefix === '' ? {} : { outputPrefix: source.outputPrefix }),
    expectedBucketOwner: source.account ?? Aws.ACCOUNT_ID,
  }));
  return Stack.of(scope).toJsonString(entries);
}

export interface SourcesProps {
  readonly settings: readonly SourceSetting[];
  /** The stack's raw bucket, created or existing (storage.ts). */
  readonly rawBucket: s3.IBucket;
}

/** Imports the source buckets other than the stack's raw bucket, and says at synth what their owners must do. */
export class Sources extends Construct {
  readonly all: readonly IngestSource[];

  constructor(scope: Construct, id: string, props: SourcesProps) {
    super(scope, id);
    const imported = new Map<string, s3.IBucket>();
    const bucketOf = (reference: string): s3.IBucket => {
      const name = bucketNameOf(reference);
      let bucket = imported.get(name);
      if (bucket === undefined) {
        bucket = importBucket(this, `Bucket-${name}`, reference);
        imported.set(name, bucket);
      }
      return bucket;
    };
    this.all = props.settings.map((setting) => ({
      bucket: setting.bucket === undefined ? props.rawBucket : bucketOf(setting.bucket),
      reference: setting.bucket,
      prefix: setting.prefix,
      outputPrefix: setting.outputPrefix,
      account: setting.account,
      kmsKeyArn: setting.kmsKeyArn,
    }));
    for (const group of sourceBuckets(this.all)) {
      // A bucket of another account is announced with the statements its owner must add (ingest-stack.ts).
      if (group.reference === undefined || group.account !== undefined) continue;
      announceLeftAlone(
        group.bucket,
        group.reference,
        ['its whole configuration (the stack only reads its objects and its EventBridge events)'],
        'turn on its Amazon EventBridge notifications, merged with the notification configuration it has',
      );
    }
  }
}
