/**
 * Samples the depth of the ingest queue and its DLQ into gauges, so that Prometheus alone (without a
 * CloudWatch exporter) can alert on a non-empty DLQ or a growing backlog. Every worker reports the same
 * values: aggregate with max() across instances.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '../common/error-message.ts';

export const QUEUE_ROLES = ['ingest', 'dead_letter'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

const ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

export function queueDepthOf(attributes: Partial<Record<string, string>> | undefined): QueueDepth {
  const count = (name: (typeof ATTRIBUTES)[number]) => Number(attributes?.[name] ?? 0) || 0;
  return {
    visible: count('ApproximateNumberOfMessages'),
    inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    delayed: count('ApproximateNumberOfMessagesDelayed'),
  };
}

export interface QueueDepthSamplerOptions {
  readonly sqs: SQSClient;
  readonly queues: Readonly<Record<QueueRole, string>>;
  readonly intervalSeconds: number;
  readonly report: (role: QueueRole, depth: QueueDepth) => void;
  readonly failed: (role: QueueRole, error: string) => void;
}

/** Samples at once, then every `intervalSeconds`; returns a function that stops it. */
export function startQueueDepthSampler(options: QueueDepthSamplerOptions): () => void {
  const sample = async (role: QueueRole, queueUrl: string): Promise<void> => {
    try {
      const { Attributes } = await options.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...ATTRIBUTES] }),
        { abortSignal: AbortSignal.timeout(5_000) },
      );
      options.report(role, queueDepthOf(Attributes));
    } catch (error) {
      options.failed(role, errorMessage(error));
    }
  };
  const sampleAll = () => {
    for (const role of QUEUE_ROLES) void sample(role, options.queues[role]);
  };
  sampleAll();
  const timer = setInterval(sampleAll, options.intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
