/**
 * A scaling policy for the simulator's tests, built by hand: no scaling policies or alarms unless given, a service
 * of one to ten tasks of 1 vCPU and 2 GiB with 8 to 128 files in flight. Each test states what it depends on.
 */
import type { ScalingPolicy } from '../../ops/simulate/types.ts';

export interface PolicyOverrides extends Partial<Omit<ScalingPolicy, 'queue' | 'task'>> {
  readonly queue?: Partial<ScalingPolicy['queue']>;
  readonly task?: Partial<ScalingPolicy['task']>;
}

export function testPolicy(overrides: PolicyOverrides = {}): ScalingPolicy {
  const { queue, task, ...rest } = overrides;
  return {
    minTasks: 1,
    maxTasks: 10,
    targetTracking: [],
    stepPolicies: [],
    alarms: [],
    oldestMessageAlarm: { id: 'OldestMessageTooOld', thresholdSeconds: 900 },
    ...rest,
    queue: { visibilityTimeoutSeconds: 900, maxReceiveCount: 5, receiveWaitSeconds: 20, ...queue },
    task: { cpu: 1024, memoryMiB: 2048, architecture: 'arm64', minFilesInFlight: 8, maxFilesInFlight: 128, shutdownGraceSeconds: 25, ...task },
  };
}

/** A service held at `tasks` tasks, each with exactly `filesInFlight` files at once: nothing can scale it. */
export function fixedTaskPolicy(tasks: number, filesInFlight: number, overrides: PolicyOverrides = {}): ScalingPolicy {
  return testPolicy({ minTasks: tasks, maxTasks: tasks, ...overrides, task: { minFilesInFlight: filesInFlight, maxFilesInFlight: filesInFlight, ...overrides.task } });
}
