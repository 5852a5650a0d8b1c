import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { DataLake } from './data-lake.ts';
import { pipelineMetrics } from './metrics.ts';
import { Monitoring } from './monitoring.ts';
import { Notifications } from './notifications.ts';
import { ManagedPrometheus } from './prometheus.ts';
import { Queues } from './queues.ts';
import { QueueScaling } from './scaling.ts';
import type { IngestSettings } from './settings.ts';
import { Storage } from './storage.ts';
import { PARQUET_PREFIX, REJECTED_PREFIX, WORKER_HTTP_PORT, WorkerService } from './worker-service.ts';

export interface IngestStackProps extends StackProps {
  readonly settings: IngestSettings;
  /** Overrides the worker image built from the Dockerfile (tests use a registry image). */
  readonly workerImage?: ecs.ContainerImage;
  readonly prometheusCollectorImage?: string;
}

/** The whole pipeline: buckets, queue and DLQ, notifications, the worker service and its scaling, alarms, dashboard. */
export class IngestStack extends Stack {
  readonly storage: Storage;
  readonly queues: Queues;
  readonly notifications: Notifications;
  readonly workers: WorkerService;
  readonly scaling: QueueScaling;
  readonly monitoring: Monitoring;
  readonly prometheus: ManagedPrometheus | undefined;
  readonly dataLake: DataLake | undefined;
  readonly settings: IngestSettings;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.settings = settings;

    this.storage = new Storage(this, 'Storage', { rejectedRetentionDays: settings.rejectedRetentionDays, rejectedPrefix: REJECTED_PREFIX });
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
    this.workers = new WorkerService(this, 'Workers', {
      settings,
      rawBucket: this.storage.rawBucket,
      processedBucket: this.storage.processedBucket,
      accessLogsBucket: this.storage.accessLogsBucket,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      ...(props.workerImage ? { image: props.workerImage } : {}),
    });
    if (settings.managedPrometheus) {
      this.prometheus = new ManagedPrometheus(this, 'Prometheus', {
        taskDefinition: this.workers.taskDefinition,
        logGroup: this.workers.logGroup,
        workerPort: WORKER_HTTP_PORT,
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

    const metrics = pipelineMetrics(this.queues.queue, this.queues.deadLetterQueue, this.workers.service);
    this.scaling = new QueueScaling(this, 'Scaling', {
      service: this.workers.service,
      metrics,
      minTasks: settings.minTasks,
      maxTasks: settings.maxTasks,
      backlogPerTaskTarget: settings.backlogPerTaskTarget,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      metrics,
      service: this.workers.service,
      oldestMessageAlarmSeconds: settings.oldestMessageAlarmSeconds,
      noProgressAlarmMinutes: settings.noProgressAlarmMinutes,
      alarmEmail: settings.alarmEmail,
    });

    new CfnOutput(this, 'RawBucketName', { value: this.storage.rawBucket.bucketName });
    new CfnOutput(this, 'ProcessedBucketName', { value: this.storage.processedBucket.bucketName });
    new CfnOutput(this, 'QueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'ClusterName', { value: this.workers.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.workers.service.serviceName });
    new CfnOutput(this, 'LogGroupName', { value: this.workers.logGroup.logGroupName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    if (this.prometheus) new CfnOutput(this, 'PrometheusWorkspaceId', { value: this.prometheus.workspace.attrWorkspaceId });
    if (this.dataLake) {
      new CfnOutput(this, 'GlueDatabaseName', { value: this.dataLake.database.ref });
      new CfnOutput(this, 'AthenaWorkGroupName', { value: this.dataLake.workGroup.ref });
      new CfnOutput(this, 'AthenaResultsBucketName', { value: this.dataLake.resultsBucket.bucketName });
    }
  }
}
