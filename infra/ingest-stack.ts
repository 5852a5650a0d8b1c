import { CfnOutput, CfnResource, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PRODUCTION_HTTP_PORT } from '../worker/production-runtime.ts';
import { DataLake } from './data-lake.ts';
import { FileEvents } from './file-events.ts';
import { ingestMetrics } from './metrics.ts';
import { Monitoring } from './monitoring.ts';
import { Notifications } from './notifications.ts';
import { ManagedPrometheus } from './prometheus.ts';
import { Queues } from './queues.ts';
import { ReconcileSchedule } from './reconcile-schedule.ts';
import { QueueScaling } from './scaling.ts';
import { filesInFlightEveryTaskTakes, type IngestSettings } from './settings.ts';
import { sourceExpiryRule } from './source-lifecycle.ts';
import { Storage } from './storage.ts';
import { PARQUET_PREFIX, REJECTED_PREFIX, WorkerService } from './worker-service.ts';

/**
 * Feature flags the stack relies on. It sets them on itself, so that every app that builds it sees them: the
 * CDK CLI also reads them from cdk.json, but the tests' apps and the pipeline's stage see only what their App is given.
 */
export const INGEST_STACK_FEATURE_FLAGS = {
  // CDK writes the flow logs' delivery statements (delivery.logs.amazonaws.com) into the access-log bucket's policy.
  // Without it the log service adds them itself when the flow log is created, and the next deploy that changes that
  // CDK-managed policy (turning on the data lake does) drops them: the flow logs stop, with no error anywhere.
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  // A deploy-time custom resource removes every rule of the VPC's default security group: nothing the stack
  // creates uses it, and anything put in it by mistake then reaches nothing and is reached by nothing.
  '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true,
} as const;

export interface IngestStackProps extends StackProps {
  readonly settings: IngestSettings;
  /** Overrides the worker image built from the Dockerfile (tests use a registry image). */
  readonly workerImage?: ecs.ContainerImage;
  readonly prometheusCollectorImage?: string;
}

/** The whole pipeline: buckets (created or existing ones), queue and DLQ, notifications, the worker service and its scaling, alarms, dashboard. */
export class IngestStack extends Stack {
  readonly storage: Storage;
  readonly queues: Queues;
  readonly notifications: Notifications;
  readonly workers: WorkerService;
  readonly scaling: QueueScaling;
  readonly monitoring: Monitoring;
  readonly prometheus: ManagedPrometheus | undefined;
  readonly dataLake: DataLake | undefined;
  readonly fileEvents: FileEvents;
  readonly reconcile: ReconcileSchedule | undefined;
  readonly settings: IngestSettings;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    for (const [flag, enabled] of Object.entries(INGEST_STACK_FEATURE_FLAGS)) this.node.setContext(flag, enabled);
    const { settings } = props;
    this.settings = settings;

    this.storage = new Storage(this, 'Storage', {
      rejectedRetentionDays: settings.rejectedRetentionDays,
      rejectedPrefix: REJECTED_PREFIX,
      sourceExpiryRule:
        settings.sourceExpireDays === undefined ? undefined : sourceExpiryRule(settings.sourceAfterSuccess, settings.sourceArchivePrefix, settings.sourceExpireDays),
      rawEventBridgeEnabled: settings.notificationMode === 'eventbridge',
      existingRawBucket: settings.existingRawBucket,
      existingProcessedBucket: settings.existingProcessedBucket,
    });
    this.queues = new Queues(this, 'Queues', {
      maxReceiveCount: settings.maxReceiveCount,
      visibilityTimeoutSeconds: settings.longestFileSeconds,
    });
    this.notifications = new Notifications(this, 'Notifications', {
      mode: settings.notificationMode,
      rawBucket: this.storage.rawBucket,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      suffixes: settings.suffixes,
      logRetentionDays: settings.logRetentionDays,
    });
    this.fileEvents = new FileEvents(this, 'FileEvents');
    this.workers = new WorkerService(this, 'Workers', {
      settings,
      rawBucket: this.storage.rawBucket,
      processedBucket: this.storage.processedBucket,
      accessLogsBucket: this.storage.accessLogsBucket,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      fileEventsTopic: this.fileEvents.topic,
      ...(props.workerImage ? { image: props.workerImage } : {}),
    });
    if (settings.managedPrometheus) {
      this.prometheus = new ManagedPrometheus(this, 'Prometheus', {
        taskDefinition: this.workers.taskDefinition,
        logGroup: this.workers.logGroup,
        workerPort: PRODUCTION_HTTP_PORT,
        ...(props.prometheusCollectorImage ? { collectorImage: props.prometheusCollectorImage } : {}),
      });
    }
    if (settings.dataLake) {
      this.dataLake = new DataLake(this, 'DataLake', {
        processedBucket: this.storage.processedBucket,
        parquetPrefix: PARQUET_PREFIX,
        accessLogsBucket: this.storage.accessLogsBucket,
      });
    }

