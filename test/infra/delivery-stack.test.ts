import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { App, Validations, type CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeliveryStack, readDeliverySettings, type DeliverySettings } from '../../infra/delivery-stack.ts';
import { DEFAULT_SETTINGS, SettingsError, type IngestSettings } from '../../infra/settings.ts';
import { CDK_JSON_CONTEXT } from '../support/synth.ts';

const REPOSITORY = 'acme/iot-ingest';
const BRANCH = 'release';
const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab';
const LEGACY_CONNECTION_ARN = 'arn:aws:codestar-connections:eu-west-1:123456789012:connection/7d2469ff-514a-4e4f-9003-5ca4a43cdc41';
const COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1';

const outdirs: string[] = [];
afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

interface Synthesized {
  readonly stack: DeliveryStack;
  readonly pipeline: Template;
  readonly ingest: Template;
}

/** Synth is slow (seconds): one per settings variant, shared by the tests. cdk-nag findings make it throw. */
function synthesize(settings: IngestSettings, context: Record<string, unknown> = {}, overrides: Partial<DeliverySettings> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'iot-delivery-stack-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT, '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true, ...context } });
  const stack = new DeliveryStack(app, 'IotIngestPipeline', {
    env: { account: '123456789012', region: 'eu-west-1' },
    repository: REPOSITORY,
    branch: BRANCH,
    connectionArn: CONNECTION_ARN,
    ...overrides,
    settings,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const ingestStack = stack.stage.stack;
  return {
    stack,
    pipeline: Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>),
    ingest: Template.fromJSON(stack.stage.synth().getStackArtifact(ingestStack.artifactId).template as Record<string, unknown>),
  };
}

function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const defaults = memo(() => synthesize(DEFAULT_SETTINGS));
/** The settings a direct deploy reads besides IngestSettings, a connection with a pre-2024 ARN, and Prometheus on. */
const customised = memo(() =>
  synthesize({ ...DEFAULT_SETTINGS, managedPrometheus: true }, {}, {
    ingestStackName: 'IotIngestProd',
    prometheusCollectorImage: COLLECTOR_IMAGE,
    connectionArn: LEGACY_CONNECTION_ARN,
  }),
);

/** Every action the source action's role is allowed on the connection. */
function connectionActions({ stack, pipeline }: Synthesized, connectionArn: string): string[] {
  const roles = stack.pipeline.pipeline.node.findChild('Source').node.findAll().filter((construct) => construct instanceof iam.Role);
  expect(roles).toHaveLength(1);
  const roleId = stack.getLogicalId(roles[0]!.node.defaultChild as CfnResource);
  const policies = Object.values(pipeline.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId),
  );
  const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
  return statements.filter((statement) => statement.Resource === connectionArn).flatMap((statement) => [statement.Action].flat());
}

interface PipelineStage {
  readonly Name: string;
  readonly Actions: readonly { readonly Name: string; readonly ActionTypeId: { readonly Category: string }; readonly Configuration: Record<string, unknown> }[];
}

function stages(template: Template): PipelineStage[] {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelines).toHaveLength(1);
  return (pipelines[0] as { Properties: { Stages: PipelineStage[] } }).Properties.Stages;
}

function stage(template: Template, name: string): PipelineStage {
  const found = stages(template).find((candidate) => candidate.Name === name);
  if (!found) throw new Error(`no pipeline stage ${name}`);
  return found;
}

function synthCommands({ stack, pipeline }: Synthesized): string[] {
  const logicalId = stack.getLogicalId(stack.pipeline.synthProject.node.defaultChild as CfnResource);
  const project = pipeline.findResources('AWS::CodeBuild::Project')[logicalId] as { Properties: { Source: { BuildSpec: string } } };
  const buildSpec = JSON.parse(project.Properties.Source.BuildSpec) as { phases: { build: { commands: string[] } } };
  return buildSpec.phases.build.commands;
}

