import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { HEALTH_CHECK, nodeOptionsFor, PRODUCTION_HTTP_PORT } from '../worker/production-runtime.ts';
import { projectPath } from './project-path.ts';
import { COLLECTOR_MEMORY_MIB } from './prometheus.ts';
import type { IngestSettings } from './settings.ts';
import { workerKeyStatements, type DataKeys } from './encryption.ts';
import { sourceLifecycleStatements } from './source-lifecycle.ts';
import { listSourcesStatements, sourceObjects, sourcesEnvironment, type IngestSource } from './sources.ts';

export const REJECTED_PREFIX = 'rejected/';
/** Where Parquet output goes in the processed bucket: the Glue tables' location. */
export const PARQUET_PREFIX = 'parquet/';

export interface WorkerServiceProps {
  readonly settings: IngestSettings;
  /** Where raw objects come from (sources.ts): the worker reads exactly these. */
  readonly sources: readonly IngestSource[];
  readonly processedBucket: s3.IBucket;
  /** The customer keys of the queues and of the raw and processed objects (encryption.ts). */
  readonly keys: DataKeys;
  readonly accessLogsBucket: s3.IBucket;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Where the worker publishes one completion event per file (FILE_EVENTS_TOPIC_ARN). */
  readonly fileEventsTopic: sns.ITopic;
  /** Overrides the container image (tests use a registry image so that they need no Docker build context). */
  readonly image?: ecs.ContainerImage;
}

/** The memory the worker container may use: the task's, less the collector sidecar's limit when it runs. */
export function workerMemoryMiB(settings: IngestSettings): number {
  return settings.memoryMiB - (settings.managedPrometheus ? COLLECTOR_MEMORY_MIB : 0);
}

/** Left to the runtime, the heap and what finished files leave behind, before any file reserves memory. */
const UNRESERVED_MEMORY_MIB = 512;
/** The worker's own default, the least any task gets. */
const MIN_BYTES_IN_FLIGHT_MIB = 64;

/**
 * MAX_BYTES_IN_FLIGHT_MIB for a worker container of `memoryMiB`: half of what it has beyond
 * UNRESERVED_MEMORY_MIB, since a reservation costs more RSS than its bytes (part buffers wait for a
 * garbage collection, the allocator keeps freed pages). The worker's own default fits a 200 MB process.
 */
export function maxBytesInFlightMiB(memoryMiB: number): number {
  return Math.max(MIN_BYTES_IN_FLIGHT_MIB, Math.floor((memoryMiB - UNRESERVED_MEMORY_MIB) / 2));
}

