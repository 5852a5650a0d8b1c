import { Duration, RemovalPolicy, Stack, Stage, type StackProps, type StageProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CodePipeline, CodePipelineSource, ShellStep } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { IngestStack } from './ingest-stack.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { acknowledgeDeliveryNagFindings } from './delivery-nag-acknowledgements.ts';
import { SettingsError, type IngestSettings } from './settings.ts';

export interface DeliverySettings {
  /** GitHub repository as owner/name. */
  readonly repository: string;
  readonly branch: string;
  /** A CodeConnections (formerly CodeStar Connections) connection to GitHub, created and authorised once in the console. */
  readonly connectionArn: string;
  /**
   * The deployed ingest stack's name: context `stackName`, as for a direct deploy.
   * @default `Ingest-IotIngest` (CDK's name for the stack `IotIngest` in the stage `Ingest`)
   */
  readonly ingestStackName?: string;
  /**
   * The metrics collector sidecar's image when managedPrometheus is on: context `prometheusCollectorImage`, as for a direct deploy.
   * @default DEFAULT_COLLECTOR_IMAGE (infra/prometheus.ts)
   */
  readonly prometheusCollectorImage?: string;
}

const REPOSITORY = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
// Git allows more, but these are what a shell command line and a CodePipeline trigger take without quoting surprises.
const BRANCH = /^(?!-)[A-Za-z0-9._/-]+$/;
const CONNECTION_ARN = /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/;
// CloudFormation's rule for stack names.
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const IMAGE_REFERENCE = /^[^\s]+$/;

function requiredString(context: (key: string) => unknown, key: string, pattern: RegExp, expectation: string): string {
  const value = context(key);
  if (typeof value !== 'string' || !pattern.test(value)) throw new SettingsError(key, expectation, value);
  return value;
}

function optionalString(context: (key: string) => unknown, key: string, pattern: RegExp, expectation: string): string | undefined {
  return context(key) === undefined ? undefined : requiredString(context, key, pattern, expectation);
}

/** The pipeline's settings when context `pipeline` is true; undefined otherwise (the app then deploys the stack directly). */
export function readDeliverySettings(context: (key: string) => unknown): DeliverySettings | undefined {
  const enabled = context('pipeline');
  if (enabled === undefined || enabled === false || enabled === 'false') return undefined;
  if (enabled !== true && enabled !== 'true') throw new SettingsError('pipeline', 'true or false', enabled);
  const branch = context('pipelineBranch');
  // The same keys as a direct deploy reads in build-app.ts; from cdk.json, like every ingest setting (see DeliveryStack).
  const ingestStackName = optionalString(context, 'stackName', STACK_NAME, 'a CloudFormation stack name (a letter, then letters, digits and hyphens)');
  const prometheusCollectorImage = optionalString(context, 'prometheusCollectorImage', IMAGE_REFERENCE, 'a container image reference');
  return {
    repository: requiredString(context, 'pipelineRepository', REPOSITORY, 'a GitHub repository as owner/name'),
    branch: branch === undefined ? 'main' : requiredString(context, 'pipelineBranch', BRANCH, 'a branch name'),
    connectionArn: requiredString(
      context,
      'pipelineConnectionArn',
      CONNECTION_ARN,
      'the ARN of a CodeConnections connection (arn:aws:codeconnections:… or arn:aws:codestar-connections:…)',
    ),
    ...(ingestStackName === undefined ? {} : { ingestStackName }),
    ...(prometheusCollectorImage === undefined ? {} : { prometheusCollectorImage }),
  };
}

export interface IngestStageProps extends StageProps {
  readonly settings: IngestSettings;
  /** @default `<stage id>-IotIngest` */
  readonly ingestStackName?: string;
  readonly prometheusCollectorImage?: string;
}

/** What the pipeline deploys: the ingest stack, with the same cdk-nag acknowledgements as a direct deploy. */
export class IngestStage extends Stage {
  readonly stack: IngestStack;

  constructor(scope: Construct, id: string, props: IngestStageProps) {
    super(scope, id, props);
    this.stack = new IngestStack(this, 'IotIngest', {
      settings: props.settings,
      ...(props.ingestStackName ? { stackName: props.ingestStackName } : {}),
      ...(props.prometheusCollectorImage ? { prometheusCollectorImage: props.prometheusCollectorImage } : {}),
    });
    acknowledgeNagFindings(this.stack);
  }
}

