import { describe, expect, it } from '@jest/globals';
import { fargateCost } from '../../../../ops/simulate/cost.ts';
import { ageSummary, alarmName, formatReport, percentile, profileReport, REPORT_COLUMNS } from '../../../../ops/simulate/report.ts';
import type { MinuteSample, SimulationResult } from '../../../../ops/simulate/types.ts';
import { testPolicy } from '../../../support/scaling-policy.ts';

const POLICY = testPolicy({ oldestMessageAlarm: { id: 'MonitoringOldestMessageTooOld16170C83', thresholdSeconds: 900 } });

function sample(minute: number, fields: Partial<MinuteSample>): MinuteSample {
  return { minute, arrivals: 0, visible: 0, inFlight: 0, oldestAgeSeconds: 0, runningTasks: 1, desiredTasks: 1, deleted: 0, deadLettered: 0, ...fields };
}

function result(ages: readonly number[]): SimulationResult {
  return {
    profile: { name: 'burst', description: 'a burst', arrivalsPerMinute: [5, 1000, 5], fileBytes: 300_000, poisonShare: 0, drainMinutes: ages.length - 3 },
    minutes: ages.map((age, minute) => sample(minute, { oldestAgeSeconds: age, visible: minute === 1 ? 900 : 0, inFlight: minute === 1 ? 64 : 0, runningTasks: minute === 2 ? 4 : 1, deadLettered: minute === 3 ? 2 : 0 })),
    alarmsFired: { MonitoringOldestMessageTooOld16170C83: [2, 9], ScalingLowLoad3CDE760E: [5], MonitoringDeadLetterQueueNotEmptyBC52F70B: [] },
    taskHours: 2,
    sqsRequests: 10_000,
  };
}

describe('percentile', () => {
  it('is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index); // 100 … 1, unsorted
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([], 99)).toBe(0);
  });

  it('refuses a percentile outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('summarizes the oldest age over the run’s minutes', () => {
    expect(ageSummary(result([0, 10, 20, 30, 1000]))).toEqual({ p50: 20, p99: 1000, max: 1000 });
  });
});

describe('profileReport', () => {
  it('gathers the peaks, the cost, the alarms that fired and the oracle’s ratio', () => {
    const report = profileReport(result([0, 60, 120, 30, 0]), POLICY, { taskHours: 0.5 });
    expect(report).toMatchObject({
      profile: 'burst',
      files: 1010,
      minutes: 5,
      alarmThresholdSeconds: 900,
      peakBacklog: 964,
      peakTasks: 4,
      deadLettered: 2,
      alarmsFired: { MonitoringOldestMessageTooOld: 2, ScalingLowLoad: 1 },
      oracle: { taskHours: 0.5 },
    });
    expect(report.cost.taskHours).toBe(2);
    expect(report.oracle.fargateUsd).toBeCloseTo(fargateCost(0.5, POLICY.task).fargateUsd, 12);
    expect(report.costRatio).toBeCloseTo(4, 12);
  });

  it('strips the hash CDK appends to a logical id', () => {
    expect(alarmName('ScalingQueueIdleA3465EF5')).toBe('ScalingQueueIdle');
    expect(alarmName('Plain')).toBe('Plain');
  });
});

describe('formatReport', () => {
  it('prints a header, a row per profile, and the alarms that fired', () => {
    const text = formatReport([profileReport(result([0, 60, 1200, 30, 0]), POLICY, { taskHours: 0.5 })]);
    const [header, row] = text.split('\n');
    for (const column of REPORT_COLUMNS) expect(header).toContain(column.title);
    expect(row).toMatch(/^burst\s+1,010\s/);
    expect(row).toContain('1,200 !');
    expect(row).toContain('4.00×');
    expect(text).toContain('burst: MonitoringOldestMessageTooOld ×2, ScalingLowLoad');
  });
});