/** The network, the cluster and the Fargate service of workers, with exactly the permissions the worker uses. */
export class WorkerService extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;
  /** The worker's image, which the scheduled reconcile task runs too. */
  readonly image: ecs.ContainerImage;
  readonly securityGroup: ec2.SecurityGroup;
  /** Where the worker tasks run, and whether they need a public IP to reach AWS (no NAT gateway). */
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const { settings } = props;
    const privateSubnets = settings.natGateways > 0;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: settings.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        ...(privateSubnets ? [{ name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 }] : []),
      ],
      // Free, and keeps the bulk of the traffic (S3) off the NAT gateway.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toS3(props.accessLogsBucket, 'vpc-flow-logs/'),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: settings.architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: settings.logRetentionDays as logs.RetentionDays });
    const image = (this.image =
      props.image ??
      ecs.ContainerImage.fromAsset(projectPath(''), {
        platform: settings.architecture === 'arm64' ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      }));

    this.container = this.taskDefinition.addContainer('worker', {
      image,
      essential: true,
      environment: {
        AWS_REGION: Stack.of(this).region,
        QUEUE_URL: props.queue.queueUrl,
        DLQ_URL: props.deadLetterQueue.queueUrl,
        PROCESSED_BUCKET: props.processedBucket.bucketName,
        REJECTED_PREFIX,
        OUTPUT_FORMAT: settings.outputFormat,
        PARQUET_PREFIX,
        MAX_FILES_IN_FLIGHT: String(settings.maxFilesInFlight),
        MIN_FILES_IN_FLIGHT: String(settings.minFilesInFlight),
        FILES_IN_FLIGHT_MODE: settings.filesInFlightMode,
        MAX_BYTES_IN_FLIGHT_MIB: String(maxBytesInFlightMiB(workerMemoryMiB(settings))),
        // Every receive sets this visibility, so it must be the queue's: long enough for the longest file.
        VISIBILITY_TIMEOUT_SECONDS: String(settings.longestFileSeconds),
        SHUTDOWN_GRACE_SECONDS: String(settings.shutdownGraceSeconds),
        FRESHNESS_OBJECTIVE_SECONDS: String(settings.freshnessObjectiveSeconds),
        HTTP_PORT: String(PRODUCTION_HTTP_PORT),
        NODE_OPTIONS: nodeOptionsFor(workerMemoryMiB(settings)),
        ...(settings.deviceRegistryUri ? { DEVICE_REGISTRY: settings.deviceRegistryUri } : {}),
        FILE_EVENTS_TOPIC_ARN: props.fileEventsTopic.topicArn,
        SOURCE_AFTER_SUCCESS: settings.sourceAfterSuccess,
        SOURCE_ARCHIVE_PREFIX: settings.sourceArchivePrefix,
        SOURCES: sourcesEnvironment(this, props.sources),
      },
      portMappings: [{ containerPort: PRODUCTION_HTTP_PORT, name: 'http' }],
      // The Dockerfile's HEALTHCHECK is the same (the artifact check compares them); ECS runs only this one.
      healthCheck: {
        command: ['CMD', ...HEALTH_CHECK.command],
        interval: Duration.seconds(HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(HEALTH_CHECK.timeoutSeconds),
        retries: HEALTH_CHECK.retries,
        startPeriod: Duration.seconds(HEALTH_CHECK.startPeriodSeconds),
      },
      // SIGTERM, then the worker's grace period, then a margin before ECS sends SIGKILL.
      stopTimeout: Duration.seconds(Math.min(120, settings.shutdownGraceSeconds + 5)),
      readonlyRootFilesystem: true,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: this.logGroup }),
    });

    this.grantWorkerPermissions(props);

    this.vpcSubnets = { subnetType: privateSubnets ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC };
    this.assignPublicIp = !privateSubnets;

    this.securityGroup = new ec2.SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc: this.vpc,
      description: 'Iot ingest workers: no inbound traffic; outbound to AWS APIs',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // No DesiredCount in the template: a deployment would otherwise reset a scaled service to it.
      // CloudFormation starts a new service with one task; the scalable target then keeps it within bounds.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: this.vpcSubnets,
      assignPublicIp: this.assignPublicIp,
      securityGroups: [this.securityGroup],
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
  }

  /**
   * Written out rather than with grant* helpers, which add bucket-level actions the worker never uses:
   * read the objects of exactly the sources, list their buckets (sources.ts), write output objects,
   * consume the queue, dead-letter poison messages, report both queues' depth as metrics, protect
   * its own task from scale-in while it holds messages, publish completion events, and what the
   * source mode does to a processed raw object (source-lifecycle.ts).
   */
  private grantWorkerPermissions(props: WorkerServiceProps): void {
    const role = this.taskDefinition.taskRole;
    const stack = Stack.of(this);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadRawObjects',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: props.sources.map((source) => sourceObjects(source)),
      }),
      ...listSourcesStatements('ListRawBucket', props.sources),
      // GetObject: an output stored in parts gets its final provenance metadata by a copy onto itself, and
      // before a file stores anything the worker reads its rejected output's provenance (a newer upload's?).
      new iam.PolicyStatement({
        sid: 'WriteOutputObjects',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [props.processedBucket.arnForObjects('*')],
      }),
      // Without it S3 answers that HeadObject of an output not written yet with 403, not 404.
      new iam.PolicyStatement({
        sid: 'ListOutputBucket',
        actions: ['s3:ListBucket'],
        resources: [props.processedBucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'ConsumeIngestQueue',
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
        resources: [props.queue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'DeadLetterPoisonMessages',
        actions: ['sqs:SendMessage'],
        resources: [props.deadLetterQueue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReportQueueDepth',
        actions: ['sqs:GetQueueAttributes'],
        resources: [props.queue.queueArn, props.deadLetterQueue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'ProtectOwnTaskFromScaleIn',
        actions: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
        resources: [`arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:task/${this.cluster.clusterName}/*`],
      }),
      new iam.PolicyStatement({
        sid: 'PublishFileEvents',
        actions: ['sns:Publish'],
        resources: [props.fileEventsTopic.topicArn],
      }),
      ...sourceLifecycleStatements({
        mode: props.settings.sourceAfterSuccess,
        sources: props.sources,
        archivePrefix: props.settings.sourceArchivePrefix,
      }),
    ];
    if (props.settings.outputFormat === 'parquet') {
      statements.push(
        new iam.PolicyStatement({
          sid: 'RemovePartialParquet',
          actions: ['s3:DeleteObject'],
          resources: [props.processedBucket.arnForObjects(`${PARQUET_PREFIX}*`)],
        }),
      );
    }
    const registry = props.settings.deviceRegistryUri?.match(/^s3:\/\/([^/]+)\/(.+)$/);
    if (registry) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ReadDeviceRegistry',
          actions: ['s3:GetObject'],
          resources: [`arn:${stack.partition}:s3:::${registry[1]}/${registry[2]}`],
        }),
      );
    }
    if (props.settings.deviceRegistryKmsKeyArn) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptDeviceRegistry',
          actions: ['kms:Decrypt'],
          resources: [props.settings.deviceRegistryKmsKeyArn],
          // Only for S3 reading an SSE-KMS object; the registry bucket may be in any region.
          conditions: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } },
        }),
      );
    }
    statements.push(...workerKeyStatements(props.keys, props.settings.sourceAfterSuccess === 'move'));
    for (const statement of statements) role.addToPrincipalPolicy(statement);
  }
}
