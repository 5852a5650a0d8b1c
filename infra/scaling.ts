import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { ONE_MINUTE, type IngestMetrics } from './metrics.ts';

export interface QueueScalingProps {
  readonly service: ecs.FargateService;
  readonly metrics: IngestMetrics;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly backlogPerTaskTarget: number;
  /**
   * A task's file slots: the files it works on at once whatever its adaptive bound reads
   * (filesInFlightEveryTaskTakes: MIN_FILES_IN_FLIGHT, or MAX_FILES_IN_FLIGHT when fixed). Not the
   * ceiling: a task whose files are CPU-bound never gets there, and halving the tasks on slots they cannot
   * fill would leave a backlog that scales them out again.
   */
  readonly filesPerTask: number;
  /**
   * Minutes with nothing visible and nothing in flight before the service shrinks to its minimum.
   * @default IDLE_MINUTES_BEFORE_SCALE_IN
   */
  readonly idleMinutesBeforeScaleIn?: number;
}

/**
 * Idle this long, the service shrinks to its minimum. Chosen with `npm run simulate` (README, "Scaling,
 * simulated"): the tasks a backfill scaled out to wait this long with nothing to do once it has drained, and at
 * 10 minutes that tail made the backfill profile's task-hours 1.72 × the oracle's instead of 1.54 ×.
 */
export const IDLE_MINUTES_BEFORE_SCALE_IN = 5;
/** Scale in while the messages need fewer than this share of the desired tasks' file slots, in percent. */
export const SCALE_IN_BELOW_SLOTS_PERCENT = 30;
/** Each scale-in removes this share of the tasks (at least one). */
export const SCALE_IN_STEP_PERCENT = 50;
/** Low for this many of the last SCALE_IN_WINDOW_MINUTES minutes: one late datapoint does not hold scale-in back. */
export const SCALE_IN_LOW_MINUTES = 5;
export const SCALE_IN_WINDOW_MINUTES = 6;
/** Time for a scale-in to show in the metrics before the next one. */
export const SCALE_IN_COOLDOWN_MINUTES = 5;

/**
 * Scales the workers on the queue, unlike aws-ecs-patterns' QueueProcessingFargateService (step scaling
 * on visible messages alone, raced by a CPU policy that scales in on idle CPU while files are in flight):
 *
 * - out: target tracking on backlog per task (visible ÷ running tasks), AWS's recommended form, which
 *   sizes each step to the backlog; it never scales in;
 * - from zero: one task as soon as anything is visible while none runs (target tracking cannot multiply zero);
 * - in, under load: by half while the messages (visible + in flight) fill less than 30 % of the desired
 *   tasks' file slots (tasks × filesPerTask), down to one task. Halving at most doubles the share, so
 *   the tasks left stay below 60 %: nothing waits, and target tracking has no reason to scale out again.
 *   A task that still holds a message keeps running: the worker sets ECS task scale-in protection;
 * - in, when idle: straight to the minimum (zero included) after nothing has been visible or in flight for a while.
 */
export class QueueScaling extends Construct {
  readonly scalableTarget: appscaling.ScalableTarget;
  readonly backlogPolicy: appscaling.CfnScalingPolicy;
  readonly scaleInAlarm: cloudwatch.Alarm;
  readonly lowLoadAlarm: cloudwatch.Alarm;
  readonly scaleOutFromZeroAlarm: cloudwatch.Alarm | undefined;