describe('DeliveryStack', () => {
  it('synthesizes with no unacknowledged cdk-nag finding, in the pipeline stack or the stage', () => {
    // app.synth() throws "Validation failed" with the report when any finding is left.
    expect(() => defaults()).not.toThrow();
  });

  it('takes its source from the GitHub repository and branch through the connection', () => {
    const [action, ...others] = stage(defaults().pipeline, 'Source').Actions;
    expect(others).toHaveLength(0);
    expect(action).toMatchObject({
      ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection' },
      Configuration: { ConnectionArn: CONNECTION_ARN, FullRepositoryId: REPOSITORY, BranchName: BRANCH },
    });
  });

  it('may use a codeconnections connection under both service prefixes (IAM matches the prefix to the ARN)', () => {
    expect(connectionActions(defaults(), CONNECTION_ARN).sort()).toEqual(['codeconnections:UseConnection', 'codestar-connections:UseConnection']);
  });

  it('uses a codestar-connections connection under its own prefix only', () => {
    expect(connectionActions(customised(), LEGACY_CONNECTION_ARN)).toEqual(['codestar-connections:UseConnection']);
  });

  it('installs, tests, then synthesizes the pipeline app itself, with the pipeline context', () => {
    const commands = synthCommands(defaults());
    expect(commands.slice(0, 2)).toEqual(['npm ci', 'npm test']);
    expect(commands).toHaveLength(3);
    expect(commands[2]).toMatch(/^npx cdk synth /);
    expect(commands[2]).toContain('-c pipeline=true');
    expect(commands[2]).toContain(`-c pipelineRepository='${REPOSITORY}'`);
    expect(commands[2]).toContain(`-c pipelineBranch='${BRANCH}'`);
    expect(commands[2]).toContain(`-c pipelineConnectionArn='${CONNECTION_ARN}'`);
  });

  it('updates itself before it publishes assets and deploys', () => {
    expect(stages(defaults().pipeline).map((candidate) => candidate.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Ingest']);
  });

  it('builds the arm64 worker image on an ARM CodeBuild image with Docker (privileged mode)', () => {
    defaults().pipeline.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({ Type: 'ARM_CONTAINER', Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0', PrivilegedMode: true }),
    });
  });

  it('deploys the ingest stack of the stage, with the same settings, through a change set', () => {
    const { stack, ingest } = defaults();
    const ingestStack = stack.stage.stack;
    const [prepare, deploy] = stage(defaults().pipeline, 'Ingest').Actions;
    expect(prepare?.Configuration).toMatchObject({
      StackName: ingestStack.stackName,
      ActionMode: 'CHANGE_SET_REPLACE',
      TemplatePath: `Synth_Output::${stack.stage.artifactId}/${ingestStack.templateFile}`,
    });
    expect(deploy?.Configuration).toMatchObject({ StackName: ingestStack.stackName, ActionMode: 'CHANGE_SET_EXECUTE' });

    expect(ingestStack.stackName).toBe('Ingest-IotIngest');
    ingest.resourceCountIs('AWS::ECS::Service', 1);
    ingest.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: DEFAULT_SETTINGS.maxReceiveCount } });
    ingest.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: String(DEFAULT_SETTINGS.cpu),
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
  });

  it('deploys the ingest stack under the stackName setting, with the prometheusCollectorImage setting, as a direct deploy does', () => {
    const synthesized = customised();
    const ingestStack = synthesized.stack.stage.stack;
    expect(ingestStack.stackName).toBe('IotIngestProd');
    const [prepare, deploy] = stage(synthesized.pipeline, 'Ingest').Actions;
    expect(prepare?.Configuration).toMatchObject({ StackName: 'IotIngestProd', ActionMode: 'CHANGE_SET_REPLACE' });
    expect(deploy?.Configuration).toMatchObject({ StackName: 'IotIngestProd', ActionMode: 'CHANGE_SET_EXECUTE' });
    synthesized.ingest.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'metrics-collector', Image: COLLECTOR_IMAGE })]),
    });
  });

  it('keeps artifacts in a KMS-encrypted, SSL-only, logged bucket', () => {
    const { pipeline } = defaults();
    pipeline.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
      LoggingConfiguration: Match.anyValue(),
    });
    pipeline.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    pipeline.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('passes cdk-nag with the trigger Lambda (a file asset), an x86_64 worker image built on x86, and literal partitions', () => {
    // cdk.json's partition flag, as `cdk synth` applies it: ARNs in the findings then read arn:aws:… instead of arn:<AWS::Partition>:….
    const { pipeline } = synthesize({ ...DEFAULT_SETTINGS, notificationMode: 'trigger', architecture: 'x86_64' }, { '@aws-cdk/core:enablePartitionLiterals': true });
    // The worker image, the trigger's bundle, and the code of CDK's custom resource that empties the VPC's default security group.
    const assets = stage(pipeline, 'Assets').Actions.map((action) => action.Name);
    expect(assets).toHaveLength(3);
    expect(assets).toEqual(expect.arrayContaining(['Workers_Task_worker_AssetImage', 'Notifications_Trigger_Code']));
    expect(assets.some((name) => name.includes('VpcRestrictDefaultSG'))).toBe(true);
    pipeline.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({ Type: 'LINUX_CONTAINER', Image: 'aws/codebuild/standard:7.0', PrivilegedMode: true }),
    });
  });
});

