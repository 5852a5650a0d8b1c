/**
 * What the owner of a source bucket in another account must add for the stack to read it: the bucket policy
 * statements that let the stack's roles read and list the sources (and do what sourceAfterSuccess does), the
 * bucket's notification configuration that sends its new objects to the ingest queue, and for a source encrypted
 * with a KMS key the key policy statement that lets the worker decrypt through S3.
 * Pure: ARNs in (CloudFormation tokens or literals alike), JSON documents out.
 */
import { sourceLifecycleGrants } from './source-lifecycle.ts';
import type { SourceAfterSuccess } from './settings.ts';

export interface CrossAccountBucket {
  readonly bucketArn: string;
  readonly account: string;
  /** The prefixes of the bucket's sources, '' for the whole bucket. */
  readonly prefixes: readonly string[];
  /** The KMS keys of its sources, each once. */
  readonly kmsKeyArns: readonly string[];
}

export interface StackPrincipals {
  readonly workerRoleArn: string;
  /** The scheduled reconcile task's role; undefined when the schedule is off. */
  readonly reconcileRoleArn: string | undefined;
  readonly queueArn: string;
}

export interface CrossAccountOptions {
  readonly suffixes: readonly string[];
  readonly sourceAfterSuccess: SourceAfterSuccess;
  readonly archivePrefix: string;
}

export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: { readonly AWS: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface QueueConfigurationJson {
  readonly Id: string;
  readonly QueueArn: string;
  readonly Events: readonly string[];
  readonly Filter: { readonly Key: { readonly FilterRules: ReadonlyArray<{ readonly Name: 'prefix' | 'suffix'; readonly Value: string }> } };
}

export interface CrossAccountDocuments {
  /** `aws s3api put-bucket-policy`: these statements, merged into the bucket's policy. */
  readonly bucketPolicy: { readonly Version: '2012-10-17'; readonly Statement: readonly PolicyStatementJson[] };
  /** `aws s3api put-bucket-notification-configuration`: these entries, merged into the bucket's configuration. */
  readonly notificationConfiguration: { readonly QueueConfigurations: readonly QueueConfigurationJson[] };
  /** For each KMS key, the statement to add to its key policy. */
  readonly keyPolicyStatements: ReadonlyArray<{ readonly keyArn: string; readonly statement: PolicyStatementJson }>;
}

/** One principal as itself, several as a list: how IAM prints them. */
function principals(arns: readonly string[]): string | readonly string[] {
  return arns.length === 1 ? arns[0]! : arns;
}

function bucketPolicy(bucket: CrossAccountBucket, stack: StackPrincipals, options: CrossAccountOptions): PolicyStatementJson[] {
  const objects = bucket.prefixes.map((prefix) => `${bucket.bucketArn}/${prefix}*`);
  const archived = bucket.prefixes.map((prefix) => `${bucket.bucketArn}/${options.archivePrefix}${prefix}*`);
  const listers = [stack.workerRoleArn, ...(stack.reconcileRoleArn === undefined ? [] : [stack.reconcileRoleArn])];
  const wholeBucket = bucket.prefixes.includes('');
  return [
    { Sid: 'IotIngestReadRawObjects', Effect: 'Allow', Principal: { AWS: stack.workerRoleArn }, Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objects },
    {
      Sid: 'IotIngestListRawBucket',
      Effect: 'Allow',
      Principal: { AWS: principals(listers) },
      Action: 's3:ListBucket',
      Resource: bucket.bucketArn,
      ...(wholeBucket ? {} : { Condition: { StringLike: { 's3:prefix': bucket.prefixes.map((prefix) => `${prefix}*`) } } }),
    },
    ...sourceLifecycleGrants(options.sourceAfterSuccess, objects, archived).map(
      (grant): PolicyStatementJson => ({
        Sid: `IotIngest${grant.sid}`,
        Effect: 'Allow',
        Principal: { AWS: stack.workerRoleArn },
        Action: grant.actions,
        Resource: grant.resources,
      }),
    ),
  ];
}

function queueConfigurations(bucket: CrossAccountBucket, stack: StackPrincipals, suffixes: readonly string[]): QueueConfigurationJson[] {
  const filters = bucket.prefixes.flatMap((prefix) => suffixes.map((suffix) => ({ prefix, suffix })));
  return filters.map(({ prefix, suffix }, index) => ({
    Id: `iot-ingest-${index + 1}`,
    QueueArn: stack.queueArn,
    Events: ['s3:ObjectCreated:*'],
    Filter: {
      Key: { FilterRules: [...(prefix === '' ? [] : [{ Name: 'prefix' as const, Value: prefix }]), { Name: 'suffix' as const, Value: suffix }] },
    },
  }));
}

/** The region of a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/ID), where S3 uses it. */
function keyRegion(keyArn: string): string {
  return keyArn.split(':')[3]!;
}

function keyPolicyStatement(keyArn: string, stack: StackPrincipals, options: CrossAccountOptions): PolicyStatementJson {
  return {
    Sid: 'IotIngestDecryptRawObjects',
    Effect: 'Allow',
    Principal: { AWS: stack.workerRoleArn },
    // A move writes the archived copy, which the bucket's default encryption encrypts with the key again.
    Action: options.sourceAfterSuccess === 'move' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : 'kms:Decrypt',
    // In a key policy "*" is the key itself.
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': `s3.${keyRegion(keyArn)}.amazonaws.com` } },
  };
}

export function crossAccountDocuments(bucket: CrossAccountBucket, stack: StackPrincipals, options: CrossAccountOptions): CrossAccountDocuments {
  return {
    bucketPolicy: { Version: '2012-10-17', Statement: bucketPolicy(bucket, stack, options) },
    notificationConfiguration: { QueueConfigurations: queueConfigurations(bucket, stack, options.suffixes) },
    keyPolicyStatements: bucket.kmsKeyArns.map((keyArn) => ({ keyArn, statement: keyPolicyStatement(keyArn, stack, options) })),
  };
}

/**
 * A resolved CloudFormation value as a reader can take it at synth: literals as they are, what CloudFormation fills in
 * at deploy as <LogicalId.Attribute> or <Pseudo::Parameter> (Ref), joins joined.
 */
export function readableValue(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(readableValue);
  if (node === null || typeof node !== 'object') return node;
  const intrinsic = node as Record<string, unknown>;
  const join = intrinsic['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => String(readableValue(part))).join(join[0]);
  const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  return Object.fromEntries(Object.entries(intrinsic).map(([key, value]) => [key, readableValue(value)]));
}
