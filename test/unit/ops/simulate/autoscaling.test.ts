import { describe, expect, it } from '@jest/globals';
import { percentChange, ScalingController, stepFor, type ScalingActivity } from '../../../../ops/simulate/models/autoscaling.ts';
import { MetricStore } from '../../../../ops/simulate/models/cloudwatch.ts';
import type { AlarmPolicy, MetricQuery, ScalingPolicy, SeriesName, StepScalingPolicy, TargetTrackingPolicy } from '../../../../ops/simulate/types.ts';
import { testPolicy } from '../../../support/scaling-policy.ts';

const BACKLOG_PER_TASK: readonly MetricQuery[] = [
  { id: 'visible', metric: { series: 'visible', statistic: 'Maximum' }, returnData: false },
  { id: 'running', metric: { series: 'runningTasks', statistic: 'Average' }, returnData: false },
  { id: 'backlogPerTask', expression: 'visible / IF(FILL(running, 0) > 0, running, 1)', returnData: true },
];

function targetTracking(overrides: Partial<TargetTrackingPolicy> = {}): TargetTrackingPolicy {
  return { id: 'BacklogPerTask', targetValue: 10, queries: BACKLOG_PER_TASK, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300, disableScaleIn: true, ...overrides };
}

function policy(overrides: Partial<ScalingPolicy>): ScalingPolicy {
  return testPolicy({ minTasks: 0, maxTasks: 50, queue: { visibilityTimeoutSeconds: 300 }, task: { maxFilesInFlight: 64, shutdownGraceSeconds: 120 }, ...overrides });
}

/** A store with no publish delay, so the minutes in a test are the minutes the alarms see. */
function store(): MetricStore {
  return new MetricStore({ visible: 0, inFlight: 0, runningTasks: 0, desiredTasks: 0 });
}

/** Records a constant value of a series for every second of the given minutes. */
function record(metrics: MetricStore, series: SeriesName, fromMinute: number, toMinute: number, value: number): void {
  for (let second = fromMinute * 60; second < toMinute * 60; second++) metrics.record(series, second, value);
}

/** Ticks once a minute over the minutes given, feeding back the desired count; returns the desired count after each. */
function run(controller: ScalingController, metrics: MetricStore, desired: number, minutes: readonly number[]): { counts: number[]; activities: ScalingActivity[] } {
  const counts: number[] = [];
  const activities: ScalingActivity[] = [];
  let current = desired;
  for (const minute of minutes) {
    const result = controller.tick(minute * 60, metrics, current);
    current = result.desired;
    counts.push(current);
    activities.push(...result.activities);
  }
  return { counts, activities };
}

const minutes = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('target tracking', () => {
  it('scales out proportionally once three minutes breach, not after two', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 10, 100);
    record(metrics, 'runningTasks', 0, 10, 2);
    const controller = new ScalingController(policy({ targetTracking: [targetTracking()] }));
    const { counts, activities } = run(controller, metrics, 2, [1, 2, 3]);
    // Backlog per task 50 against a target of 10: ceil(2 × 50 ÷ 10) = 10.
    expect(counts).toEqual([2, 2, 10]);
    expect(activities).toEqual([expect.objectContaining({ second: 180, policy: 'BacklogPerTask', from: 2, to: 10 })]);
  });

  it('stays within the maximum', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 10, 10_000);
    record(metrics, 'runningTasks', 0, 10, 2);
    const controller = new ScalingController(policy({ maxTasks: 20, targetTracking: [targetTracking()] }));
    expect(run(controller, metrics, 2, [1, 2, 3, 4]).counts).toEqual([2, 2, 20, 20]);
  });

  it('within its cooldown counts the capacity the last scale-out added: only a larger scale-out goes ahead', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 4, 100);
    record(metrics, 'visible', 4, 10, 300);
    record(metrics, 'runningTasks', 0, 10, 2);
    const controller = new ScalingController(policy({ targetTracking: [targetTracking({ scaleOutCooldownSeconds: 300 })] }));
    expect(controller.tick(180, metrics, 2).desired).toBe(10);
    // The new tasks do not run yet and backlog per task still reads 50: from the 2 before the scale-out that asks for
    // 10 again, which the scale-out already set.
    expect(controller.tick(240, metrics, 10).desired).toBe(10);
    // Backlog per task 150: from 2 that asks for 30, a larger scale-out.
    expect(controller.tick(300, metrics, 10).desired).toBe(30);
  });

  it('scales out from the current capacity again once the cooldown is over', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 10, 100);
    record(metrics, 'runningTasks', 0, 10, 2);
    const controller = new ScalingController(policy({ targetTracking: [targetTracking({ scaleOutCooldownSeconds: 300 })] }));
    expect(controller.tick(180, metrics, 2).desired).toBe(10);
    expect(controller.tick(420, metrics, 10).desired).toBe(10);
    // 300 s after the scale-out: ceil(10 × 50 ÷ 10), up to the maximum of 50.
    expect(controller.tick(480, metrics, 10).desired).toBe(50);
  });

  it('never scales in with scale-in disabled', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 40, 1);
    record(metrics, 'runningTasks', 0, 40, 10);
    const controller = new ScalingController(policy({ targetTracking: [targetTracking({ disableScaleIn: true })] }));
    const { counts, activities } = run(controller, metrics, 10, minutes(1, 40));
    expect(new Set(counts)).toEqual(new Set([10]));
    expect(activities).toEqual([]);
    expect(controller.alarms.map((alarm) => alarm.policy.id)).toEqual(['TargetTracking-BacklogPerTask-AlarmHigh']);
  });

  it('with scale-in enabled, scales in after 15 minutes below 90 % of the target', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 40, 10);
    record(metrics, 'runningTasks', 0, 40, 10);
    const controller = new ScalingController(policy({ targetTracking: [targetTracking({ disableScaleIn: false })] }));
    const { counts } = run(controller, metrics, 10, minutes(1, 15));
    // Backlog per task 1 against 10: ceil(10 × 1 ÷ 10) = 1, on the 15th minute and not before.
    expect(counts.slice(0, 14)).toEqual(Array(14).fill(10));
    expect(counts[14]).toBe(1);
  });
});

