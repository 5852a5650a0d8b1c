import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IngestStack } from './ingest-stack.ts';
import type { ReconcileSchedule } from './reconcile-schedule.ts';
import { REJECTED_PREFIX } from './worker-service.ts';

const LAMBDA_BASIC_EXECUTION = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

/** What every task definition from the worker's image shares: the image pull's ECR token, and plain environment values. */
function acknowledgeTaskDefinition(taskDefinition: ecs.TaskDefinition, environmentReason: string): void {
  if (taskDefinition.executionRole) {
    acknowledge(
      taskDefinition.executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions: AWS requires Resource "*" (added by CDK for the image pull).',
    );
  }
  acknowledge(taskDefinition, 'AwsSolutions-ECS2', environmentReason);
}

/** How cdk-nag names a resource in a finding: <LogicalId> for a Ref, <LogicalId.Attr> for a GetAtt. */
function ref(construct: IConstruct, attribute?: string): string {
  const logicalId = Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);
  return attribute ? `<${logicalId}.${attribute}>` : `<${logicalId}>`;
}

/**
 * A resource as cdk-nag prints it in a finding: a Ref as <LogicalId>, a GetAtt as <LogicalId.Attr>, a join joined.
 * An existing bucket's ARN is a literal, or a join with the partition: `arn:<AWS::Partition>:s3:::NAME`.
 */
function asNagPrints(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const intrinsic = (node ?? {}) as Record<string, unknown>;
    const join = intrinsic['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].map(visit).join(join[0]);
    const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
    if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
    throw new Error(`no cdk-nag name for ${JSON.stringify(node)}`);
  };
  return visit(stack.resolve(value));
}

/** The objects of a bucket, created or existing, matching `pattern`, as cdk-nag names them in an IAM5 finding. */
function objectsOf(bucket: s3.IBucket, pattern: string): string {
  return `AwsSolutions-IAM5[Resource::${asNagPrints(Stack.of(bucket), bucket.arnForObjects(pattern))}]`;
}

/** CDK's own singleton Lambda that configures S3 bucket notifications at deploy time. */
function bucketNotificationsHandler(stack: Stack): Construct | undefined {
  return stack.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
}

/**
 * Every cdk-nag finding this stack accepts, each with its reason. Findings are acknowledged one by one
 * (a rule with findings cannot be acknowledged whole), so a new wildcard fails the synth.
 */
export function acknowledgeNagFindings(stack: IngestStack): void {
  const { taskDefinition, cluster } = stack.workers;
  const { processedBucket } = stack.storage;

  const taskRole = taskDefinition.taskRole;
  for (const source of stack.sources.all) {
    acknowledge(
      taskRole,
      objectsOf(source.bucket, `${source.prefix}*`),
      'Raw object keys are chosen by the devices: the worker reads any object of a source, its bucket under its prefix (GetObject, GetObjectVersion), and with sourceAfterSuccess tag, delete or move tags, deletes or copies the tags of the version it processed; at bucket level only s3:ListBucket, so that a missing key answers 404.',
    );
    if (stack.settings.sourceAfterSuccess === 'move') {
      acknowledge(
        taskRole,
        objectsOf(source.bucket, `${stack.settings.sourceArchivePrefix}${source.prefix}*`),
        "sourceAfterSuccess move: the worker copies a processed raw object to the same key under the archive prefix of its source's bucket (PutObject, PutObjectTagging), and writes nowhere else in that bucket.",
      );
    }
  }
  acknowledge(
    taskRole,
    objectsOf(processedBucket, '*'),
    'Output keys mirror the raw keys: the worker writes any object of the processed bucket (PutObject, AbortMultipartUpload), and nothing at bucket level.',
  );
  if (stack.settings.outputFormat === 'parquet') {
    acknowledge(
      taskRole,
      objectsOf(processedBucket, 'parquet/*'),
      'When a file fails after some of its Parquet partitions were stored, the worker deletes them: any object under parquet/ only.',
    );
  }
  acknowledge(
    taskRole,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/${ref(cluster)}/*]`,
    'Task ARNs exist only once a task starts: scale-in protection is scoped to the tasks of this cluster.',
  );
  acknowledgeTaskDefinition(
    taskDefinition,
    'The environment holds names, URLs and tuning values only (queue URLs, bucket names, limits): no secrets to move to Secrets Manager.',
  );

  if (stack.reconcile) acknowledgeReconcileFindings(stack, stack.reconcile);

  if (stack.settings.existingRawBucket !== undefined && stack.settings.existingProcessedBucket !== undefined) {
    acknowledge(
      stack.storage.accessLogsBucket,
      'AwsSolutions-S1',
      'The log bucket itself (VPC flow logs, and access logs of the buckets the stack creates): logging its own access would need one more bucket. With existing raw and processed buckets no bucket of the stack logs into it, so cdk-nag no longer sees it as a log bucket.',
    );
  }

  const notificationsHandler = bucketNotificationsHandler(stack);
  if (notificationsHandler) {
    acknowledge(
      notificationsHandler,
      `AwsSolutions-IAM4[${LAMBDA_BASIC_EXECUTION}]`,
      "CDK's BucketNotificationsHandler custom resource (deploy time only) uses AWSLambdaBasicExecutionRole: CloudWatch Logs only.",
    );
  }
}

/** The scheduled reconcile task (reconcile-schedule.ts). */
function acknowledgeReconcileFindings(stack: IngestStack, reconcile: ReconcileSchedule): void {
  const { taskDefinition } = reconcile;
  const { processedBucket } = stack.storage;
  if (stack.settings.outputFormat === 'jsonl') {
    acknowledge(
      taskDefinition.taskRole,
      objectsOf(processedBucket, '*'),
      'Output keys mirror the raw keys, and the processed outputs are at the top level of the processed bucket (PROCESSED_PREFIX empty): reconcile reads their metadata (HeadObject, i.e. s3:GetObject) anywhere in it, and writes nothing.',
    );
  } else {
    acknowledge(
      taskDefinition.taskRole,
      objectsOf(processedBucket, `${REJECTED_PREFIX}*`),
      'Output keys mirror the raw keys: reconcile reads the metadata (HeadObject, i.e. s3:GetObject) of any rejected output, the one every file has with Parquet output, and writes nothing.',
    );
  }
  acknowledgeTaskDefinition(
    taskDefinition,
    'The environment holds bucket names, the queue URL, prefixes and the output format: no secrets to move to Secrets Manager.',
  );
}
