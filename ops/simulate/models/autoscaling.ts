/**
 * Application Auto Scaling on the ECS service's desired count: target tracking through the alarms it creates
 * for itself, and step scaling policies invoked by the template's alarms, with cooldowns and min/max.
 */
import type { AlarmPolicy, ScalingPolicy, StepAdjustment, StepScalingPolicy, TargetTrackingPolicy } from '../types.ts';
import { AlarmModel, lastEndedPeriodStart, queryDatapoint, type MetricStore } from './cloudwatch.ts';

export type ScalingActivity = { readonly second: number; readonly policy: string; readonly from: number; readonly to: number; readonly reason: string };

const MINUTE = 60;

/**
 * The alarms Application Auto Scaling creates for a target tracking policy on one-minute metrics: a high alarm of
 * 3 datapoints in 3 periods above the target, and (unless scale-in is disabled) a low alarm of 15 in 15 below
 * 90 % of it. The user guide says scale-in waits for the metric to be "usually more than 10% lower" than the target
 * (application-auto-scaling-target-tracking.html#target-tracking-high-utilization); the 3 and 15 periods are the
 * ones the created alarms show (TargetTracking-…-AlarmHigh/-AlarmLow), not stated on a documentation page found.
 */
const HIGH_ALARM_PERIODS = 3;
const LOW_ALARM_PERIODS = 15;
const LOW_ALARM_SHARE_OF_TARGET = 0.9;

function targetTrackingAlarm(policy: TargetTrackingPolicy, side: 'High' | 'Low'): AlarmPolicy {
  const periods = side === 'High' ? HIGH_ALARM_PERIODS : LOW_ALARM_PERIODS;
  return {
    id: `TargetTracking-${policy.id}-Alarm${side}`,
    queries: policy.queries,
    periodSeconds: MINUTE,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    threshold: side === 'High' ? policy.targetValue : policy.targetValue * LOW_ALARM_SHARE_OF_TARGET,
    comparison: side === 'High' ? 'GreaterThanThreshold' : 'LessThanThreshold',
    treatMissingData: 'missing',
    scalingActions: [policy.id],
  };
}

