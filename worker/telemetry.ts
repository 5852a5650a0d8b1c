/**
 * Every outcome the worker reports, each one function that both logs and counts, so logs and
 * metrics cannot drift apart. Metrics live in a private prom-client registry.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ObjectRef } from './common/events.ts';
import type { FileResult } from './process-object.ts';
import { RETRIES_EXHAUSTED_REASON } from './errors.ts';
import { DEFAULT_FRESHNESS_OBJECTIVE_SECONDS, freshnessBuckets, freshnessSeconds } from './freshness.ts';
import { isLastAllowedReceive } from './queue/message-fate.ts';
import { QUEUE_ROLES, type QueueDepth, type QueueRole } from './queue/queue-depth.ts';
import type { FilesInFlightEvents } from './queue/adaptive-concurrency.ts';
import { RECORD_OUTCOMES, REJECT_REASONS } from './records/pipeline.ts';
import { PROTECTION_ACTIONS, type ProtectionAction } from './task-protection/agent-client.ts';
import type { TaskProtectionEvents } from './task-protection/driver.ts';
import type { AgentCallFailure, AgentProtection } from './task-protection/protocol.ts';
import { SOURCE_ACTIONS, type SourceAction } from './after-success/source-action.ts';
import { SOURCE_ACTION_RESULTS, type SourceActionResult } from './after-success/source-action-runner.ts';
import type { AfterSuccessEvents } from './after-success/after-success.ts';
import type { SourceVersion } from './after-success/source-version.ts';
import { errorMessage } from './common/error-message.ts';

export const METRIC_PREFIX = 'iot_ingest_';

export const FILE_OUTCOMES = ['succeeded', 'missing', 'stale', 'superseded', 'failed_transient', 'failed_permanent', 'released'] as const;
export type FileOutcome = (typeof FILE_OUTCOMES)[number];

export const MESSAGE_FAILURES = ['retry', 'dead_letter', 'release'] as const;
export type MessageFailure = (typeof MESSAGE_FAILURES)[number];

const PROTECTION_YIELD_STAGES = ['stopped_receiving', 'released', 'release_failed', 'resumed'] as const;

export const IGNORED_MESSAGE_KINDS = ['test_event', 'other_event', 'archive_copy'] as const;
export type IgnoredMessageKind = (typeof IGNORED_MESSAGE_KINDS)[number];

const FILE_EVENT_RESULTS = ['published', 'failed'] as const;

/** What one file's processing ended in; handed to whoever listens (local mode prints it). */
export interface FileReport {
  readonly ref: ObjectRef;
  readonly outcome: FileOutcome;
  readonly durationSeconds: number;
  readonly result?: FileResult;
  readonly error?: string;
  /** For an error the worker could not classify: where it was raised. */
  readonly stack?: string;
}

/**
 * prom-client's default gauges named like counters (promtool: a gauge must not end in _total). Each is the sum of
 * its per-type gauge that stays (nodejs_active_handles{type} and so on): sum() gives the same number.
 */
const DEFAULT_GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

