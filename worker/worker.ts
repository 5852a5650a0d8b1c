/**
 * Puts the worker together from its settings and the clients it is given, and runs it: the receive
 * loops, the adaptive bound on files in flight, the object processor, the device registry and the HTTP
 * server. The same code runs on AWS (main.ts), on the local stack (npm start) and in the tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from 'pino';
import { outputPrefixes, type WorkerConfig } from './config.ts';
import { ConsumerPool } from './queue/consumer-pool.ts';
import { receiveLoopCount } from './queue/receive-loop.ts';
import { resolveDeadLetterRouting } from './queue/dead-letter.ts';
import { loadDeviceRegistry } from './records/device-registry.ts';
import { createMessageHandler } from './queue/message-handler.ts';
import { createFilesInFlightBound } from './queue/adaptive-concurrency.ts';
import { ByteBudget } from './queue/byte-budget.ts';
import { FileLoad } from './queue/file-load.ts';
import { fileReservationBytes } from './queue/file-reservation.ts';
import { createObjectProcessor } from './process-object.ts';
import { redactForLog } from './common/redact.ts';
import { buildServer, type Readiness } from './server.ts';
import { startQueueDepthSampler } from './queue/queue-depth.ts';
import { createProtectionYield } from './task-protection/yield-rule.ts';
import { createTaskProtection } from './task-protection/driver.ts';
import { createTelemetry, taskProtectionEvents, type Telemetry } from './telemetry.ts';
import { createAfterSuccess, type AfterSuccess } from './after-success/after-success.ts';
import { createFileEventPublisher } from './after-success/file-event-publisher.ts';
import { isArchiveCopy } from './after-success/source-action.ts';
import { workerVersion } from './common/worker-version.ts';
import { sourceOf } from './sources.ts';

export interface WorkerDeps {
  readonly config: WorkerConfig;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** Needed when FILE_EVENTS_TOPIC_ARN is set. */
  readonly sns?: SNSClient;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

export interface RunningWorker {
  readonly telemetry: Telemetry;
  /** Where the HTTP server listens, e.g. http://127.0.0.1:8080. */
  readonly httpAddress: string;
  /** Stops receiving, lets files in flight finish within the grace period, releases the rest. */
  stop(): Promise<void>;
}

/** The raw object's action and the completion event, when the settings ask for either. */
function afterSuccessOf(deps: WorkerDeps, telemetry: Telemetry): AfterSuccess | undefined {
  const { config } = deps;
  const { source, fileEventsTopicArn } = config.afterSuccess;
  if (source.mode === 'keep' && fileEventsTopicArn === undefined) return undefined;
  if (fileEventsTopicArn !== undefined && deps.sns === undefined) throw new Error('FILE_EVENTS_TOPIC_ARN is set but the worker was given no SNS client');
  return createAfterSuccess({
    s3: deps.s3,
    settings: source,
    outputPrefixes: outputPrefixes(config.output),
    publisher: fileEventsTopicArn === undefined || deps.sns === undefined ? undefined : createFileEventPublisher(deps.sns, fileEventsTopicArn),
    workerVersion: workerVersion(),
    wallClockMs: Date.now,
    events: telemetry.afterSuccess,
  });
}