    const metrics = ingestMetrics(this.queues.queue, this.queues.deadLetterQueue, this.workers.service);
    this.scaling = new QueueScaling(this, 'Scaling', {
      service: this.workers.service,
      metrics,
      minTasks: settings.minTasks,
      maxTasks: settings.maxTasks,
      backlogPerTaskTarget: settings.backlogPerTaskTarget,
      filesPerTask: filesInFlightEveryTaskTakes(settings),
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      metrics,
      service: this.workers.service,
      oldestMessageAlarmSeconds: settings.oldestMessageAlarmSeconds,
      noProgressAlarmMinutes: settings.noProgressAlarmMinutes,
      alarmEmail: settings.alarmEmail,
    });
    if (settings.reconcileSchedule) {
      this.reconcile = new ReconcileSchedule(this, 'Reconcile', {
        settings,
        schedule: settings.reconcileSchedule,
        cluster: this.workers.cluster,
        vpcSubnets: this.workers.vpcSubnets,
        assignPublicIp: this.workers.assignPublicIp,
        securityGroup: this.workers.securityGroup,
        image: this.workers.image,
        rawBucket: this.storage.rawBucket,
        processedBucket: this.storage.processedBucket,
        rejectedPrefix: REJECTED_PREFIX,
        queue: this.queues.queue,
        alarmTopic: this.monitoring.topic,
      });
      this.monitoring.dashboard.addWidgets(...this.reconcile.widgets());
    }
    this.expireDeployTimeHandlerLogs(settings.logRetentionDays);

    new CfnOutput(this, 'RawBucketName', { value: this.storage.rawBucket.bucketName });
    new CfnOutput(this, 'ProcessedBucketName', { value: this.storage.processedBucket.bucketName });
    new CfnOutput(this, 'QueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'ClusterName', { value: this.workers.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.workers.service.serviceName });
    new CfnOutput(this, 'LogGroupName', { value: this.workers.logGroup.logGroupName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'FileEventsTopicArn', { value: this.fileEvents.topic.topicArn });
    if (this.reconcile) new CfnOutput(this, 'ReconcileLogGroupName', { value: this.reconcile.logGroup.logGroupName });
    // ops smoke sets this alarm to ALARM and back, so the operator sees an alarm e-mail arrive.
    new CfnOutput(this, 'DeadLetterQueueAlarmName', { value: this.monitoring.alarms.deadLetterQueueNotEmpty.alarmName });
    if (this.prometheus) new CfnOutput(this, 'PrometheusWorkspaceId', { value: this.prometheus.workspace.attrWorkspaceId });
    if (this.dataLake) {
      new CfnOutput(this, 'GlueDatabaseName', { value: this.dataLake.database.ref });
      new CfnOutput(this, 'AthenaWorkGroupName', { value: this.dataLake.workGroup.ref });
      new CfnOutput(this, 'AthenaResultsBucketName', { value: this.dataLake.resultsBucket.bucketName });
    }
  }

  /**
   * CDK's own deploy-time Lambdas (the bucket notifications handler, the custom resource that empties the default
   * security group) are plain AWS::Lambda::Function resources with no log group: Lambda would create
   * /aws/lambda/<name> on their first run, kept forever. Each gets a log group with the stack's retention instead,
   * named in its LoggingConfig, so CloudFormation creates the group before the function can run.
   */
  private expireDeployTimeHandlerLogs(retentionDays: number): void {
    const handlers = this.node
      .findAll()
      .filter((construct): construct is CfnResource => CfnResource.isCfnResource(construct) && construct.cfnResourceType === 'AWS::Lambda::Function')
      // The trigger is a lambda.Function with a log group of its own (notifications.ts).
      .filter((resource) => !(resource instanceof lambda.CfnFunction));
    for (const handler of handlers) {
      const owner = handler.node.scope ?? this;
      const logGroup = new logs.LogGroup(owner, 'Logs', { retention: retentionDays as logs.RetentionDays });
      handler.addPropertyOverride('LoggingConfig.LogGroup', logGroup.logGroupName);
    }
  }
}
