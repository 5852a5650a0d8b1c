import { describe, expect, it } from '@jest/globals';
import { filesPerTaskMinute, oracleTasks, slackMinutes } from '../../../../ops/simulate/oracle.ts';
import type { ScalingPolicy, TrafficProfile, WorkerModel } from '../../../../ops/simulate/types.ts';
import { testPolicy } from '../../../support/scaling-policy.ts';

/** 2 files in flight on one vCPU: half a vCPU each, 0.5 s + 500 B ÷ (1000 B/s × 0.5) = 1.5 s a file, 80 files a minute. */
const WORKER: WorkerModel = { secondsPerFileFixed: 0.5, cpuSecondsPerFile: 0, bytesPerCpuSecond: 1000, taskStartSeconds: 90 };
const FILE_BYTES = 500;

function policy(minTasks: number): ScalingPolicy {
  return testPolicy({ minTasks, maxTasks: 2, task: { minFilesInFlight: 2, maxFilesInFlight: 2 } });
}

function profile(arrivalsPerMinute: number[], drainMinutes: number): TrafficProfile {
  return { name: 'test', description: 'test', arrivalsPerMinute, fileBytes: FILE_BYTES, poisonShare: 0, drainMinutes };
}

describe('filesPerTaskMinute', () => {
  it('is files in flight ÷ seconds per file, with each file’s share of the vCPUs', () => {
    expect(filesPerTaskMinute(policy(0), WORKER, FILE_BYTES)).toBeCloseTo(80, 9);
  });

  it('counts on the largest bound on files in flight, where a task does the most', () => {
    const adaptive = { ...policy(0), task: { ...policy(0).task, maxFilesInFlight: 16 } };
    // 16 files on one vCPU: 0.5 s + 500 B ÷ (1000 B/s ÷ 16) = 8.5 s a file, 16 ÷ 8.5 × 60 ≈ 112.9 a minute.
    expect(filesPerTaskMinute(adaptive, WORKER, FILE_BYTES)).toBeCloseTo((16 / 8.5) * 60, 9);
  });

  it('counts the CPU a file costs whatever its size, when the worker model has it', () => {
    const withFileCpu: WorkerModel = { ...WORKER, cpuSecondsPerFile: 0.25 };
    // 0.5 s + (0.25 CPU s + 0.5 CPU s) ÷ 0.5 vCPU = 2 s a file, 2 at a time: 60 a minute.
    expect(filesPerTaskMinute(policy(0), withFileCpu, FILE_BYTES)).toBeCloseTo(60, 9);
  });

  it('gives a file at most one vCPU', () => {
    const big = { ...policy(0), task: { ...policy(0).task, cpu: 4096 } };
    // 0.5 s + 500 B ÷ 1000 B/s = 1 s a file, 2 at a time: 120 a minute, not more for the 2 idle vCPUs.
    expect(filesPerTaskMinute(big, WORKER, FILE_BYTES)).toBeCloseTo(120, 9);
  });
});

describe('slackMinutes', () => {
  it('leaves a file that arrives at a minute’s start no more than the target', () => {
    expect([30, 60, 119, 120, 180, 900].map(slackMinutes)).toEqual([0, 0, 0, 1, 2, 14]);
  });
});

describe('oracleTasks', () => {
  it('runs one task for each minute of 80 files with no slack, and none after', () => {
    expect(oracleTasks(profile([80, 80, 80], 2), policy(0), WORKER, 60)).toEqual({ taskHours: 3 / 60, tasksPerMinute: [1, 1, 1, 0, 0] });
  });

  it('keeps the minimum running', () => {
    expect(oracleTasks(profile([80, 80, 80], 2), policy(1), WORKER, 60).tasksPerMinute).toEqual([1, 1, 1, 1, 1]);
  });

  it('waits for the deadline, then takes the backlog at once', () => {
    expect(oracleTasks(profile([160, 0, 0, 0], 0), policy(0), WORKER, 180).tasksPerMinute).toEqual([0, 0, 2, 0]);
  });

  it('uses the rest of a task’s minute on files not yet due', () => {
    // 40 a minute with a minute of slack: a task at minute 1 takes minutes 0 and 1, another at minute 3 the rest.
    expect(oracleTasks(profile([40, 40, 40, 40], 0), policy(0), WORKER, 120)).toEqual({ taskHours: 2 / 60, tasksPerMinute: [0, 1, 0, 1] });
  });

  it('rounds up to whole tasks, beyond the policy’s maximum if the target needs it', () => {
    expect(oracleTasks(profile([200], 1), policy(0), WORKER, 60).tasksPerMinute).toEqual([3, 0]);
  });

  it('runs on past the drain minutes until every file is taken', () => {
    expect(oracleTasks(profile([80], 0), policy(0), WORKER, 300).tasksPerMinute).toEqual([0, 0, 0, 0, 1]);
  });

  it('never spends fewer task-minutes than the files need', () => {
    const arrivals = Array.from({ length: 120 }, (_, minute) => (minute * 37) % 250);
    const { tasksPerMinute } = oracleTasks(profile(arrivals, 30), policy(0), WORKER, 600);
    const files = arrivals.reduce((sum, count) => sum + count, 0);
    expect(tasksPerMinute.reduce((sum, tasks) => sum + tasks, 0) * 80).toBeGreaterThanOrEqual(files);
  });
});
