/**
 * What a run costs at AWS list prices (us-east-1, on demand): Fargate's vCPU and memory hours, and SQS requests.
 */
import type { ScalingPolicy, SimulationResult } from './types.ts';

/**
 * Fargate, Linux, us-east-1, per hour. https://aws.amazon.com/fargate/pricing/ renders its rates in the browser
 * only, so they are checked against transcriptions of it (looked up 2026-12-03):
 * - https://www.vantage.sh/blog/fargate-pricing: Linux/x86 $0.04048 per vCPU-hour and $0.004445 per GB-hour,
 *   Linux/ARM $0.03238 and $0.00356;
 * - https://cloudburn.io/blog/aws-fargate-pricing ("US East (N. Virginia) pricing as of March 2026") and
 *   https://www.wring.co/blog/aws-fargate-pricing-guide (2026-03-10): the same x86 rates;
 * - the api-evangelist transcription of https://aws.amazon.com/ecs/pricing/ (read 2026-09-20): x86 "$0.000011244
 *   per vCPU second" (× 3600 = $0.0404784 an hour).
 * Billed per second from the image pull to the task's end, with a one-minute minimum (not modelled).
 */
export const FARGATE_USD_PER_HOUR = {
  arm64: { vcpu: 0.03238, gb: 0.00356 },
  x86_64: { vcpu: 0.04048, gb: 0.004445 },
} as const;

/**
 * SQS standard queue, us-east-1: $0.40 per million requests after the free tier (1 million requests a month per
 * account, not deducted here: it is the account's, shared by everything in it), each 64 KB chunk of a payload one
 * request. https://aws.amazon.com/sqs/pricing/, as transcribed by https://cloudburn.io/blog/amazon-sqs-pricing
 * ("US East (N. Virginia) as of March 2026") and https://www.factualminds.com/blog/amazon-sqs-pricing-64kb-rule-fifo-vs-standard/
 * (2026-06-13); looked up 2026-12-03.
 */
export const SQS_USD_PER_MILLION_REQUESTS = 0.4;
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
/** An S3 event notification (one record) is about 1.5 KB: every request on it is one chunk. */
export const QUEUE_MESSAGE_BYTES = 1_500;

export interface RunCost {
  readonly taskHours: number;
  readonly vcpuHours: number;
  readonly gbHours: number;
  readonly fargateUsd: number;
  readonly sqsRequests: number;
  readonly sqsUsd: number;
}

/** Fargate's hours and dollars for `taskHours` of the policy's task size. */
export function fargateCost(taskHours: number, task: ScalingPolicy['task']): Pick<RunCost, 'taskHours' | 'vcpuHours' | 'gbHours' | 'fargateUsd'> {
  const vcpuHours = (taskHours * task.cpu) / 1024;
  const gbHours = (taskHours * task.memoryMiB) / 1024;
  const price = FARGATE_USD_PER_HOUR[task.architecture];
  return { taskHours, vcpuHours, gbHours, fargateUsd: vcpuHours * price.vcpu + gbHours * price.gb };
}

export function costOf(result: SimulationResult, policy: ScalingPolicy): RunCost {
  const sqsRequests = result.sqsRequests * Math.ceil(QUEUE_MESSAGE_BYTES / SQS_BILLING_CHUNK_BYTES);
  return {
    ...fargateCost(result.taskHours, policy.task),
    sqsRequests,
    sqsUsd: (sqsRequests / 1e6) * SQS_USD_PER_MILLION_REQUESTS,
  };
}
