import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { reconcileKeyStatements, type DataKeys } from './encryption.ts';
import { nodeOptionsFor } from '../worker/production-runtime.ts';
import { DEFAULT_SETTINGS, type IngestSettings, type ReconcileSchedule as ScheduleSetting } from './settings.ts';
import { listSourcesStatements, sourcesEnvironment, type IngestSource } from './sources.ts';

/** `ops reconcile` in the worker's image (the Dockerfile compiles ops/cli next to the worker). */
export const RECONCILE_ENTRY = 'dist/ops/cli/main.js';

/** The scheduled task's command: reconcile the raw objects written in the window, one JSON summary line on stdout. */
export function reconcileCommand(settings: Pick<IngestSettings, 'reconcileWindowHours' | 'suffixes'>): string[] {
  const command = ['node', RECONCILE_ENTRY, 'reconcile', '--since', `${settings.reconcileWindowHours}h`, '--json'];
  // Objects with other suffixes never raise a notification: reconcile must not count them as missing.
  const customSuffixes = settings.suffixes.join(',') !== DEFAULT_SETTINGS.suffixes.join(',');
  return customSuffixes ? [...command, ...settings.suffixes.flatMap((suffix) => ['--suffix', suffix])] : command;
}

/**
 * The period the alarm compares: one run each, the time between runs for a rate (at most a day, settings.ts),
 * a day for a cron expression (whose runs it cannot count: "two consecutive days with missing objects").
 */
export function reconcileAlarmPeriod(schedule: ScheduleSetting): Duration {
  return Duration.seconds(schedule.intervalSeconds ?? 86_400);
}

/** What the summary line counts (ops reconcile --json): one metric each. */
export const RECONCILE_COUNTS = ['listed', 'missing', 'stale', 'incomplete', 'sent'] as const;
export type ReconcileCount = (typeof RECONCILE_COUNTS)[number];

const CPU = 256;
const MEMORY_MIB = 1024;

export interface ReconcileScheduleProps {
  readonly settings: IngestSettings;
  readonly schedule: ScheduleSetting;
  readonly cluster: ecs.ICluster;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The worker's image: the same asset, so the task runs the CLI of the deployed worker version. */
  readonly image: ecs.ContainerImage;
  /** Where raw objects come from (sources.ts): reconcile lists each. */
  readonly sources: readonly IngestSource[];
  /** Holds the processed (PROCESSED_PREFIX '') and the rejected (REJECTED_PREFIX) outputs. */
  readonly processedBucket: s3.IBucket;
  readonly rejectedPrefix: string;
  readonly queue: sqs.IQueue;
  /** The queue's customer key, if any, which sending needs (encryption.ts). */
  readonly keys: DataKeys;
  readonly alarmTopic: sns.ITopic;
}

/**
 * `ops reconcile` on a schedule: an EventBridge Scheduler schedule runs a Fargate task from the worker's image,
 * which lists the raw objects written in the window, checks their outputs' provenance, and re-enqueues what is
 * missing, stale or incomplete. Its summary line becomes metrics; two runs in a row that find missing objects
 * mean notifications are being lost, and raise an alarm.
 */
