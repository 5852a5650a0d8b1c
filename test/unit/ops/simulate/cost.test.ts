import { describe, expect, it } from '@jest/globals';
import { costOf, FARGATE_USD_PER_HOUR, SQS_USD_PER_MILLION_REQUESTS } from '../../../../ops/simulate/cost.ts';
import type { ScalingPolicy, SimulationResult } from '../../../../ops/simulate/types.ts';
import { testPolicy } from '../../../support/scaling-policy.ts';

function policy(architecture: 'arm64' | 'x86_64', cpu: number, memoryMiB: number): ScalingPolicy {
  return testPolicy({ task: { cpu, memoryMiB, architecture } });
}

function result(taskHours: number, sqsRequests: number): SimulationResult {
  return {
    profile: { name: 'p', description: 'p', arrivalsPerMinute: [1], fileBytes: 1, poisonShare: 0, drainMinutes: 0 },
    minutes: [],
    alarmsFired: {},
    taskHours,
    sqsRequests,
  };
}

describe('costOf', () => {
  it('prices vCPU and GB hours of the task size at its architecture’s rates', () => {
    const cost = costOf(result(10, 0), policy('arm64', 1024, 2048));
    expect(cost).toMatchObject({ taskHours: 10, vcpuHours: 10, gbHours: 20 });
    expect(cost.fargateUsd).toBeCloseTo(10 * FARGATE_USD_PER_HOUR.arm64.vcpu + 20 * FARGATE_USD_PER_HOUR.arm64.gb, 12);
    const x86 = costOf(result(4, 0), policy('x86_64', 2048, 4096));
    expect(x86).toMatchObject({ vcpuHours: 8, gbHours: 16 });
    expect(x86.fargateUsd).toBeCloseTo(8 * 0.04048 + 16 * 0.004445, 12);
  });

  it('prices SQS requests per million, a notification being one 64 KB chunk', () => {
    const cost = costOf(result(0, 2_500_000), policy('arm64', 1024, 2048));
    expect(cost.sqsRequests).toBe(2_500_000);
    expect(cost.sqsUsd).toBeCloseTo(2.5 * SQS_USD_PER_MILLION_REQUESTS, 12);
    expect(cost.fargateUsd).toBe(0);
  });

  it('makes arm64 cheaper than x86_64 for the same task', () => {
    expect(costOf(result(1, 0), policy('arm64', 1024, 2048)).fargateUsd).toBeLessThan(costOf(result(1, 0), policy('x86_64', 1024, 2048)).fargateUsd);
  });
});