/** After the grace period, how long aborted files get to abort their uploads and release their messages. */
const RELEASE_TIMEOUT_MS = 5_000;

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, false, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, s3, sqs, logger } = deps;
  const nowMs = deps.nowMs ?? (() => performance.now());
  const telemetry = createTelemetry(logger, { freshnessObjectiveSeconds: config.freshnessObjectiveSeconds });

  // maxReceiveCount is read once: a changed redrive policy takes effect for the worker when it restarts.
  const { deadLetterQueueUrl, maxReceiveCount } = await resolveDeadLetterRouting(sqs, config.queueUrl, config.deadLetterQueueUrl);
  const registry = await loadDeviceRegistry(config.deviceRegistry.source, s3, config.deviceRegistry.refreshSeconds, {
    loaded: telemetry.registryLoaded,
    refreshFailed: telemetry.registryRefreshFailed,
  });

  const drainController = new AbortController();
  const releaseController = new AbortController();
  const { recordRules, inputLimits } = config;
  const processFile = createObjectProcessor({
    s3,
    output: config.output,
    upload: config.upload,
    maxLineBytes: inputLimits.maxLineBytes,
    limits: { maxObjectBytes: inputLimits.maxObjectBytes, maxRecordsPerFile: inputLimits.maxRecordsPerFile },
    rules: () => ({ ...recordRules, locations: registry.current() }),
  });
  const retryPolicy = { backoffBaseSeconds: config.consumer.retryBackoffBaseSeconds, backoffMaxSeconds: config.consumer.retryBackoffMaxSeconds };
  const { consumer } = config;
  const load = new FileLoad();
  const filesInFlight = createFilesInFlightBound({
    settings: { mode: consumer.filesInFlightMode, min: consumer.minFilesInFlight, max: consumer.maxFilesInFlight },
    load,
    events: telemetry.filesInFlightBound,
  });
  const byteBudget = new ByteBudget(consumer.maxBytesInFlight);
  const fileMemory = { ...config.upload, maxLineBytes: inputLimits.maxLineBytes, format: config.output.format };
  const handleMessage = createMessageHandler({
    telemetry,
    processFile,
    limit: filesInFlight.limit,
    reserveMemory: (ref, signal) => byteBudget.acquire(fileReservationBytes(ref, fileMemory), signal),
    load,
    retryPolicy,
    maxReceiveCount,
    drainSignal: drainController.signal,
    releaseSignal: releaseController.signal,
    nowMs,
    afterSuccess: afterSuccessOf(deps, telemetry),
    isArchiveCopy: (ref) => isArchiveCopy(ref, config.afterSuccess.source),
    sourceOf: (ref) => sourceOf(config.sources, ref.bucket, ref.key),
  });

  // While any message is held, ECS must not pick this task to stop when the service scales in.
  const protection = createTaskProtection({
    agentUri: config.taskProtection.agentUri,
    expiresInMinutes: config.taskProtection.expiresInMinutes,
    releaseDelayMs: config.taskProtection.releaseDelaySeconds * 1000,
    events: taskProtectionEvents(telemetry),
    nowMs,
  });

  const pool = new ConsumerPool({
    sqs,
    queueUrl: config.queueUrl,
    deadLetterQueueUrl,
    capacity: filesInFlight.capacity,
    receiveLoops: receiveLoopCount(config.consumer.maxFilesInFlight),
    waitTimeSeconds: config.consumer.waitTimeSeconds,
    visibilityTimeoutSeconds: config.consumer.visibilityTimeoutSeconds,
    heartbeatIntervalSeconds: config.consumer.heartbeatIntervalSeconds,
    handleMessage,
    retryPolicy,
    ...(maxReceiveCount === undefined ? {} : { maxReceiveCount }),
    hold: protection,
    events: telemetry,
  });

  // A task protected for too long stops receiving and lets go, so that deployments are not held up for ever.
  const protectionYield = createProtectionYield({
    limits: { holdLimitMs: config.taskProtection.maxHoldSeconds * 1000, idleMs: config.taskProtection.yieldIdleSeconds * 1000 },
    protection,
    pool: { pause: () => pool.pauseReceiving(), resume: () => pool.resumeReceiving() },
    events: {
      stoppedReceiving: telemetry.taskProtectionYieldStarted,
      released: telemetry.taskProtectionYieldReleased,
      resumed: telemetry.taskProtectionYieldEnded,
    },
    nowMs,
  });

  const readiness = (): Readiness => {
    if (drainController.signal.aborted) return { ready: false, reason: 'draining: shutting down' };
    const yielding = protectionYield.reason();
    if (yielding !== undefined) return { ready: false, reason: yielding };
    if (!pool.running) return { ready: false, reason: 'the queue consumer is not running' };
    const receive = pool.receiveHealth;
    if (!receive.ok) return { ready: false, reason: `the queue is not reachable: ${receive.error}` };
    return { ready: true };
  };
  const server = buildServer({ logger, metrics: telemetry.registry, readiness });
  const httpAddress = await server.listen({ host: config.http.host, port: config.http.port });
  pool.start();
  if (protection.state().enabled) protectionYield.start(); // outside ECS nothing is protected, nothing held up
  const stopQueueDepthSampler =
    config.consumer.queueMetricsIntervalSeconds > 0
      ? startQueueDepthSampler({
          sqs,
          queues: { ingest: config.queueUrl, dead_letter: deadLetterQueueUrl },
          intervalSeconds: config.consumer.queueMetricsIntervalSeconds,
          report: telemetry.queueDepthSampled,
          failed: telemetry.queueDepthSampleFailed,
        })
      : () => undefined;
  logger.info(
    {
      queueUrl: redactForLog(config.queueUrl),
      deadLetterQueueUrl: redactForLog(deadLetterQueueUrl),
      maxReceiveCount: maxReceiveCount ?? 'no redrive policy',
      filesInFlight: { mode: consumer.filesInFlightMode, min: consumer.minFilesInFlight, max: consumer.maxFilesInFlight },
      maxBytesInFlightMiB: consumer.maxBytesInFlight / 1024 ** 2,
      sources: config.sources ?? 'any bucket an event names',
      sourceAfterSuccess: config.afterSuccess.source.mode,
      fileEventsTopicArn: config.afterSuccess.fileEventsTopicArn ?? 'none',
      httpAddress,
    },
    'worker started',
  );

  let stopped: Promise<void> | undefined;
  async function drain(): Promise<void> {
    drainController.abort(new Error('shutting down'));
    protectionYield.stop();
    pool.stop();
    logger.info({ graceSeconds: config.shutdownGraceSeconds }, 'draining: no new messages; waiting for files in flight');
    if (!(await settlesWithin(pool.whenIdle(), config.shutdownGraceSeconds * 1000))) {
      logger.warn('grace period over: aborting files in flight and releasing their messages');
      releaseController.abort(new Error('shutdown grace period over'));
      await settlesWithin(pool.whenIdle(), RELEASE_TIMEOUT_MS);
    }
    await protection.stop();
    filesInFlight.stop();
    stopQueueDepthSampler();
    registry.stop();
    await server.close();
    logger.info('worker stopped');
  }

  return {
    telemetry,
    httpAddress,
    stop: () => (stopped ??= drain()),
  };
}