function stepAlarm(overrides: Partial<AlarmPolicy>): AlarmPolicy {
  return {
    id: 'Alarm',
    queries: [{ id: 'm', metric: { series: 'visible', statistic: 'Maximum' }, returnData: true }],
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 0,
    comparison: 'LessThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    scalingActions: ['Step'],
    ...overrides,
  };
}

function stepPolicy(overrides: Partial<StepScalingPolicy>): StepScalingPolicy {
  return { id: 'Step', adjustmentType: 'ChangeInCapacity', cooldownSeconds: 300, steps: [{ upper: 0, adjustment: -1 }], ...overrides };
}

describe('step scaling', () => {
  it('rounds PercentChangeInCapacity as the user guide states', () => {
    // application-auto-scaling-step-scaling-policies.html: 12.7 → 12, .67 → 1, -.58 → -1, -6.67 → -6.
    expect(percentChange(127, 10)).toBe(12);
    expect(percentChange(67, 1)).toBe(1);
    expect(percentChange(58, -1)).toBe(-1);
    expect(percentChange(667, -1)).toBe(-6);
    // And its MinAdjustmentMagnitude example: 25 % of 4 with a minimum of 2 adds 2.
    expect(percentChange(4, 25, 2)).toBe(2);
  });

  it('halves 10 → 5 → 3 → 2 → 1 with -50 % and a minimum adjustment of 1, once per cooldown', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 40, 0);
    const controller = new ScalingController(
      policy({
        minTasks: 1,
        alarms: [stepAlarm({})],
        stepPolicies: [stepPolicy({ adjustmentType: 'PercentChangeInCapacity', minAdjustmentMagnitude: 1, steps: [{ upper: 0, adjustment: -50 }] })],
      }),
    );
    const { activities } = run(controller, metrics, 10, minutes(1, 30));
    expect(activities.map(({ second, from, to }) => ({ minute: second / 60, from, to }))).toEqual([
      { minute: 1, from: 10, to: 5 },
      { minute: 6, from: 5, to: 3 },
      { minute: 11, from: 3, to: 2 },
      { minute: 16, from: 2, to: 1 },
    ]);
  });

  it('sets an exact capacity: the minimum', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 10, 0);
    const idle = stepAlarm({ evaluationPeriods: 3, datapointsToAlarm: 3 });
    const controller = new ScalingController(
      policy({ minTasks: 0, alarms: [idle], stepPolicies: [stepPolicy({ adjustmentType: 'ExactCapacity', steps: [{ upper: 0, adjustment: 0 }] })] }),
    );
    expect(run(controller, metrics, 7, [1, 2, 3, 4]).counts).toEqual([7, 7, 0, 0]);
  });

  it('starts one task from zero on a metric sitting on the threshold', () => {
    const metrics = store();
    record(metrics, 'visible', 0, 10, 1);
    const fromZero = stepAlarm({ threshold: 1, comparison: 'GreaterThanOrEqualToThreshold', scalingActions: ['StartOne'] });
    const controller = new ScalingController(
      policy({ alarms: [fromZero], stepPolicies: [stepPolicy({ id: 'StartOne', cooldownSeconds: 120, steps: [{ lower: 0, adjustment: 1 }] })] }),
    );
    // The alarm stays in ALARM; the policy adds one at its first evaluation and again once its cooldown is over.
    expect(run(controller, metrics, 0, [1, 2, 3]).counts).toEqual([1, 1, 2]);
  });

  it('leaves alone the alarms without scaling actions', () => {
    const controller = new ScalingController(policy({ alarms: [stepAlarm({ id: 'Operator', scalingActions: [] })] }));
    expect(controller.alarms).toEqual([]);
  });

  it('refuses an alarm that invokes a policy the template does not have', () => {
    expect(() => new ScalingController(policy({ alarms: [stepAlarm({ scalingActions: ['Nowhere'] })] }))).toThrow('Nowhere');
  });

  it('picks the step whose bounds hold the breach, inclusive of the bound nearer the threshold', () => {
    const steps = [
      { upper: -10, adjustment: -3 },
      { lower: -10, upper: 0, adjustment: -1 },
      { lower: 0, upper: 10, adjustment: 1 },
      { lower: 10, adjustment: 3 },
    ];
    expect(stepFor(steps, -10)?.adjustment).toBe(-3);
    expect(stepFor(steps, -5)?.adjustment).toBe(-1);
    expect(stepFor(steps, 5)?.adjustment).toBe(1);
    expect(stepFor(steps, 10)?.adjustment).toBe(3);
  });
});
