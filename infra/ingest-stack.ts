import { Annotations, CfnOutput, CfnResource, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PRODUCTION_HTTP_PORT } from '../worker/production-runtime.ts';
import { crossAccountDocuments, readableValue } from './cross-account.ts';
import { DataLake } from './data-lake.ts';
import { Encryption, type DataKeys } from './encryption.ts';
import { FileEvents } from './file-events.ts';
import { ingestMetrics } from './metrics.ts';
import { Monitoring } from './monitoring.ts';
import { Notifications } from './notifications.ts';
import { ManagedPrometheus } from './prometheus.ts';
import { Queues } from './queues.ts';
import { ReconcileSchedule } from './reconcile-schedule.ts';
import { QueueScaling } from './scaling.ts';
import { bucketNameOf, filesInFlightEveryTaskTakes, type IngestSettings } from './settings.ts';
import { sourceExpiryRule } from './source-lifecycle.ts';
import { sourceBuckets, Sources } from './sources.ts';
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

/** Where the README tells the owner of a bucket in another account what to run. */
export const CROSS_ACCOUNT_SECTION = 'README, "Several sources, another account, KMS"';

export interface IngestStackProps extends StackProps {
  readonly settings: IngestSettings;
  /** Overrides the worker image built from the Dockerfile (tests use a registry image). */
  readonly workerImage?: ecs.ContainerImage;
  readonly prometheusCollectorImage?: string;
}

/** The whole pipeline: buckets (created or existing ones), queue and DLQ, notifications, the worker service and its scaling, alarms, dashboard. */
export class IngestStack extends Stack {
  readonly encryption: Encryption;
  readonly storage: Storage;
  readonly sources: Sources;
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

    this.encryption = new Encryption(this, 'Encryption', { setting: settings.encryptionKey });
    this.storage = new Storage(this, 'Storage', {
      rejectedRetentionDays: settings.rejectedRetentionDays,
      rejectedPrefix: REJECTED_PREFIX,
      sourceExpiryRule:
        settings.sourceExpireDays === undefined ? undefined : sourceExpiryRule(settings.sourceAfterSuccess, settings.sourceArchivePrefix, settings.sourceExpireDays),
      rawEventBridgeEnabled: settings.notificationMode === 'eventbridge',
      existingRawBucket: settings.existingRawBucket,
      existingProcessedBucket: settings.existingProcessedBucket,
      encryptionKey: this.encryption.key,
    });
    this.queues = new Queues(this, 'Queues', {
      maxReceiveCount: settings.maxReceiveCount,
      visibilityTimeoutSeconds: settings.longestFileSeconds,
      encryptionKey: this.encryption.key,
    });
    this.sources = new Sources(this, 'Sources', { settings: settings.sources, rawBucket: this.storage.rawBucket });
    this.notifications = new Notifications(this, 'Notifications', {
      mode: settings.notificationMode,
      sources: this.sources.all,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      suffixes: settings.suffixes,
      logRetentionDays: settings.logRetentionDays,
      queueKey: this.encryption.key,
    });
    this.encryption.allowDelivery(this.notifications.deliveringServices);
    const keys = this.dataKeys();
    this.fileEvents = new FileEvents(this, 'FileEvents');
    this.workers = new WorkerService(this, 'Workers', {
      settings,
      sources: this.sources.all,
      processedBucket: this.storage.processedBucket,
      keys,
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
        sources: this.sources.all,
        processedBucket: this.storage.processedBucket,
        rejectedPrefix: REJECTED_PREFIX,
        queue: this.queues.queue,
        keys,
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
    this.publishCrossAccountDocuments();
    if (this.dataLake) {
      new CfnOutput(this, 'GlueDatabaseName', { value: this.dataLake.database.ref });
      new CfnOutput(this, 'AthenaWorkGroupName', { value: this.dataLake.workGroup.ref });
      new CfnOutput(this, 'AthenaResultsBucketName', { value: this.dataLake.resultsBucket.bucketName });
    }
  }

  /** Which customer keys guard the queues and the raw and processed objects, for the roles' grants. */
  private dataKeys(): DataKeys {
    const stackKeyArn = this.encryption.key?.keyArn;
    const rawObjectKeyArns = this.sources.all.flatMap((source) => {
      if (source.kmsKeyArn !== undefined) return [source.kmsKeyArn];
      const createdRawBucket = source.reference === undefined && this.settings.existingRawBucket === undefined;
      return createdRawBucket && stackKeyArn !== undefined ? [stackKeyArn] : [];
    });
    return {
      queueKey: this.encryption.key,
      rawObjectKeyArns: [...new Set(rawObjectKeyArns)],
      processedObjectKeyArn: this.settings.existingProcessedBucket === undefined ? stackKeyArn : this.settings.existingProcessedBucketKmsKeyArn,
    };
  }

  /**
   * For each source bucket of another account, what its owner must add (cross-account.ts), in outputs that
   * CloudFormation completes with the roles' and the queue's ARNs at deploy, and said at synth as Info with those
   * values as <LogicalId.Arn> (an annotation cannot wait for the deploy; the values literal at synth are printed as such).
   */
  private publishCrossAccountDocuments(): void {
    const stackPrincipals = {
      workerRoleArn: this.workers.taskDefinition.taskRole.roleArn,
      reconcileRoleArn: this.reconcile?.taskDefinition.taskRole.roleArn,
      queueArn: this.queues.queue.queueArn,
    };
    const options = { suffixes: this.settings.suffixes, sourceAfterSuccess: this.settings.sourceAfterSuccess, archivePrefix: this.settings.sourceArchivePrefix };
    const buckets = sourceBuckets(this.sources.all).filter((group) => group.account !== undefined);
    buckets.forEach((group, index) => {
      const name = `CrossAccountBucket${index + 1}`;
      const bucketName = bucketNameOf(group.reference!);
      const documents = crossAccountDocuments(
        {
          bucketArn: group.bucket.bucketArn,
          account: group.account!,
          prefixes: group.sources.map((source) => source.prefix),
          kmsKeyArns: [...new Set(group.sources.flatMap((source) => (source.kmsKeyArn === undefined ? [] : [source.kmsKeyArn])))],
        },
        stackPrincipals,
        options,
      );
      const outputs: Array<[string, string, unknown]> = [
        [`${name}Policy`, `Statements to add to the bucket policy of ${bucketName} (account ${group.account})`, documents.bucketPolicy],
        [`${name}Notifications`, `Notification configuration for ${bucketName}, merged with what it has`, documents.notificationConfiguration],
        ...documents.keyPolicyStatements.map(({ keyArn, statement }, keyIndex): [string, string, unknown] => [
          `${name}KeyPolicy${keyIndex + 1}`,
          `Statement to add to the key policy of ${keyArn}`,
          statement,
        ]),
      ];
      for (const [id, description, document] of outputs) new CfnOutput(this, id, { description, value: this.toJsonString(document) });
      const printed = outputs.map(([id, , document]) => `${id}: ${JSON.stringify(readableValue(this.resolve(document)))}`);
      Annotations.of(group.bucket).addInfo(
        `Bucket ${bucketName} is in account ${group.account}: its owner must add what the stack outputs ${outputs.map(([id]) => id).join(', ')} hold ` +
          `(aws cloudformation describe-stacks --stack-name ${this.stackName} shows them with every value filled in; ${CROSS_ACCOUNT_SECTION}). ` +
          `<...> below is filled in at deploy. ${printed.join(' ')}`,
      );
    });
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
