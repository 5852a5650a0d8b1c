/**
 * Runs the real worker in the test process against the emulator, with settings sized for tests
 * (short polls, no backoff), its log lines captured, and every file outcome recorded.
 */
import { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../worker/common/aws-clients.ts';
import { parseConfig, type Environment, type WorkerConfig } from '../../worker/config.ts';
import type { FileReport } from '../../worker/telemetry.ts';
import { startWorker, type RunningWorker } from '../../worker/worker.ts';
import type { LocalResources } from '../../ops/local/resources.ts';
import { createTestStack, testClients, waitFor } from './emulator.ts';

function testEndpoint(): string {
  const endpoint = process.env.IOT_TEST_ENDPOINT;
  if (endpoint === undefined) throw new Error('IOT_TEST_ENDPOINT is not set: jest globalSetup starts the emulator');
  return endpoint;
}

function testRegion(): string {
  return process.env.IOT_TEST_REGION ?? 'us-east-1';
}

export interface TestWorker {
  readonly worker: RunningWorker;
  readonly config: WorkerConfig;
  readonly clients: AwsClients;
  readonly reports: FileReport[];
  readonly logLines: () => Array<Record<string, unknown>>;
  waitForReport(predicate: (report: FileReport) => boolean, what: string, timeoutMs?: number): Promise<FileReport>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export function testEnvironment(resources: LocalResources, overrides: Environment = {}): Environment {
  return {
    AWS_REGION: testRegion(),
    AWS_ENDPOINT_URL: testEndpoint(),
    QUEUE_URL: resources.queueUrl,
    PROCESSED_BUCKET: resources.processedBucket,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    WAIT_TIME_SECONDS: '1',
    VISIBILITY_TIMEOUT_SECONDS: '10',
    RETRY_BACKOFF_BASE_SECONDS: '0',
    SHUTDOWN_GRACE_SECONDS: '5',
    LOG_LEVEL: 'debug',
    ...overrides,
  };
}

/**
 * Starts a worker on `resources`. `prepareS3` may add middleware (fault injection) to the worker's own
 * S3 client; the test's clients stay untouched.
 */
export async function startTestWorker(
  resources: LocalResources,
  overrides: Environment = {},
  prepareS3?: (s3: S3Client) => void,
): Promise<TestWorker> {
  const config = parseConfig(testEnvironment(resources, overrides));
  const clients = createAwsClients(config.aws);
  prepareS3?.(clients.s3);
  const captured: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      captured.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: config.logLevel }, sink);
  const worker = await startWorker({ config, logger, ...clients });
  const reports: FileReport[] = [];
  worker.telemetry.onFile((report) => reports.push(report));

  return {
    worker,
    config,
    clients,
    reports,
    logLines: () =>
      captured
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    waitForReport: (predicate, what, timeoutMs = 15_000) =>
      waitFor(() => Promise.resolve(reports.find(predicate)), { what, timeoutMs, intervalMs: 20 }),
    async metric(name, labels = {}) {
      const metric = worker.telemetry.registry.getSingleMetric(name);
      if (metric === undefined) throw new Error(`no metric ${name}`);
      const { values } = await metric.get();
      const match = values.find((value) => Object.entries(labels).every(([label, wanted]) => String(value.labels[label]) === wanted));
      return match?.value ?? 0;
    },
    async stop() {
      await worker.stop();
      destroyAwsClients(clients);
    },
  };
}

export interface StackWithWorker {
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  readonly harness: TestWorker;
  /** Stops the worker, then closes the test's own clients. */
  stop(): Promise<void>;
}

/** A fresh pipeline (unique buckets and queues) with a worker on it. */
export async function startStackWithWorker(
  options: { maxReceiveCount?: number; env?: Environment; prepareS3?: (s3: S3Client) => void } = {},
): Promise<StackWithWorker> {
  const clients = testClients();
  try {
    const resources = await createTestStack(clients, { maxReceiveCount: options.maxReceiveCount ?? 3 });
    const harness = await startTestWorker(resources, options.env, options.prepareS3);
    return {
      clients,
      resources,
      harness,
      async stop() {
        await harness.stop();
        destroyAwsClients(clients);
      },
    };
  } catch (error) {
    destroyAwsClients(clients);
    throw error;
  }
}
