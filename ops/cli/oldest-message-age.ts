/**
 * The age of a queue's oldest message. On AWS it is CloudWatch's ApproximateAgeOfOldestMessage; an
 * emulator has no CloudWatch, so there it is estimated from the SentTimestamp of a sample of visible
 * messages received with VisibilityTimeout 0. Each such receive counts toward the queue's
 * maxReceiveCount, so a queue with a redrive policy is sampled only when the caller allows it.
 */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueSnapshot } from './queue-snapshot.ts';

export const AGE_SOURCES = {
  cloudWatch: 'cloudwatch',
  estimate: 'estimate',
  notMeasured: 'not-measured',
} as const;

export type OldestMessageAge =
  /** ageSeconds undefined: no data point in the window (an idle queue publishes none). */
  | {
      readonly source: typeof AGE_SOURCES.cloudWatch;
      readonly ageSeconds: number | undefined;
      readonly measuredAt?: string;
      readonly windowMinutes: number;
    }
  | { readonly source: typeof AGE_SOURCES.estimate; readonly ageSeconds: number | undefined; readonly sampledMessages: number }
  | { readonly source: typeof AGE_SOURCES.notMeasured; readonly reason: string };

/** CloudWatch's ApproximateAgeOfOldestMessage (see cloudwatch-age-metric.ts); a fake in tests. */
export interface OldestAgeMetric {
  readonly windowMinutes: number;
  /** The latest data point within the window; undefined when there is none. */
  latest(queueName: string, nowMs: number): Promise<{ readonly ageSeconds: number; readonly measuredAt: string } | undefined>;
  destroy(): void;
}

export type AgeMethod =
  | { readonly kind: 'cloudwatch'; readonly metric: OldestAgeMetric }
  | { readonly kind: 'sample'; readonly allowOnRedrivenQueue: boolean };

const SAMPLE_SIZE = 10;

async function fromCloudWatch(metric: OldestAgeMetric, queue: QueueSnapshot, nowMs: number): Promise<OldestMessageAge> {
  const latest = await metric.latest(queue.name, nowMs);
  if (latest === undefined) return { source: AGE_SOURCES.cloudWatch, ageSeconds: undefined, windowMinutes: metric.windowMinutes };
  return { source: AGE_SOURCES.cloudWatch, ageSeconds: latest.ageSeconds, measuredAt: latest.measuredAt, windowMinutes: metric.windowMinutes };
}

/** The oldest SentTimestamp among up to 10 visible messages, which stay visible (VisibilityTimeout 0). */
async function fromSample(sqs: SQSClient, queue: QueueSnapshot, nowMs: number): Promise<OldestMessageAge> {
  const { Messages: messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: SAMPLE_SIZE,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['SentTimestamp'],
    }),
  );
  const sent = messages.map((message) => Number(message.Attributes?.SentTimestamp)).filter(Number.isFinite);
  const oldest = sent.length > 0 ? Math.min(...sent) : undefined;
  return {
    source: AGE_SOURCES.estimate,
    ageSeconds: oldest === undefined ? undefined : Math.max(0, (nowMs - oldest) / 1000),
    sampledMessages: sent.length,
  };
}

export async function oldestMessageAge(sqs: SQSClient, queue: QueueSnapshot, method: AgeMethod, nowMs: number): Promise<OldestMessageAge> {
  if (method.kind === 'cloudwatch') {
    try {
      return await fromCloudWatch(method.metric, queue, nowMs);
    } catch (error) {
      return { source: AGE_SOURCES.notMeasured, reason: `CloudWatch: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  if (queue.visible === 0) return { source: AGE_SOURCES.notMeasured, reason: 'no visible message to sample' };
  if (queue.redrivePolicy !== undefined && !method.allowOnRedrivenQueue) {
    return {
      source: AGE_SOURCES.notMeasured,
      reason: `not sampled: a sample receive counts toward maxReceiveCount ${queue.redrivePolicy.maxReceiveCount} (pass --sample-age to sample anyway)`,
    };
  }
  return fromSample(sqs, queue, nowMs);
}
