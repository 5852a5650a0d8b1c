import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { ONE_MINUTE, type PipelineMetrics } from './metrics.ts';

export interface QueueScalingProps {
  readonly service: ecs.FargateService;
  readonly metrics: PipelineMetrics;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly backlogPerTaskTarget: number;
  /** Minutes with nothing visible and nothing in flight before the service shrinks to its minimum. */
  readonly idleMinutesBeforeScaleIn?: number;
}

/**
 * Scales the workers on the queue, unlike aws-ecs-patterns' QueueProcessingFargateService (step scaling
 * on visible messages alone, raced by a CPU policy that scales in on idle CPU while files are in flight):
 *
 * - out: target tracking on backlog per task (visible ÷ running tasks), AWS's recommended form, which
 *   sizes each step to the backlog; it never scales in;
 * - from zero: one task as soon as anything is visible while none runs (target tracking cannot multiply zero);
 * - in: straight to the minimum, only after nothing has been visible or in flight for a while. A task
 *   that still holds a message is also protected by ECS task scale-in protection, set by the worker.
 */
export class QueueScaling extends Construct {
  readonly scalableTarget: appscaling.ScalableTarget;
  readonly backlogPolicy: appscaling.CfnScalingPolicy;
  readonly scaleInAlarm: cloudwatch.Alarm;
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

    const idleMinutes = props.idleMinutesBeforeScaleIn ?? 10;
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
