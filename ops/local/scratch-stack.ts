/**
 * Throwaway buckets, queue and DLQ on the emulator child for one run of an ops script, and the
 * settings that point a worker child at them.
 */
import type { AwsClients } from '../../worker/common/aws-clients.ts';
import { withTimeout } from './child-processes.ts';
import type { EmulatorProcess } from './emulator-process.ts';
import { createLocalResources, type LocalResources } from './resources.ts';

/** Buckets, queue and DLQ named `${prefix}-raw-${suffix}`, `-out-`, `-q-` and `-dlq-`; bounded by timeoutMs. */
export function createScratchStack(clients: AwsClients, prefix: string, suffix: string, timeoutMs: number): Promise<LocalResources> {
  return withTimeout(
    createLocalResources(
      clients,
      { rawBucket: `${prefix}-raw-${suffix}`, processedBucket: `${prefix}-out-${suffix}`, queueName: `${prefix}-q-${suffix}`, dlqName: `${prefix}-dlq-${suffix}` },
      { maxReceiveCount: 3 },
    ),
    timeoutMs,
    'creating the pipeline resources',
  );
}

/** The worker's settings for the emulator and those resources: its HTTP server on loopback, on a free port. */
export function scratchWorkerSettings(emulator: EmulatorProcess, resources: LocalResources): Record<string, string> {
  return {
    AWS_REGION: emulator.region,
    AWS_ENDPOINT_URL: emulator.endpoint,
    QUEUE_URL: resources.queueUrl,
    PROCESSED_BUCKET: resources.processedBucket,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
  };
}