function createMetrics(registry: Registry, freshnessObjectiveSeconds: number) {
  const name = (suffix: string) => METRIC_PREFIX + suffix;
  const registers = [registry];
  return {
    messagesReceived: new Counter({ name: name('messages_received_total'), help: 'SQS messages received', registers }),
    messagesDeleted: new Counter({ name: name('messages_deleted_total'), help: 'SQS messages deleted after their work was done', registers }),
    messagesFailed: new Counter({
      name: name('messages_failed_total'),
      help: 'SQS messages not completed, by what happens next: retry after backoff, dead_letter now, release on shutdown',
      labelNames: ['action'],
      registers,
    }),
    messagesIgnored: new Counter({
      name: name('messages_ignored_total'),
      help: 'Well-formed messages with nothing to do (s3:TestEvent, events other than object creation, objects the move mode put in the archive)',
      labelNames: ['kind'],
      registers,
    }),
    receiveErrors: new Counter({ name: name('sqs_receive_errors_total'), help: 'Failed ReceiveMessage calls', registers }),
    files: new Counter({ name: name('files_total'), help: 'Files (S3 objects) handled, by outcome', labelNames: ['outcome'], registers }),
    fileDuration: new Histogram({
      name: name('file_duration_seconds'),
      help: 'Time from the start of a file to its outputs being stored (or its failure)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    filesInFlight: new Gauge({ name: name('files_in_flight'), help: 'Files being processed now', registers }),
    filesInFlightLimit: new Gauge({
      name: name('files_in_flight_limit'),
      help: 'The bound on files in flight now: MAX_FILES_IN_FLIGHT when fixed, else where the adaptive bound stands between MIN_FILES_IN_FLIGHT and MAX_FILES_IN_FLIGHT',
      registers,
    }),
    lastSuccess: new Gauge({
      name: name('last_success_timestamp_seconds'),
      help: 'Unix time at which the last file was stored successfully',
      registers,
    }),
    records: new Counter({ name: name('records_total'), help: 'Input lines by outcome', labelNames: ['outcome'], registers }),
    recordsRejected: new Counter({ name: name('records_rejected_total'), help: 'Rejected lines by reason', labelNames: ['reason'], registers }),
    unknownDevices: new Counter({
      name: name('records_unknown_device_total'),
      help: 'Processed records whose device_id is not in the device registry',
      registers,
    }),
    bytesRead: new Counter({ name: name('read_bytes_total'), help: 'Bytes read from the raw bucket', registers }),
    bytesWritten: new Counter({ name: name('written_bytes_total'), help: 'Bytes stored, by output', labelNames: ['output'], registers }),
    freshness: new Histogram({
      name: name('freshness_seconds'),
      help: "Per file that succeeded, time from its S3 event's time to both outputs stored (files whose message has no event time are not counted)",
      buckets: freshnessBuckets(freshnessObjectiveSeconds),
      registers,
    }),
    freshnessObjective: new Gauge({
      name: name('freshness_objective_seconds'),
      help: 'FRESHNESS_OBJECTIVE_SECONDS: the promised time from S3 event to outputs stored, which the p99 of freshness should stay within',
      registers,
    }),
    queueMessages: new Gauge({
      name: name('queue_messages'),
      help: 'Messages in the ingest queue and its DLQ by state, as SQS last reported them (the same from every worker: use max())',
      labelNames: ['queue', 'state'],
      registers,
    }),
    queueSampleFailures: new Counter({
      name: name('queue_depth_sample_failures_total'),
      help: 'Failed GetQueueAttributes calls for the queue depth gauges',
      labelNames: ['queue'],
      registers,
    }),
    protectionYields: new Counter({
      name: name('task_protection_yields_total'),
      help: 'Steps of a task yielding after holding scale-in protection too long: stopped_receiving, released, release_failed, resumed',
      labelNames: ['stage'],
      registers,
    }),
    protectionAgentFailures: new Counter({
      name: name('task_protection_agent_failures_total'),
      help: 'Failed calls to the ECS container agent to turn task scale-in protection on (enable, renewals too) or off (disable)',
      labelNames: ['operation'],
      registers,
    }),
    sourceActions: new Counter({
      name: name('source_actions_total'),
      help: 'What SOURCE_AFTER_SUCCESS did to raw objects after their outputs were stored, by action (tag, delete, move) and result (done; gone: the version no longer existed; superseded: a newer object holds the key and was left alone; skipped; failed: the message is retried or dead-lettered)',
      labelNames: ['action', 'result'],
      registers,
    }),
    fileEvents: new Counter({
      name: name('file_events_total'),
      help: 'Completion events published to FILE_EVENTS_TOPIC_ARN, by result (failed: the message is retried, and the event published again with the same id)',
      labelNames: ['result'],
      registers,
    }),
    registryDevices: new Gauge({ name: name('device_registry_devices'), help: 'Devices in the loaded device registry', registers }),
    registryRefreshFailures: new Counter({
      name: name('device_registry_refresh_failures_total'),
      help: 'Failed device registry refreshes (the last good registry stays in use)',
      registers,
    }),
  };
}

export type Telemetry = ReturnType<typeof createTelemetry>;

const SOURCE_ACTION_MESSAGES = {
  done: 'raw object handled (SOURCE_AFTER_SUCCESS)',
  gone: 'raw object version already gone (SOURCE_AFTER_SUCCESS): nothing to do',
  superseded: 'raw object replaced by a newer upload (SOURCE_AFTER_SUCCESS): the newer object is left alone',
} as const;

function sourceFields(source: SourceVersion) {
  return { bucket: source.bucket, key: source.key, ...(source.versionId === undefined ? {} : { versionId: source.versionId }), eTag: source.eTag };
}

export interface TelemetryOptions {
  /** Node.js and process metrics. @default true */
  readonly defaultMetrics?: boolean;
  /** FRESHNESS_OBJECTIVE_SECONDS. @default 900 */
  readonly freshnessObjectiveSeconds?: number;
  /** Unix time in ms, for freshness and the last success. @default Date.now */
  readonly wallClockMs?: () => number;
}

export function createTelemetry(logger: Logger, options: TelemetryOptions = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of DEFAULT_GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name);
  }
  const freshnessObjectiveSeconds = options.freshnessObjectiveSeconds ?? DEFAULT_FRESHNESS_OBJECTIVE_SECONDS;
  const wallClockMs = options.wallClockMs ?? Date.now;
  const metrics = createMetrics(registry, freshnessObjectiveSeconds);
  metrics.freshnessObjective.set(freshnessObjectiveSeconds);
  // Zeroed series, so that rates and alerts see every outcome from the first scrape on.
  for (const outcome of FILE_OUTCOMES) metrics.files.inc({ outcome }, 0);
  for (const action of MESSAGE_FAILURES) metrics.messagesFailed.inc({ action }, 0);
  for (const outcome of RECORD_OUTCOMES) metrics.records.inc({ outcome }, 0);
  for (const reason of Object.values(REJECT_REASONS)) metrics.recordsRejected.inc({ reason }, 0);
  for (const output of ['processed', 'rejected']) metrics.bytesWritten.inc({ output }, 0);
  for (const queue of QUEUE_ROLES) metrics.queueSampleFailures.inc({ queue }, 0);
  for (const stage of PROTECTION_YIELD_STAGES) metrics.protectionYields.inc({ stage }, 0);
  for (const operation of PROTECTION_ACTIONS) metrics.protectionAgentFailures.inc({ operation }, 0);
  for (const kind of IGNORED_MESSAGE_KINDS) metrics.messagesIgnored.inc({ kind }, 0);
  for (const action of SOURCE_ACTIONS) {
    for (const result of [...SOURCE_ACTION_RESULTS, 'failed']) metrics.sourceActions.inc({ action, result }, 0);
  }
  for (const result of FILE_EVENT_RESULTS) metrics.fileEvents.inc({ result }, 0);

  const protectionLogger = logger.child({ component: 'task-protection' });

  const fileListeners: Array<(report: FileReport) => void> = [];

  function fileFinished(report: FileReport): void {
    const { ref, outcome, durationSeconds, result } = report;
    metrics.files.inc({ outcome });
    metrics.fileDuration.observe({ outcome }, durationSeconds);
    const where = { bucket: ref.bucket, key: ref.key, outcome, durationMs: Math.round(durationSeconds * 1000) };
    if (result?.outcome === 'succeeded') {
      const { tally, bytesRead, bytesWritten } = result;
      const nowMs = wallClockMs();
      metrics.lastSuccess.set(nowMs / 1000);
      const freshness = freshnessSeconds(ref.eventTime, nowMs);
      if (freshness !== undefined) metrics.freshness.observe(freshness);
      metrics.records.inc({ outcome: 'processed' }, tally.processed);
      metrics.records.inc({ outcome: 'filtered' }, tally.filtered);
      metrics.records.inc({ outcome: 'rejected' }, tally.rejected);
      for (const [reason, count] of Object.entries(tally.rejectedByReason)) metrics.recordsRejected.inc({ reason }, count);
      metrics.unknownDevices.inc(tally.unknownDevices);
      metrics.bytesRead.inc(bytesRead);
      metrics.bytesWritten.inc({ output: 'processed' }, bytesWritten.processed);
      metrics.bytesWritten.inc({ output: 'rejected' }, bytesWritten.rejected);
      logger.info(
        {
          ...where,
          records: { processed: tally.processed, filtered: tally.filtered, rejected: tally.rejected },
          rejectedByReason: tally.rejectedByReason,
          unknownDevices: tally.unknownDevices,
          bytesRead,
          bytesWritten,
          ...(freshness === undefined ? {} : { freshnessMs: Math.round(freshness * 1000) }),
          gzip: result.gzip,
          outputs: result.outputs,
        },
        'file processed',
      );
    } else if (outcome === 'missing') {
      logger.warn(where, 'file skipped: the object no longer exists; the message is acknowledged');
    } else if (result?.outcome === 'stale') {
      logger.warn(
        { ...where, eventETag: ref.eTag, currentETag: result.currentETag },
        'file skipped: the object changed after the event; the newer object has its own event',
      );
    } else if (result?.outcome === 'superseded') {
      logger.warn(
        { ...where, eTag: result.source.eTag, newerETag: result.newer.eTag, ...(result.newer.versionId ? { newerVersionId: result.newer.versionId } : {}) },
        'file superseded: a later upload of the key stored its outputs while this one was processed; they are kept, this file stores none',
      );
    } else {
      logger.error({ ...where, err: report.error, ...(report.stack === undefined ? {} : { stack: report.stack }) }, 'file failed');
    }
    for (const listener of fileListeners) listener(report);
  }

  return {
    registry,
    /** Calls `listener` after every file, whatever its outcome. */
    onFile: (listener: (report: FileReport) => void): void => {
      fileListeners.push(listener);
    },
    messageReceived: (): void => {
      metrics.messagesReceived.inc();
    },
    messagesDeleted: (count: number): void => {
      metrics.messagesDeleted.inc(count);
    },
    messageDeletesFailed: (messageIds: readonly string[], error: string): void => {
      logger.warn({ messageIds, err: error }, 'delete failed; these messages will be processed again after their visibility timeout');
    },
    messageIgnored: (messageId: string | undefined, kind: IgnoredMessageKind, detail: string): void => {
      metrics.messagesIgnored.inc({ kind });
      logger.info({ messageId, kind, detail }, 'message acknowledged without work');
    },
    messageRetried: (messageId: string | undefined, receiveCount: number, backoffSeconds: number, error: string, maxReceiveCount?: number): void => {
      metrics.messagesFailed.inc({ action: 'retry' });
      const fields = { messageId, receiveCount, ...(maxReceiveCount === undefined ? {} : { maxReceiveCount }), backoffSeconds, err: error };
      // Only when the worker's own copy to the DLQ failed: SQS moves it at its next receive instead, with no reason attached.
      logger.warn(
        fields,
        isLastAllowedReceive(receiveCount, maxReceiveCount)
          ? 'message failed on its last allowed receive and could not be copied to the dead-letter queue; the redrive policy moves it there, without a reason, after the backoff'
          : 'message failed; it will be retried after the backoff',
      );
    },
    messageDeadLettered: (messageId: string | undefined, reason: string, detail: string): void => {
      metrics.messagesFailed.inc({ action: 'dead_letter' });
      const why =
        reason === RETRIES_EXHAUSTED_REASON
          ? 'message failed on its last allowed receive; moved to the dead-letter queue now, with its reason'
          : 'message cannot succeed on a retry (see its reason); moved to the dead-letter queue now';
      logger.error({ messageId, reason, detail }, why);
    },
    messageReleased: (messageId: string | undefined): void => {
      metrics.messagesFailed.inc({ action: 'release' });
      logger.info({ messageId }, 'message released for another worker (shutting down)');
    },
    receiveFailed: (error: string, firstInARow: boolean): void => {
      metrics.receiveErrors.inc();
      if (firstInARow) logger.error({ err: error }, 'cannot receive from the queue; retrying with backoff');
    },
    receiveRecovered: (): void => {
      logger.info('receiving from the queue again');
    },
    fileStarted: (): void => {
      metrics.filesInFlight.inc();
    },
    fileFinished: (report: FileReport): void => {
      metrics.filesInFlight.dec();
      fileFinished(report);
    },
    filesInFlightBound: {
      // The 'worker started' line says which bound is in force.
      started: (_mode, limit) => {
        metrics.filesInFlightLimit.set(limit);
      },
      limitChanged: ({ from, to, reason, sample, noteworthy }) => {
        metrics.filesInFlightLimit.set(to);
        const { filesFinished, meanFileSeconds, transientFailures, peakFilesRunning, eventLoopUtilization, memoryUsedRatio } = sample;
        // Every step at debug level; at info only when the limit has doubled or halved since the last such line.
        logger[noteworthy ? 'info' : 'debug'](
          {
            limit: to,
            previousLimit: from,
            reason,
            window: {
              filesFinished,
              meanFileMs: Math.round(meanFileSeconds * 1000),
              transientFailures,
              peakFilesRunning,
              eventLoopUtilization: Number(eventLoopUtilization.toFixed(2)),
              memoryUsedRatio: Number(memoryUsedRatio.toFixed(2)),
            },
          },
          'files in flight limit moved',
        );
      },
    } satisfies FilesInFlightEvents,
    queueDepthSampled: (queue: QueueRole, depth: QueueDepth): void => {
      metrics.queueMessages.set({ queue, state: 'visible' }, depth.visible);
      metrics.queueMessages.set({ queue, state: 'in_flight' }, depth.inFlight);
      metrics.queueMessages.set({ queue, state: 'delayed' }, depth.delayed);
    },
    queueDepthSampleFailed: (queue: QueueRole, error: string): void => {
      metrics.queueSampleFailures.inc({ queue });
      logger.debug({ queue, err: error }, 'queue depth sample failed');
    },
    taskProtectionNotOnEcs: (): void => {
      protectionLogger.info('task scale-in protection is off: ECS_AGENT_URI is not set (not running on ECS)');
    },
    taskProtectionOn: (expiresInMinutes: number, expirationDate: string | undefined): void => {
      protectionLogger.info({ expiresInMinutes, expirationDate }, 'task scale-in protection on');
    },
    taskProtectionRenewed: (expiresInMinutes: number, expirationDate: string | undefined): void => {
      protectionLogger.debug({ expiresInMinutes, expirationDate }, 'task scale-in protection renewed');
    },
    taskProtectionOff: (): void => {
      protectionLogger.info('task scale-in protection off');
    },
    taskProtectionAgentFailed: (failure: AgentCallFailure): void => {
      const { action, error, consecutiveFailures, agentState, willRetry } = failure;
      metrics.protectionAgentFailures.inc({ operation: action });
      protectionLogger.warn(
        { action, err: error, consecutiveFailures, agentState },
        `could not turn task scale-in protection ${action === 'enable' ? 'on' : 'off'}${willRetry ? '; will retry' : ''}`,
      );
    },
    taskProtectionAgentRecovered: (action: ProtectionAction, failures: number): void => {
      protectionLogger.info({ action, failures }, 'ECS agent reachable again');
    },
    taskProtectionFailedUnexpectedly: (error: string): void => {
      protectionLogger.error({ err: error }, 'task protection reconcile failed');
    },
    taskProtectionYieldStarted: (heldForMs: number, holdLimitMs: number): void => {
      metrics.protectionYields.inc({ stage: 'stopped_receiving' });
      logger.info(
        { heldForSeconds: Math.round(heldForMs / 1000), holdLimitSeconds: Math.round(holdLimitMs / 1000) },
        'task scale-in protection held too long: stopped receiving; finishing the files held, then letting go so that ECS can replace this task',
      );
    },
    taskProtectionYieldReleased: (finishingMs: number, agent: AgentProtection, idleMs: number): void => {
      const fields = { finishingSeconds: Math.round(finishingMs / 1000), agentState: agent, idleSeconds: Math.round(idleMs / 1000) };
      metrics.protectionYields.inc({ stage: agent === 'off' ? 'released' : 'release_failed' });
      if (agent === 'off') logger.info(fields, 'files finished and task scale-in protection removed; idle so that ECS can stop or replace this task');
      else logger.warn(fields, 'files finished but removing task scale-in protection failed (retrying); until it is removed or expires, ECS will not stop this task');
    },
    taskProtectionYieldEnded: (idleMs: number): void => {
      metrics.protectionYields.inc({ stage: 'resumed' });
      logger.info({ idleSeconds: Math.round(idleMs / 1000) }, 'not replaced while unprotected: receiving again');
    },
    afterSuccess: {
      sourceActionEnded: (source: SourceVersion, action: SourceAction, outcome: SourceActionResult): void => {
        metrics.sourceActions.inc({ action, result: outcome.result });
        const fields = { ...sourceFields(source), action, result: outcome.result, ...('detail' in outcome && outcome.detail !== undefined ? { detail: outcome.detail } : {}) };
        // One line per file is the 'file processed' line: what went as planned is at debug, the rest says why.
        if (outcome.result === 'skipped') logger.warn(fields, `raw object left as it is (SOURCE_AFTER_SUCCESS=${action})`);
        else if (outcome.result === 'done' && 'detail' in fields) logger.warn(fields, `${SOURCE_ACTION_MESSAGES.done}, but not whole`);
        else logger[outcome.result === 'done' ? 'debug' : 'info'](fields, SOURCE_ACTION_MESSAGES[outcome.result]);
      },
      sourceActionFailed: (source: SourceVersion, action: SourceAction, error: unknown): void => {
        metrics.sourceActions.inc({ action, result: 'failed' });
        logger.warn({ ...sourceFields(source), action, err: errorMessage(error) }, `SOURCE_AFTER_SUCCESS=${action} failed; the outputs stay stored and the message is not deleted`);
      },
      fileEventPublished: (source: SourceVersion, eventId: string, messageId: string | undefined): void => {
        metrics.fileEvents.inc({ result: 'published' });
        logger.debug({ ...sourceFields(source), eventId, snsMessageId: messageId }, 'completion event published');
      },
      fileEventFailed: (source: SourceVersion, eventId: string, error: unknown): void => {
        metrics.fileEvents.inc({ result: 'failed' });
        logger.warn({ ...sourceFields(source), eventId, err: errorMessage(error) }, 'completion event not published; the message is not deleted, and the file is processed and its event published again');
      },
    } satisfies AfterSuccessEvents,
    registryLoaded: (devices: number, source: string): void => {
      metrics.registryDevices.set(devices);
      logger.info({ devices, source }, 'device registry loaded');
    },
    registryRefreshFailed: (source: string, error: string): void => {
      metrics.registryRefreshFailures.inc();
      logger.warn({ source, err: error }, 'device registry refresh failed; keeping the last good registry');
    },
  };
}

/** The task protection driver's events, each logged and counted by telemetry. */
export function taskProtectionEvents(telemetry: Telemetry): TaskProtectionEvents {
  return {
    notOnEcs: telemetry.taskProtectionNotOnEcs,
    protectionOn: telemetry.taskProtectionOn,
    protectionRenewed: telemetry.taskProtectionRenewed,
    protectionOff: telemetry.taskProtectionOff,
    agentCallFailed: telemetry.taskProtectionAgentFailed,
    agentReachableAgain: telemetry.taskProtectionAgentRecovered,
    failedUnexpectedly: telemetry.taskProtectionFailedUnexpectedly,
  };
}
