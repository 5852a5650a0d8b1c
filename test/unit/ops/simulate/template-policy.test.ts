import { beforeAll, describe, expect, it } from '@jest/globals';
import { LATE_DATA_ALLOWANCE_MINUTES } from '../../../../infra/monitoring.ts';
import {
  SCALE_IN_BELOW_SLOTS_PERCENT,
  SCALE_IN_COOLDOWN_MINUTES,
  SCALE_IN_LOW_MINUTES,
  SCALE_IN_STEP_PERCENT,
  SCALE_IN_WINDOW_MINUTES,
} from '../../../../infra/scaling.ts';
import { DEFAULT_SETTINGS } from '../../../../infra/settings.ts';
import { scalingPolicyFromTemplate, synthesizedTemplate, TemplatePolicyError } from '../../../../ops/simulate/template-policy.ts';
import type { AlarmPolicy, ScalingPolicy } from '../../../../ops/simulate/types.ts';

const SYNTH_TIMEOUT_MS = 120_000;

function alarm(policy: ScalingPolicy, name: string): AlarmPolicy {
  const found = policy.alarms.find((candidate) => candidate.id.includes(name));
  if (found === undefined) throw new Error(`no alarm ${name} in ${policy.alarms.map((candidate) => candidate.id).join(', ')}`);
  return found;
}

function stepPolicyOf(policy: ScalingPolicy, alarmName: string) {
  const [action] = alarm(policy, alarmName).scalingActions;
  return policy.stepPolicies.find((step) => step.id === action);
}