/** The service prefix of a connection's ARN: connections created since the 2024 rename are `codeconnections`. */
function connectionService(connectionArn: string): string | undefined {
  return connectionArn.split(':')[2];
}

export interface DeliveryStackProps extends StackProps, DeliverySettings {
  readonly settings: IngestSettings;
}

function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * CDK Pipelines on every push to the branch: test, synth, update itself, publish the assets (the worker
 * image is built from the Dockerfile here), deploy the ingest stack.
 */
export class DeliveryStack extends Stack {
  readonly pipeline: CodePipeline;
  readonly artifactBucket: s3.Bucket;
  readonly stage: IngestStage;

  constructor(scope: Construct, id: string, props: DeliveryStackProps) {
    super(scope, id, props);

    const secure = {
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // As CodePipeline's own artifact bucket: deleting the stack must not fail on a non-empty bucket.
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;
    const accessLogs = new s3.Bucket(this, 'ArtifactAccessLogs', {
      ...secure,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    // A key of our own: CodePipeline binds every CodeBuild project to the artifact bucket's key (cdk-nag AwsSolutions-CB4).
    const artifactKey = new kms.Key(this, 'ArtifactKey', { enableKeyRotation: true, description: 'CDK Pipelines artifacts of the IoT ingest pipeline' });
    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      ...secure,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: artifactKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: accessLogs,
    });

    // The synth must rebuild this very app, or self-mutation would remove the pipeline: the pipeline keys go on
    // its command line. The ingest settings come from cdk.json in the repository, so they change by commit.
    const pipelineContext = [
      '-c pipeline=true',
      `-c pipelineRepository=${shellWord(props.repository)}`,
      `-c pipelineBranch=${shellWord(props.branch)}`,
      `-c pipelineConnectionArn=${shellWord(props.connectionArn)}`,
    ].join(' ');

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: this.artifactBucket,
      synth: new ShellStep('Synth', {
        input: CodePipelineSource.connection(props.repository, props.branch, { connectionArn: props.connectionArn }),
        commands: ['npm ci', 'npm test', `npx cdk synth --quiet ${pipelineContext}`],
      }),
      selfMutation: true,
      // Any image with npm will do: `npm ci` installs the project's own Node 24 (the `node` devDependency), which then
      // runs the tests and the synth. standard:7.0 is CDK Pipelines' default and carries Docker for the asset builds.
      codeBuildDefaults: { buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 } },
      // Asset projects run Docker in privileged mode (CDK Pipelines turns it on for image assets). The Dockerfile's RUN
      // steps execute on the build machine, and an x86 machine cannot run arm64 ones without emulation: build on ARM.
      ...(props.settings.architecture === 'arm64'
        ? { assetPublishingCodeBuildDefaults: { buildEnvironment: { buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0 } } }
        : {}),
    });

    this.stage = new IngestStage(this, 'Ingest', {
      settings: props.settings,
      ...(props.ingestStackName ? { ingestStackName: props.ingestStackName } : {}),
      ...(props.prometheusCollectorImage ? { prometheusCollectorImage: props.prometheusCollectorImage } : {}),
      ...(props.env ? { env: props.env } : {}),
    });
    this.pipeline.addStage(this.stage);
    this.pipeline.buildPipeline();
    if (connectionService(props.connectionArn) === 'codeconnections') this.grantUseConnectionUnderNewPrefix(props.connectionArn);
    acknowledgeDeliveryNagFindings(this);
  }

  /**
   * CDK's connection source action grants its role codestar-connections:UseConnection only. IAM wants the action's
   * service prefix to match the resource's, so a connection with a codeconnections ARN (the console has created
   * only those since July 2024) also needs codeconnections:UseConnection.
   */
  private grantUseConnectionUnderNewPrefix(connectionArn: string): void {
    const sourceStage = this.pipeline.pipeline.node.findChild('Source');
    const roles = sourceStage.node.findAll().filter((construct): construct is iam.Role => construct instanceof iam.Role);
    if (roles.length === 0) throw new Error('the pipeline has no source action role to grant codeconnections:UseConnection to');
    for (const role of roles) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codeconnections:UseConnection'], resources: [connectionArn] }));
    }
  }
}
