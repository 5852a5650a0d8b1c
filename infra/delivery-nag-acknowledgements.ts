import { Stack, Token, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { DeliveryStack } from './delivery-stack.ts';

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

/** How cdk-nag names a resource in a finding: <LogicalId> for a Ref, <LogicalId.Attr> for a GetAtt. */
function ref(construct: IConstruct, attribute?: string): string {
  const logicalId = Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);
  return attribute ? `<${logicalId}.${attribute}>` : `<${logicalId}>`;
}

/** The stack's account or region as cdk-nag prints it: the literal value, or the pseudo parameter of an environment-agnostic stack. */
function literalOr(value: string, pseudoParameter: string): string {
  return Token.isUnresolved(value) ? `<${pseudoParameter}>` : value;
}

function iam5(resource: string): string {
  return `AwsSolutions-IAM5[${resource}]`;
}

/** The S3 and KMS grant helpers' wildcard actions, as CDK Pipelines grants them on the artifact bucket and its key. */
const ARTIFACT_GRANT_ACTIONS = ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/**
 * The cdk-nag findings CDK Pipelines makes unavoidable, one by one with their reasons. Its roles are
 * generated; these are the wildcards it writes into them. The ingest stack in the stage keeps its own
 * acknowledgements (nag-acknowledgements.ts).
 */
export function acknowledgeDeliveryNagFindings(stack: DeliveryStack): void {
  const { pipeline, artifactBucket } = stack;
  const partition = literalOr(stack.partition, 'AWS::Partition');
  const region = literalOr(stack.region, 'AWS::Region');
  const account = literalOr(stack.account, 'AWS::AccountId');
  const codeBuildArn = (service: 'logs' | 'codebuild', resource: string): string =>
    `Resource::arn:${partition}:${service}:${region}:${account}:${resource}`;

  // Every role of the pipeline (its own, the source action's, every CodeBuild project's) reads or writes artifacts.
  const artifactReason =
    'CDK Pipelines grants its roles access to the pipeline artifacts with the S3 and KMS grant helpers, whose actions end in a wildcard; the resources are this one artifact bucket and its key.';
  for (const action of ARTIFACT_GRANT_ACTIONS) acknowledge(pipeline, iam5(`Action::${action}`), artifactReason);
  acknowledge(pipeline, iam5(`Resource::${ref(artifactBucket, 'Arn')}/*`), 'Artifact keys are generated per execution by CodePipeline: the roles reach the objects of the artifact bucket only.');

  for (const project of [pipeline.synthProject, pipeline.selfMutationProject]) {
    if (!project.role) continue;
    const projectName = ref(project);
    acknowledge(project.role, iam5(codeBuildArn('logs', `log-group:/aws/codebuild/${projectName}:*`)), "CodeBuild's default logging permission: the log streams of this project's own log group.");
    acknowledge(project.role, iam5(codeBuildArn('codebuild', `report-group/${projectName}-*`)), "CodeBuild's default test-report permission: the report groups named after this project.");
  }

  const selfMutationRole = pipeline.selfMutationProject.role;
  if (selfMutationRole) {
    acknowledge(
      selfMutationRole,
      iam5(`Resource::arn:*:iam::${account}:role/*`),
      'Self-mutation runs cdk deploy with the CDK bootstrap roles: sts:AssumeRole is conditioned on the iam:ResourceTag/aws-cdk:bootstrap-role tag (deploy, file-publishing, image-publishing).',
    );
    acknowledge(
      selfMutationRole,
      iam5('Resource::*'),
      'cloudformation:DescribeStacks and s3:ListBucket on "*": the CDK CLI looks up the bootstrap stack and its bucket before it assumes the bootstrap roles (CDK Pipelines policy).',
    );
  }

  // One role per asset type, shared by all its publishing projects, so its names cannot be narrowed to one project.
  const assets = pipeline.node.tryFindChild('Assets');
  for (const id of ['DockerRole', 'FileRole']) {
    const role = assets?.node.tryFindChild(id);
    if (!role) continue;
    acknowledge(role, iam5(codeBuildArn('logs', 'log-group:/aws/codebuild/*')), 'The asset publishing role is shared by one CodeBuild project per asset: it logs to each of their log groups.');
    acknowledge(role, iam5(codeBuildArn('codebuild', 'report-group/*')), 'The asset publishing role is shared by one CodeBuild project per asset: CodeBuild report permissions for each of them.');
    acknowledge(
      role,
      iam5('Resource::*'),
      'codebuild:StartBuild, StopBuild and BatchGetBuilds on "*": the shared asset role also runs the publishing actions of every asset project; publishing itself happens through the tagged CDK bootstrap publishing role.',
    );
  }
}
