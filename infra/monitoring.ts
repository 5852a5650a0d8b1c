import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ONE_MINUTE, type IngestMetrics } from './metrics.ts';

export interface MonitoringProps {
  readonly metrics: IngestMetrics;
  readonly service: ecs.FargateService;
  readonly oldestMessageAlarmSeconds: number;
  readonly noProgressAlarmMinutes: number;
  readonly alarmEmail: string | undefined;
}

const TASKS_NOT_STARTING_MINUTES = 10;
/**
 * The alarms that need a condition to last for minutes look at this many minutes more: datapoints that
 * arrive late count as not breaching when the alarm is evaluated, and with every minute required one
 * late minute would reset the count.
 */
export const LATE_DATA_ALLOWANCE_MINUTES = 3;

/** The operator's alarms (to an SNS topic) and a CloudWatch dashboard of the pipeline. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: {
    readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
    readonly oldestMessageTooOld: cloudwatch.Alarm;
    readonly backlogWithoutProgress: cloudwatch.Alarm;
    readonly tasksNotStarting: cloudwatch.Alarm;
  };
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { metrics } = props;
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'IoT ingest alarms', enforceSSL: true });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one: without this
    // statement no alarm could publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.alarms = {
      deadLetterQueueNotEmpty: new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
        alarmDescription:
          'Messages in the dead-letter queue (visible, in flight or delayed: a peek does not clear it): ' +
          'see "DLQ is not empty" in the README runbook.',
        metric: metrics.deadLetterMessages,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      oldestMessageTooOld: new cloudwatch.Alarm(this, 'OldestMessageTooOld', {
        alarmDescription: `A message has waited over ${props.oldestMessageAlarmSeconds} s: the workers are behind or stuck.`,
        metric: metrics.oldestMessageAgeSeconds,
        threshold: props.oldestMessageAlarmSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      backlogWithoutProgress: new cloudwatch.Alarm(this, 'BacklogWithoutProgress', {
        alarmDescription:
          `Messages waiting and none deleted (no file finished) in ${props.noProgressAlarmMinutes} ` +
          `of the last ${props.noProgressAlarmMinutes + LATE_DATA_ALLOWANCE_MINUTES} minutes.`,
        metric: new cloudwatch.MathExpression({
          expression: 'IF(FILL(visible, 0) > 0 AND FILL(deleted, 0) == 0, 1, 0)',
          usingMetrics: { visible: metrics.visible, deleted: metrics.deleted },
          period: ONE_MINUTE,
          label: 'Backlog with no file finished',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: props.noProgressAlarmMinutes + LATE_DATA_ALLOWANCE_MINUTES,
        datapointsToAlarm: props.noProgressAlarmMinutes,
        // SQS publishes an active queue's metrics every minute: a minute without them is late, and until it
        // arrives it counts as no backlog rather than as a stall.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      tasksNotStarting: new cloudwatch.Alarm(this, 'TasksNotStarting', {
        alarmDescription:
          `Fewer worker tasks running than desired in ${TASKS_NOT_STARTING_MINUTES} of the last ` +
          `${TASKS_NOT_STARTING_MINUTES + LATE_DATA_ALLOWANCE_MINUTES} minutes: tasks fail to start or keep crashing.`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(desired, 0) - FILL(running, 0)',
          usingMetrics: { desired: metrics.desiredTasks, running: metrics.runningTasks },
          period: ONE_MINUTE,
          label: 'Tasks desired but not running',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: TASKS_NOT_STARTING_MINUTES + LATE_DATA_ALLOWANCE_MINUTES,
        datapointsToAlarm: TASKS_NOT_STARTING_MINUTES,
        // A minute without Container Insights data is late (or the service wants no task): not a failure.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
    const action = new cwActions.SnsAction(this.topic);
    for (const alarm of Object.values(this.alarms)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    this.dashboard = this.createDashboard(props);
  }

  private createDashboard(props: MonitoringProps): cloudwatch.Dashboard {
    const { metrics, service } = props;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        left: [metrics.visible.with({ label: 'visible' }), metrics.inFlight.with({ label: 'in flight' })],
        right: [metrics.deadLetterMessages],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Age of oldest message (s)',
        left: [metrics.oldestMessageAgeSeconds],
        leftAnnotations: [{ value: props.oldestMessageAlarmSeconds, label: 'alarm' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker tasks',
        left: [metrics.runningTasks.with({ label: 'running' }), metrics.desiredTasks.with({ label: 'desired' })],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Throughput (messages per minute)',
        left: [metrics.received.with({ label: 'received' }), metrics.deleted.with({ label: 'done (deleted)' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: [metrics.deadLetterMessages],
        right: [
          new cloudwatch.MathExpression({
            expression: 'FILL(received, 0) - FILL(deleted, 0)',
            usingMetrics: { received: metrics.received, deleted: metrics.deleted },
            period: ONE_MINUTE,
            label: 'received but not deleted (retries)',
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker CPU and memory (%)',
        left: [service.metricCpuUtilization({ period: ONE_MINUTE }), service.metricMemoryUtilization({ period: ONE_MINUTE })],
        width: 8,
      }),
    );
    return dashboard;
  }
}