describe('readDeliverySettings', () => {
  const valid: Record<string, unknown> = { pipeline: 'true', pipelineRepository: REPOSITORY, pipelineConnectionArn: CONNECTION_ARN };
  const read = (context: Record<string, unknown>) => readDeliverySettings((key) => context[key]);

  it('returns undefined unless context pipeline is true', () => {
    expect(read({})).toBeUndefined();
    expect(read({ ...valid, pipeline: 'false' })).toBeUndefined();
    expect(read({ ...valid, pipeline: false })).toBeUndefined();
    expect(read({ pipelineRepository: 'not a repository' })).toBeUndefined();
  });

  it('reads the ingest stack name and the collector image from the same keys as a direct deploy', () => {
    expect(read({ ...valid, stackName: 'IotIngestProd', prometheusCollectorImage: COLLECTOR_IMAGE })).toEqual({
      repository: REPOSITORY,
      branch: 'main',
      connectionArn: CONNECTION_ARN,
      ingestStackName: 'IotIngestProd',
      prometheusCollectorImage: COLLECTOR_IMAGE,
    });
    expect(read(valid)).not.toHaveProperty('ingestStackName');
    expect(read(valid)).not.toHaveProperty('prometheusCollectorImage');
  });

  it('reads the repository, the branch (main by default) and the connection', () => {
    expect(read(valid)).toEqual({ repository: REPOSITORY, branch: 'main', connectionArn: CONNECTION_ARN });
    const legacyArn = 'arn:aws:codestar-connections:us-east-1:123456789012:connection/7d2469ff-514a-4e4f-9003-5ca4a43cdc41';
    expect(read({ ...valid, pipeline: true, pipelineBranch: 'release/2026', pipelineConnectionArn: legacyArn })).toEqual({
      repository: REPOSITORY,
      branch: 'release/2026',
      connectionArn: legacyArn,
    });
  });

  it.each([
    ['pipeline', { ...valid, pipeline: 'yes' }],
    ['pipelineRepository', { ...valid, pipelineRepository: undefined }],
    ['pipelineRepository', { ...valid, pipelineRepository: 'iot-ingest' }],
    ['pipelineRepository', { ...valid, pipelineRepository: 'https://github.com/acme/iot-ingest' }],
    ['pipelineBranch', { ...valid, pipelineBranch: '' }],
    ['pipelineBranch', { ...valid, pipelineBranch: 'main; rm -rf /' }],
    ['pipelineConnectionArn', { ...valid, pipelineConnectionArn: undefined }],
    ['pipelineConnectionArn', { ...valid, pipelineConnectionArn: 'arn:aws:iam::123456789012:role/connection' }],
    ['stackName', { ...valid, stackName: '1-iot-ingest' }],
    ['stackName', { ...valid, stackName: 'iot_ingest' }],
    ['prometheusCollectorImage', { ...valid, prometheusCollectorImage: 'an image' }],
  ])('names %s when it is missing or malformed', (key, context) => {
    expect(() => read(context)).toThrow(SettingsError);
    expect(() => read(context)).toThrow(new RegExp(`^context value ${key} must be `));
  });
});
