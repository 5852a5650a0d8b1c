import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
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
  const { rawBucket, processedBucket } = stack.storage;

  const taskRole = taskDefinition.taskRole;
  acknowledge(
    taskRole,
    `AwsSolutions-IAM5[Resource::${ref(rawBucket, 'Arn')}/*]`,
    'Raw object keys are chosen by the devices: the worker reads any object of the raw bucket (GetObject, GetObjectVersion), and with sourceAfterSuccess tag, delete or move tags, deletes or copies the tags of the version it processed; at bucket level only s3:ListBucket, so that a missing key answers 404.',
  );
  if (stack.settings.sourceAfterSuccess === 'move') {
    acknowledge(
      taskRole,
      `AwsSolutions-IAM5[Resource::${ref(rawBucket, 'Arn')}/${stack.settings.sourceArchivePrefix}*]`,
      'sourceAfterSuccess move: the worker copies a processed raw object to the same key under the archive prefix (PutObject, PutObjectTagging), and writes nowhere else in the raw bucket.',
    );
  }
  acknowledge(
    taskRole,
    `AwsSolutions-IAM5[Resource::${ref(processedBucket, 'Arn')}/*]`,
    'Output keys mirror the raw keys: the worker writes any object of the processed bucket (PutObject, AbortMultipartUpload), and nothing at bucket level.',
  );
  if (stack.settings.outputFormat === 'parquet') {
    acknowledge(
      taskRole,
      `AwsSolutions-IAM5[Resource::${ref(processedBucket, 'Arn')}/parquet/*]`,
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
      `AwsSolutions-IAM5[Resource::${ref(processedBucket, 'Arn')}/*]`,
      'Output keys mirror the raw keys, and the processed outputs are at the top level of the processed bucket (PROCESSED_PREFIX empty): reconcile reads their metadata (HeadObject, i.e. s3:GetObject) anywhere in it, and writes nothing.',
    );
  } else {
    acknowledge(
      taskDefinition.taskRole,
      `AwsSolutions-IAM5[Resource::${ref(processedBucket, 'Arn')}/${REJECTED_PREFIX}*]`,
      'Output keys mirror the raw keys: reconcile reads the metadata (HeadObject, i.e. s3:GetObject) of any rejected output, the one every file has with Parquet output, and writes nothing.',
    );
  }
  acknowledgeTaskDefinition(
    taskDefinition,
    'The environment holds bucket names, the queue URL, prefixes and the output format: no secrets to move to Secrets Manager.',
  );
}