export class ReconcileSchedule extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;
  readonly schedulerRole: iam.Role;
  readonly schedule: scheduler.Schedule;
  readonly metrics: Readonly<Record<ReconcileCount, cloudwatch.Metric>>;
  readonly missingAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReconcileScheduleProps) {
    super(scope, id);
    const { settings } = props;
    const stack = Stack.of(this);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: CPU,
      memoryLimitMiB: MEMORY_MIB,
      runtimePlatform: {
        cpuArchitecture: settings.architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: settings.logRetentionDays as logs.RetentionDays });
    this.container = this.taskDefinition.addContainer('reconcile', {
      image: props.image,
      essential: true,
      command: reconcileCommand(settings),
      environment: {
        AWS_REGION: stack.region,
        // The first source's bucket for an ops CLI that reads RAW_BUCKET only; SOURCES names every source.
        RAW_BUCKET: props.sources[0]!.bucket.bucketName,
        SOURCES: sourcesEnvironment(this, props.sources),
        QUEUE_URL: props.queue.queueUrl,
        PROCESSED_BUCKET: props.processedBucket.bucketName,
        PROCESSED_PREFIX: '',
        REJECTED_BUCKET: props.processedBucket.bucketName,
        REJECTED_PREFIX: props.rejectedPrefix,
        OUTPUT_FORMAT: settings.outputFormat,
        // Archived copies (move mode) are not sources: reconcile leaves the archive prefix alone, as the worker does.
        SOURCE_AFTER_SUCCESS: settings.sourceAfterSuccess,
        SOURCE_ARCHIVE_PREFIX: settings.sourceArchivePrefix,
        NODE_OPTIONS: nodeOptionsFor(MEMORY_MIB),
      },
      readonlyRootFilesystem: true,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'reconcile', logGroup: this.logGroup }),
    });
    this.grantReconcilePermissions(props);

    // A role of its own, so that the template names it and it can do nothing but start this task (the target adds
    // ecs:RunTask on this task definition and iam:PassRole on its two roles).
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
      description: 'EventBridge Scheduler: start the scheduled ops reconcile task, nothing else',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduler.ScheduleExpression.expression(props.schedule.expression),
      description: `ops reconcile over the last ${settings.reconcileWindowHours} h (${stack.stackName})`,
      target: new targets.EcsRunFargateTask(props.cluster, {
        taskDefinition: this.taskDefinition,
        role: this.schedulerRole,
        vpcSubnets: props.vpcSubnets,
        assignPublicIp: props.assignPublicIp,
        securityGroups: [props.securityGroup],
        // A run that cannot start within an hour is left to the next one, whose window covers it.
        maxEventAge: Duration.hours(1),
        retryAttempts: 10,
      }),
    });

    this.metrics = this.summaryMetrics(reconcileAlarmPeriod(props.schedule));
    this.missingAlarm = new cloudwatch.Alarm(this, 'MissingObjectsRepeatedly', {
      alarmDescription:
        'Two reconcile runs in a row found raw objects with no output: S3 notifications are being lost (or the queue was purged). ' +
        'See "Nothing missed" in the README.',
      metric: this.metrics.missing,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // A period without a run (a failed start, the schedule off) is no evidence of loss, and ends a streak.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new cwActions.SnsAction(props.alarmTopic);
    this.missingAlarm.addAlarmAction(action);
    this.missingAlarm.addOkAction(action);
  }

  /** A dashboard row: what each run found and sent, and the alarm. */
  widgets(): cloudwatch.IWidget[] {
    return [
      new cloudwatch.GraphWidget({
        title: 'Reconcile (per run)',
        left: [this.metrics.missing, this.metrics.stale, this.metrics.incomplete],
        right: [this.metrics.sent],
        leftAnnotations: [{ value: 0, label: 'alarm: missing > 0 twice in a row' }],
        width: 16,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Reconcile', alarms: [this.missingAlarm], width: 8 }),
    ];
  }

  /**
   * The counts of the run's one-line JSON summary (`{"listed":…,"missing":…,…}`) as metrics: a metric filter
   * publishes one metric, so one filter per count. The per-object log lines have no such top-level numbers.
   */
  private summaryMetrics(period: Duration): Record<ReconcileCount, cloudwatch.Metric> {
    // The stack name keeps two deployments in one account apart (a metric filter cannot add a constant dimension).
    const namespace = `${Stack.of(this).stackName}/Reconcile`;
    const entries = RECONCILE_COUNTS.map((count) => {
      const metricName = `${count[0]!.toUpperCase()}${count.slice(1)}Objects`;
      const filter = new logs.MetricFilter(this, `${metricName}Filter`, {
        logGroup: this.logGroup,
        filterPattern: logs.FilterPattern.numberValue(`$.${count}`, '>=', 0),
        metricNamespace: namespace,
        metricName,
        metricValue: `$.${count}`,
      });
      return [count, filter.metric({ statistic: cloudwatch.Stats.MAXIMUM, period, label: count })] as const;
    });
    return Object.fromEntries(entries) as Record<ReconcileCount, cloudwatch.Metric>;
  }

  /**
   * Exactly what reconcile does: list each source (ListObjectsV2 with its prefix), read its outputs' metadata (HeadObject is
   * s3:GetObject) and send object messages to the ingest queue. s3:ListBucket on the output bucket too: without it
   * S3 answers HeadObject on a missing output with 403 instead of 404, and a deleted output (the case reconcile is
   * for) would look like an access error.
   */
  private grantReconcilePermissions(props: ReconcileScheduleProps): void {
    const outputObjects =
      props.settings.outputFormat === 'jsonl'
        ? // PROCESSED_PREFIX is '' (the bucket's top level): the processed outputs are anywhere in the bucket.
          props.processedBucket.arnForObjects('*')
        : // Parquet outputs are per partition, not per source: reconcile checks the rejected output, always written.
          props.processedBucket.arnForObjects(`${props.rejectedPrefix}*`);
    const statements = [
      ...listSourcesStatements('ListRawBucket', props.sources),
      new iam.PolicyStatement({ sid: 'ListOutputBucket', actions: ['s3:ListBucket'], resources: [props.processedBucket.bucketArn] }),
      new iam.PolicyStatement({ sid: 'ReadOutputMetadata', actions: ['s3:GetObject'], resources: [outputObjects] }),
      new iam.PolicyStatement({ sid: 'SendToIngestQueue', actions: ['sqs:SendMessage'], resources: [props.queue.queueArn] }),
      ...reconcileKeyStatements(props.keys),
    ];
    for (const statement of statements) this.taskDefinition.taskRole.addToPrincipalPolicy(statement);
  }
}