/** The newest datapoint of an alarm's query that CloudWatch has by nowSeconds, looking back over its evaluation range. */
function latestValue(alarm: AlarmPolicy, store: MetricStore, nowSeconds: number, evaluationLagSeconds: number): number | undefined {
  // As far behind the clock as the alarm evaluates (AlarmModel): a newer period is not published yet, and an
  // expression with FILL would make up a value for it.
  const newest = lastEndedPeriodStart(nowSeconds - evaluationLagSeconds, alarm.periodSeconds);
  for (let index = 0; index < alarm.evaluationPeriods + 2; index++) {
    const start = newest - index * alarm.periodSeconds;
    if (start < 0) return undefined;
    const value = queryDatapoint(alarm.queries, store, start, alarm.periodSeconds, nowSeconds);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * Bounds are relative to the threshold; above it the lower bound is inclusive and the upper exclusive, below it
 * the reverse (application-auto-scaling-step-scaling-policies.html#as-scaling-steps). At the threshold itself both
 * are inclusive, so a step that starts or ends at 0 applies to a metric sitting on the threshold.
 */
export function stepFor(steps: readonly StepAdjustment[], breach: number): StepAdjustment | undefined {
  return steps.find(({ lower, upper }) => {
    const aboveLower = lower === undefined || breach > lower || (breach === lower && breach >= 0);
    const belowUpper = upper === undefined || breach < upper || (breach === upper && breach <= 0);
    return aboveLower && belowUpper;
  });
}

/**
 * PercentChangeInCapacity as Application Auto Scaling rounds it: above 1 down, between 0 and 1 to 1, between -1
 * and 0 to -1, below -1 up (towards zero); then at least MinAdjustmentMagnitude
 * (application-auto-scaling-step-scaling-policies.html#as-scaling-adjustment).
 */
export function percentChange(current: number, percent: number, minAdjustmentMagnitude = 0): number {
  const raw = (current * percent) / 100;
  if (raw === 0) return 0;
  let change: number;
  if (raw > 1) change = Math.floor(raw);
  else if (raw > 0) change = 1;
  else if (raw >= -1) change = -1;
  else change = Math.ceil(raw);
  return Math.abs(change) < minAdjustmentMagnitude ? Math.sign(change) * minAdjustmentMagnitude : change;
}

export function stepTarget(policy: StepScalingPolicy, current: number, adjustment: number): number {
  switch (policy.adjustmentType) {
    case 'ChangeInCapacity':
      return current + adjustment;
    case 'ExactCapacity':
      return adjustment;
    case 'PercentChangeInCapacity':
      return current + percentChange(current, adjustment, policy.minAdjustmentMagnitude);
  }
}

interface LastActivity {
  readonly second: number;
  readonly from: number;
}

interface TargetTracker {
  readonly policy: TargetTrackingPolicy;
  readonly high: AlarmModel;
  readonly low: AlarmModel | undefined;
}

export class ScalingController {
  private readonly stepAlarms: readonly AlarmModel[];
  private readonly stepPolicies: ReadonlyMap<string, StepScalingPolicy>;
  private readonly trackers: readonly TargetTracker[];
  private readonly lastScaleOut = new Map<string, LastActivity>();
  private readonly lastScaleIn = new Map<string, LastActivity>();

  private readonly policy: ScalingPolicy;

  /** evaluationLagSeconds: see AlarmModel; the simulation passes its metrics' publication delay. */
  private readonly evaluationLagSeconds: number;

  constructor(policy: ScalingPolicy, evaluationLagSeconds = 0) {
    this.evaluationLagSeconds = evaluationLagSeconds;
    this.policy = policy;
    this.stepPolicies = new Map(policy.stepPolicies.map((step) => [step.id, step]));
    this.stepAlarms = policy.alarms.filter((alarm) => alarm.scalingActions.length > 0).map((alarm) => new AlarmModel(alarm, evaluationLagSeconds));
    for (const alarm of this.stepAlarms) {
      for (const action of alarm.policy.scalingActions) {
        if (!this.stepPolicies.has(action)) throw new Error(`alarm ${alarm.policy.id} invokes unknown step scaling policy ${action}`);
      }
    }
    this.trackers = policy.targetTracking.map((tracking) => ({
      policy: tracking,
      high: new AlarmModel(targetTrackingAlarm(tracking, 'High'), evaluationLagSeconds),
      low: tracking.disableScaleIn ? undefined : new AlarmModel(targetTrackingAlarm(tracking, 'Low'), evaluationLagSeconds),
    }));
  }

  /** Every alarm the controller evaluates: the template's scaling alarms and target tracking's own. */
  get alarms(): readonly AlarmModel[] {
    return [...this.stepAlarms, ...this.trackers.flatMap(({ high, low }) => (low ? [high, low] : [high]))];
  }

  /** Evaluates the alarms at nowSeconds (once a minute) and applies the policies they invoke to the desired count. */
  tick(nowSeconds: number, store: MetricStore, desired: number): { desired: number; activities: readonly ScalingActivity[] } {
    const activities: ScalingActivity[] = [];
    let current = desired;
    const apply = (policy: string, to: number, reason: string): void => {
      const clamped = this.clamp(to);
      if (clamped === current) return;
      activities.push({ second: nowSeconds, policy, from: current, to: clamped, reason });
      (clamped > current ? this.lastScaleOut : this.lastScaleIn).set(policy, { second: nowSeconds, from: current });
      current = clamped;
    };

    const tracking = this.targetTracking(nowSeconds, store, current);
    if (tracking) apply(tracking.policy, tracking.to, tracking.reason);

    for (const alarm of this.stepAlarms) {
      if (alarm.evaluate(store, nowSeconds) !== 'ALARM') continue;
      // Alarms invoke Auto Scaling actions at every evaluation while they stay in ALARM (AlarmThatSendsEmail.html).
      const value = latestValue(alarm.policy, store, nowSeconds, this.evaluationLagSeconds);
      // An alarm in ALARM on filled-in missing data has no value to place in a step: take the threshold's own.
      const breach = value === undefined ? 0 : value - alarm.policy.threshold;
      for (const action of alarm.policy.scalingActions) {
        const step = this.stepPolicies.get(action)!;
        const adjustment = stepFor(step.steps, breach);
        if (adjustment === undefined) continue;
        const to = this.target(action, step.cooldownSeconds, step.cooldownSeconds, current, nowSeconds, (capacity) =>
          stepTarget(step, capacity, adjustment.adjustment),
        );
        if (to !== undefined) apply(action, to, `${alarm.policy.id} in ALARM (${value ?? 'no datapoint'} against threshold ${alarm.policy.threshold})`);
      }
    }
    return { desired: current, activities };
  }

  /**
   * Target tracking: scale out to ceil(capacity × metric ÷ target) when a high alarm is in ALARM; with several
   * policies the largest capacity wins, and scale-in happens only when every policy with scale-in enabled
   * is ready to scale in (application-auto-scaling-target-tracking.html#target-tracking-considerations).
   */
  private targetTracking(nowSeconds: number, store: MetricStore, current: number): { policy: string; to: number; reason: string } | undefined {
    let scaleOut: { policy: string; to: number; reason: string } | undefined;
    const scaleIns: { policy: string; to: number; reason: string }[] = [];
    let scaleInEnabled = 0;
    for (const { policy, high, low } of this.trackers) {
      const highState = high.evaluate(store, nowSeconds);
      const lowState = low?.evaluate(store, nowSeconds);
      if (low) scaleInEnabled++;
      const triggered = highState === 'ALARM' ? high : lowState === 'ALARM' ? low : undefined;
      if (!triggered) continue;
      const metric = latestValue(triggered.policy, store, nowSeconds, this.evaluationLagSeconds);
      if (metric === undefined) continue;
      const to = this.target(policy.id, policy.scaleOutCooldownSeconds, policy.scaleInCooldownSeconds, current, nowSeconds, (capacity) =>
        Math.ceil((capacity * metric) / policy.targetValue),
      );
      if (to === undefined) continue;
      const reason = `${triggered.policy.id} in ALARM: metric ${round(metric)} against target ${policy.targetValue}`;
      if (to > current && triggered === high) {
        if (!scaleOut || to > scaleOut.to) scaleOut = { policy: policy.id, to, reason };
      } else if (to < current && triggered === low) {
        scaleIns.push({ policy: policy.id, to, reason });
      }
    }
    if (scaleOut) return scaleOut;
    if (scaleInEnabled > 0 && scaleIns.length === scaleInEnabled) return scaleIns.reduce((a, b) => (b.to > a.to ? b : a));
    return undefined;
  }

  /**
   * The capacity a policy asks for from `current`, or undefined while a cooldown holds it back
   * (application-auto-scaling-step-scaling-policies.html#step-scaling-cooldown and
   * application-auto-scaling-target-tracking.html#target-tracking-cooldown). During a scale-out cooldown the
   * capacity the initiating scale-out added counts as part of the capacity: the policy computes from the
   * capacity before it, and scales out only if that asks for more than there is now ("a larger scale out").
   * A scale-in waits for its cooldown to end.
   */
  private target(
    policy: string,
    scaleOutCooldown: number,
    scaleInCooldown: number,
    current: number,
    nowSeconds: number,
    capacityFrom: (capacity: number) => number,
  ): number | undefined {
    const lastOut = this.lastScaleOut.get(policy);
    if (lastOut && nowSeconds - lastOut.second < scaleOutCooldown) {
      const to = this.clamp(capacityFrom(lastOut.from));
      if (to > current) return to;
    }
    const to = this.clamp(capacityFrom(current));
    if (to > current) return lastOut && nowSeconds - lastOut.second < scaleOutCooldown ? undefined : to;
    const lastIn = this.lastScaleIn.get(policy);
    if (to < current && lastIn && nowSeconds - lastIn.second < scaleInCooldown) return undefined;
    return to;
  }

  private clamp(capacity: number): number {
    return Math.min(this.policy.maxTasks, Math.max(this.policy.minTasks, capacity));
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
