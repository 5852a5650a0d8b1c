/** A queue's counts and redrive policy, read with one GetQueueAttributes. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queueNameOf } from './queue-targets.ts';

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export interface QueueSnapshot {
  readonly url: string;
  readonly name: string;
  readonly arn: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly redrivePolicy: RedrivePolicy | undefined;
}

/**
 * A queue's messages as the DLQ alarm and alert count them: visible + in flight + delayed. A peek, a
 * redrive or a worker holds messages in flight for a moment, and a delayed one is not deliverable yet;
 * all are still in the queue.
 */
export interface MessageCounts {
  readonly messages: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export function messageCountsOf(snapshot: Pick<QueueSnapshot, 'visible' | 'inFlight' | 'delayed'>): MessageCounts {
  const { visible, inFlight, delayed } = snapshot;
  return { messages: visible + inFlight + delayed, visible, inFlight, delayed };
}

/** The policy as SQS stores it (JSON text); undefined when absent or unreadable. */
export function parseRedrivePolicy(text: string | undefined): RedrivePolicy | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const policy = JSON.parse(text) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    const maxReceiveCount = Number(policy.maxReceiveCount);
    if (typeof policy.deadLetterTargetArn !== 'string' || !Number.isFinite(maxReceiveCount)) return undefined;
    return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount };
  } catch {
    return undefined;
  }
}

function count(value: string | undefined): number {
  const parsed = Number(value ?? '0');
  return Number.isFinite(parsed) ? parsed : 0;
}

export async function readQueueSnapshot(sqs: SQSClient, url: string): Promise<QueueSnapshot> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'QueueArn',
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
        'RedrivePolicy',
      ],
    }),
  );
  return {
    url,
    name: queueNameOf(url),
    arn: attributes.QueueArn ?? '',
    visible: count(attributes.ApproximateNumberOfMessages),
    inFlight: count(attributes.ApproximateNumberOfMessagesNotVisible),
    delayed: count(attributes.ApproximateNumberOfMessagesDelayed),
    redrivePolicy: parseRedrivePolicy(attributes.RedrivePolicy),
  };
}