  constructor(scope: Construct, id: string, props: QueueScalingProps) {
    super(scope, id);
    const { service, metrics } = props;
    this.scalableTarget = new appscaling.ScalableTarget(this, 'TaskCount', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${service.cluster.clusterName}/${service.serviceName}`,
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
    });

    // CDK's TargetTrackingScalingPolicy takes single metrics only; metric math needs the L1 resource.
    this.backlogPolicy = new appscaling.CfnScalingPolicy(this, 'BacklogPerTask', {
      policyName: `${id}-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.scalableTarget.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.backlogPerTaskTarget,
        disableScaleIn: true,
        scaleOutCooldown: 60,
        customizedMetricSpecification: {
          metrics: [
            this.metricStat('visible', metrics.visible),
            this.metricStat('running', metrics.runningTasks),
            { id: 'backlogPerTask', label: 'Visible messages per running task', expression: 'visible / IF(FILL(running, 0) > 0, running, 1)', returnData: true },
          ],
        },
      },
    });

    if (props.minTasks === 0) {
      this.scaleOutFromZeroAlarm = new cloudwatch.Alarm(this, 'BacklogWithNoTasks', {
        alarmDescription: 'Messages are waiting and no worker task runs: start one (target tracking takes over from there).',
        metric: new cloudwatch.MathExpression({
          expression: 'IF(visible > 0 AND FILL(running, 0) < 1, 1, 0)',
          usingMetrics: { visible: metrics.visible, running: metrics.runningTasks },
          period: ONE_MINUTE,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const startOne = new appscaling.StepScalingAction(this, 'StartOneTask', {
        scalingTarget: this.scalableTarget,
        adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        cooldown: Duration.minutes(2),
      });
      startOne.addAdjustment({ adjustment: 1, lowerBound: 0 });
      this.scaleOutFromZeroAlarm.addAlarmAction(new cwActions.ApplicationScalingAction(startOne));
    }

    this.lowLoadAlarm = this.scaleInOnLowLoad(props);

    const idleMinutes = props.idleMinutesBeforeScaleIn ?? IDLE_MINUTES_BEFORE_SCALE_IN;
    this.scaleInAlarm = new cloudwatch.Alarm(this, 'QueueIdle', {
      alarmDescription: `Nothing visible or in flight for ${idleMinutes} minutes: shrink to the minimum.`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(visible, 0) + FILL(inFlight, 0)',
        usingMetrics: { visible: metrics.visible, inFlight: metrics.inFlight },
        period: ONE_MINUTE,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: idleMinutes,
      datapointsToAlarm: idleMinutes,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const shrink = new appscaling.StepScalingAction(this, 'ShrinkToMinimum', {
      scalingTarget: this.scalableTarget,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.minutes(5),
    });
    shrink.addAdjustment({ adjustment: props.minTasks, upperBound: 0 });
    this.scaleInAlarm.addAlarmAction(new cwActions.ApplicationScalingAction(shrink));
  }

  /**
   * The share is computed on the desired count, not the running one: after a scale-in, protected tasks
   * finishing their files still run, and counting them would scale in again before the first step shows.
   * The SQS metrics are not filled: a minute whose queue depth has not arrived yet is missing, and a
   * missing minute never counts towards scaling in. With one desired task the expression reads 100 %:
   * going from one task to none is the idle policy's decision, so a trickle keeps one task warm.
   */
  private scaleInOnLowLoad(props: QueueScalingProps): cloudwatch.Alarm {
    const slotsPerTask = props.filesPerTask;
    const alarm = new cloudwatch.Alarm(this, 'LowLoad', {
      alarmDescription:
        `Messages need under ${SCALE_IN_BELOW_SLOTS_PERCENT} % of the desired tasks' file slots (${slotsPerTask} each) ` +
        `in ${SCALE_IN_LOW_MINUTES} of ${SCALE_IN_WINDOW_MINUTES} minutes: remove ${SCALE_IN_STEP_PERCENT} % of the tasks, keeping one.`,
      metric: new cloudwatch.MathExpression({
        expression: `IF(FILL(desired, 0) > 1, 100 * (visible + inFlight) / (desired * ${slotsPerTask}), 100)`,
        usingMetrics: { visible: props.metrics.visible, inFlight: props.metrics.inFlight, desired: props.metrics.desiredTasks },
        period: ONE_MINUTE,
        label: 'File slots needed (% of desired tasks)',
      }),
      threshold: SCALE_IN_BELOW_SLOTS_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: SCALE_IN_WINDOW_MINUTES,
      datapointsToAlarm: SCALE_IN_LOW_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const halve = new appscaling.StepScalingAction(this, 'RemoveHalfOfTasks', {
      scalingTarget: this.scalableTarget,
      adjustmentType: appscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
      minAdjustmentMagnitude: 1,
      cooldown: Duration.minutes(SCALE_IN_COOLDOWN_MINUTES),
    });
    halve.addAdjustment({ adjustment: -SCALE_IN_STEP_PERCENT, upperBound: 0 });
    alarm.addAlarmAction(new cwActions.ApplicationScalingAction(halve));
    return alarm;
  }

  private metricStat(id: string, metric: cloudwatch.Metric): appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty {
    return {
      id,
      returnData: false,
      metricStat: {
        metric: {
          namespace: metric.namespace,
          metricName: metric.metricName,
          dimensions: Object.entries(metric.dimensions ?? {}).map(([name, value]) => ({ name, value: String(value) })),
        },
        stat: metric.statistic,
      },
    };
  }
}