describe('the policy of the default synth', () => {
  let template: Record<string, unknown>;
  let policy: ScalingPolicy;
  beforeAll(() => {
    template = synthesizedTemplate({});
    policy = scalingPolicyFromTemplate(template);
  }, SYNTH_TIMEOUT_MS);

  it('has the settings’ bounds, queue and task', () => {
    expect(policy.minTasks).toBe(DEFAULT_SETTINGS.minTasks);
    expect(policy.maxTasks).toBe(DEFAULT_SETTINGS.maxTasks);
    expect(policy.queue).toEqual({
      visibilityTimeoutSeconds: DEFAULT_SETTINGS.longestFileSeconds,
      maxReceiveCount: DEFAULT_SETTINGS.maxReceiveCount,
      receiveWaitSeconds: 20, // infra/queues.ts: long polling at SQS's maximum
    });
    expect(policy.task).toEqual({
      cpu: DEFAULT_SETTINGS.cpu,
      memoryMiB: DEFAULT_SETTINGS.memoryMiB,
      architecture: DEFAULT_SETTINGS.architecture,
      minFilesInFlight: DEFAULT_SETTINGS.minFilesInFlight,
      maxFilesInFlight: DEFAULT_SETTINGS.maxFilesInFlight,
      shutdownGraceSeconds: DEFAULT_SETTINGS.shutdownGraceSeconds,
    });
    expect(policy.oldestMessageAlarm.thresholdSeconds).toBe(DEFAULT_SETTINGS.oldestMessageAlarmSeconds);
  });

  it('tracks visible messages per running task, never scaling in', () => {
    expect(policy.targetTracking).toHaveLength(1);
    const [tracking] = policy.targetTracking;
    expect(tracking).toMatchObject({ targetValue: DEFAULT_SETTINGS.backlogPerTaskTarget, disableScaleIn: true });
    expect(tracking!.queries.flatMap((query) => (query.metric ? [query.metric.series] : []))).toEqual(['visible', 'runningTasks']);
    expect(tracking!.queries.filter((query) => query.returnData)).toEqual([expect.objectContaining({ expression: expect.stringContaining('visible') })]);
  });

  it('halves the tasks on low load, as scaling.ts’s constants say', () => {
    expect(alarm(policy, 'LowLoad')).toMatchObject({
      threshold: SCALE_IN_BELOW_SLOTS_PERCENT,
      evaluationPeriods: SCALE_IN_WINDOW_MINUTES,
      datapointsToAlarm: SCALE_IN_LOW_MINUTES,
      comparison: 'LessThanThreshold',
      treatMissingData: 'notBreaching',
      periodSeconds: 60,
    });
    expect(stepPolicyOf(policy, 'LowLoad')).toMatchObject({
      adjustmentType: 'PercentChangeInCapacity',
      cooldownSeconds: SCALE_IN_COOLDOWN_MINUTES * 60,
      minAdjustmentMagnitude: 1,
      steps: [{ upper: 0, adjustment: -SCALE_IN_STEP_PERCENT }],
    });
  });

  it('shrinks to the minimum when idle, and has no from-zero alarm with a minimum of one', () => {
    expect(stepPolicyOf(policy, 'QueueIdle')).toMatchObject({ adjustmentType: 'ExactCapacity', steps: [{ upper: 0, adjustment: DEFAULT_SETTINGS.minTasks }] });
    expect(policy.alarms.some((candidate) => candidate.id.includes('BacklogWithNoTasks'))).toBe(false);
    expect(policy.stepPolicies).toHaveLength(2);
  });

  it('reads the operator alarms on the simulated series, and leaves the others out', () => {
    expect(alarm(policy, 'OldestMessageTooOld')).toMatchObject({
      queries: [{ id: 'm1', metric: { series: 'oldestAgeSeconds', statistic: 'Maximum' }, returnData: true }],
      scalingActions: [],
    });
    expect(alarm(policy, 'BacklogWithoutProgress')).toMatchObject({
      evaluationPeriods: DEFAULT_SETTINGS.noProgressAlarmMinutes + LATE_DATA_ALLOWANCE_MINUTES,
      datapointsToAlarm: DEFAULT_SETTINGS.noProgressAlarmMinutes,
    });
    const dlq = alarm(policy, 'DeadLetterQueueNotEmpty');
    expect(dlq.queries.flatMap((query) => (query.metric ? [query.metric.series] : []))).toEqual(['dlqVisible', 'dlqInFlight', 'dlqDelayed']);
    expect(policy.alarms.some((candidate) => candidate.id.includes('Reconcile'))).toBe(false);
  });

  it('applies CloudWatch’s defaults for an absent DatapointsToAlarm and TreatMissingData', () => {
    const edited = structuredClone(template) as { Resources: Record<string, { Properties: Record<string, unknown> }> };
    const id = Object.keys(edited.Resources).find((key) => key.includes('OldestMessageTooOld'))!;
    delete edited.Resources[id]!.Properties['DatapointsToAlarm'];
    delete edited.Resources[id]!.Properties['TreatMissingData'];
    edited.Resources[id]!.Properties['EvaluationPeriods'] = 4;
    expect(alarm(scalingPolicyFromTemplate(edited), 'OldestMessageTooOld')).toMatchObject({ evaluationPeriods: 4, datapointsToAlarm: 4, treatMissingData: 'missing' });
  });

  it('names what it cannot read', () => {
    expect(() => scalingPolicyFromTemplate({ Resources: {} })).toThrow(TemplatePolicyError);
  });
});

describe('the policy synthesized with -c minTasks=0', () => {
  let policy: ScalingPolicy;
  beforeAll(() => {
    policy = scalingPolicyFromTemplate(synthesizedTemplate({ minTasks: '0' }));
  }, SYNTH_TIMEOUT_MS);

  it('starts one task from zero on a step policy, and shrinks to zero when idle', () => {
    expect(policy.minTasks).toBe(0);
    expect(alarm(policy, 'BacklogWithNoTasks')).toMatchObject({ threshold: 1, evaluationPeriods: 1, datapointsToAlarm: 1, comparison: 'GreaterThanOrEqualToThreshold' });
    expect(stepPolicyOf(policy, 'BacklogWithNoTasks')).toMatchObject({ adjustmentType: 'ChangeInCapacity', steps: [{ lower: 0, adjustment: 1 }] });
    expect(stepPolicyOf(policy, 'QueueIdle')).toMatchObject({ steps: [{ upper: 0, adjustment: 0 }] });
    expect(policy.stepPolicies).toHaveLength(3);
  });
});
