import { describe, expect, it } from '@jest/globals';
import { simulate } from '../../../../ops/simulate/engine.ts';
import { BENCH_WORKER_MODEL, secondsPerFile } from '../../../../ops/simulate/models/worker.ts';
import type { AlarmPolicy, ScalingPolicy, TrafficProfile, WorkerModel } from '../../../../ops/simulate/types.ts';
import { fixedTaskPolicy } from '../../../support/scaling-policy.ts';

const OLDEST_ALARM: AlarmPolicy = {
  id: 'OldestMessageTooOld',
  queries: [{ id: 'm', metric: { series: 'oldestAgeSeconds', statistic: 'Maximum' }, returnData: true }],
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  threshold: 300,
  comparison: 'GreaterThanThreshold',
  treatMissingData: 'notBreaching',
  scalingActions: [],
};

/** A service fixed at `tasks` tasks: no scaling policy can move it. */
function fixedPolicy(tasks: number, filesInFlight: number): ScalingPolicy {
  return fixedTaskPolicy(tasks, filesInFlight, {
    alarms: [OLDEST_ALARM],
    oldestMessageAlarm: { id: OLDEST_ALARM.id, thresholdSeconds: 300 },
    queue: { visibilityTimeoutSeconds: 300 },
  });
}

function steady(perMinute: number, minutes: number, overrides: Partial<TrafficProfile> = {}): TrafficProfile {
  return {
    name: 'steady',
    description: 'the same every minute',
    arrivalsPerMinute: Array.from({ length: minutes }, () => perMinute),
    fileBytes: 100_000,
    poisonShare: 0,
    drainMinutes: 5,
    ...overrides,
  };
}

/** 0.6 s fixed + 0.1 CPU s a file; four at a time on one vCPU take 1 s each: 4 files/s a task. */
const WORKER: WorkerModel = { secondsPerFileFixed: 0.6, cpuSecondsPerFile: 0, bytesPerCpuSecond: 1_000_000, taskStartSeconds: 60 };
const CAPACITY_PER_MINUTE = 2 * 4 * 60;

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

describe('simulate', () => {
  it('keeps the backlog near zero under a steady load below capacity', () => {
    const result = simulate(fixedPolicy(2, 4), steady(240, 30), WORKER);
    expect(result.minutes).toHaveLength(35);
    const settled = result.minutes.slice(5, 30);
    for (const sample of settled) {
      expect(sample.visible).toBeLessThanOrEqual(8);
      expect(sample.oldestAgeSeconds).toBeLessThan(5);
      expect(sample.runningTasks).toBe(2);
      expect(sample.desiredTasks).toBe(2);
    }
    expect(sum(result.minutes.map((sample) => sample.arrivals))).toBe(7200);
    expect(sum(result.minutes.map((sample) => sample.deleted))).toBe(7200);
    expect(result.alarmsFired).toEqual({ OldestMessageTooOld: [] });
    // Two tasks billed for the whole 35 minutes.
    expect(result.taskHours).toBeCloseTo((2 * 35) / 60, 9);
    expect(result.minutes[0]?.oldestAgeSeconds).toBeLessThan(5);
  });

  it('grows the backlog at arrivals minus capacity under a load above it, and the oldest-message alarm fires', () => {
    const result = simulate(fixedPolicy(2, 4), steady(720, 30), WORKER);
    for (const sample of result.minutes.slice(2, 30)) expect(sample.deleted).toBe(CAPACITY_PER_MINUTE);
    for (let minute = 3; minute < 30; minute += 1) {
      const growth = (result.minutes[minute]?.visible ?? 0) - (result.minutes[minute - 1]?.visible ?? 0);
      expect(growth).toBe(720 - CAPACITY_PER_MINUTE);
    }
    // First in, first out at 8 files/s against 12 arriving: at minute 10 the oldest waiting arrived at about 2/3 of the time served.
    const atTen = result.minutes[9]?.oldestAgeSeconds ?? 0;
    expect(atTen).toBeGreaterThan(180);
    expect(result.alarmsFired.OldestMessageTooOld?.length).toBe(1);
  });

  it('dead-letters poison files at once by default, as the worker does, and the rest are processed', () => {
    const result = simulate(fixedPolicy(2, 4), steady(100, 10, { poisonShare: 0.01 }), WORKER);
    expect(sum(result.minutes.map((sample) => sample.deadLettered))).toBe(10);
    // NumberOfMessagesDeleted counts the originals the worker deletes after copying them to the DLQ.
    expect(sum(result.minutes.map((sample) => sample.deleted))).toBe(1000);
    expect(result.minutes.slice(2).every((sample) => sample.oldestAgeSeconds < 5)).toBe(true);
  });

  it('with retries until the redrive policy, moves poison files to the DLQ after maxReceiveCount receives', () => {
    const result = simulate(fixedPolicy(2, 4), steady(100, 10, { poisonShare: 0.01, drainMinutes: 40 }), WORKER, { poisonFate: 'retryUntilRedrive' });
    const dlqMinutes = result.minutes.filter((sample) => sample.deadLettered > 0).map((sample) => sample.minute);
    expect(sum(result.minutes.map((sample) => sample.deadLettered))).toBe(10);
    // Five receives 300 s apart: the sixth receive, 25 minutes after the first, moves them.
    expect(Math.min(...dlqMinutes)).toBeGreaterThanOrEqual(25);
    expect(sum(result.minutes.map((sample) => sample.deleted))).toBe(990);
    const last = result.minutes.at(-1);
    expect({ visible: last?.visible, inFlight: last?.inFlight }).toEqual({ visible: 0, inFlight: 0 });
  });

  it('works through a backfill of 1,000,000 objects at the tasks’ capacity', () => {
    const tasks = 10;
    const policy = fixedPolicy(tasks, 128);
    const fileBytes = 10_000;
    const profile: TrafficProfile = { name: 'backfill', description: 'a million at once', arrivalsPerMinute: [1_000_000], fileBytes, poisonShare: 0, drainMinutes: 30 };
    const result = simulate(policy, profile, BENCH_WORKER_MODEL);
    expect(sum(result.minutes.map((sample) => sample.deleted))).toBe(1_000_000);
    const doneMinute = result.minutes.findIndex((sample) => sample.visible === 0 && sample.inFlight === 0);
    const perSecond = tasks * (128 / secondsPerFile(BENCH_WORKER_MODEL, fileBytes, 1, 128));
    // The minimum runs from the start (a deployed service): no task start time to wait for.
    const expectedMinutes = 1_000_000 / perSecond / 60;
    expect(doneMinute + 1).toBeGreaterThanOrEqual(Math.floor(expectedMinutes));
    expect(doneMinute + 1).toBeLessThanOrEqual(Math.ceil(expectedMinutes) + 1);
    // Ten messages a receive and a delete: about 0.2 requests a file.
    expect(result.sqsRequests).toBeGreaterThan(200_000);
    expect(result.sqsRequests).toBeLessThan(260_000);
  });
});
