/**
 * The trigger Lambda: S3 event notifications in, one ingest message per object out.
 * `createHandler` wires the pure parts to the clients it is given; `handler` is the Lambda entry
 * point, wired from the environment.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { errorMessage } from '../worker/common/error-message.ts';
import { hasEndpointOverride, parseTriggerConfig, type TriggerSettings } from './config.ts';
import { noneSkipped, selectObjects, type SkippedCounts, type TriggerEvent } from './select-objects.ts';
import { SendBatchesError, sendObjectMessages, type BatchSender, type RetryOptions, type SendResult } from '../worker/common/send-batches.ts';

export type LogLine = Readonly<Record<string, unknown>>;

export interface TriggerDependencies {
  readonly sqs: BatchSender;
  readonly settings: TriggerSettings;
  /** DEFAULT_RETRY when omitted. */
  readonly retry?: RetryOptions;
  /** One JSON line on stdout when omitted, which CloudWatch Logs keeps as one event. */
  readonly log?: (line: LogLine) => void;
}

/** What one invocation did; also returned, which helps a manual invoke. */
export interface TriggerSummary {
  readonly received: number;
  readonly sent: number;
  readonly skipped: SkippedCounts;
  readonly invalid: number;
  readonly testEvent: boolean;
}

export type TriggerHandler = (event: TriggerEvent, context?: Pick<Context, 'awsRequestId'>) => Promise<TriggerSummary>;

/** Short on purpose: the SDK already retries each call, and Lambda retries the whole event after us. */
export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  sleep: (ms) => delay(ms),
};

function logJsonLine(line: LogLine): void {
  console.log(JSON.stringify(line));
}

export function createHandler(dependencies: TriggerDependencies): TriggerHandler {
  const { sqs, settings, retry = DEFAULT_RETRY, log = logJsonLine } = dependencies;

  return async function handleS3Event(event, context) {
    const requestId = context?.awsRequestId;
    const selection = selectObjects(event, settings.suffixes);
    if (selection.kind === 'test-event') {
      log({ level: 'info', msg: 's3:TestEvent acknowledged; nothing to send', requestId, bucket: selection.bucket });
      return { received: 0, sent: 0, skipped: noneSkipped(), invalid: 0, testEvent: true };
    }

    const { received, messages, skipped, invalid } = selection;
    const counts = { requestId, received, selected: messages.length, skipped, invalid: invalid.length };
    let result: SendResult;
    try {
      result = await sendObjectMessages(sqs, settings.queueUrl, messages, retry);
    } catch (error) {
      const sent = error instanceof SendBatchesError ? error.sent : 0;
      const failure = error instanceof SendBatchesError ? { failed: error.failed, reasons: error.reasons } : {};
      log({ level: 'error', msg: 'could not send every object message', ...counts, sent, ...failure, error: errorMessage(error) });
      throw error;
    }

    const summary = { received, sent: result.sent, skipped, invalid: invalid.length, testEvent: false };
    if (invalid.length > 0) {
      // The valid objects are on their way; failing the invocation keeps the event for the
      // on-failure destination (a repeat only re-sends messages the worker handles idempotently).
      const detail = invalid.map((record) => `record ${record.index}: ${record.reason}`).join('; ');
      log({ level: 'error', msg: 'event has invalid records', ...counts, sent: result.sent, invalidRecords: invalid });
      throw new Error(`${invalid.length} of ${received} record(s) are not S3 object notifications: ${detail}`);
    }
    log({ level: 'info', msg: 'event forwarded', ...counts, sent: result.sent, attempts: result.attempts, retriedEntries: result.retriedEntries });
    return summary;
  };
}

// Once per container, so connections are reused across invocations. The SDK itself reads
// AWS_REGION, the credentials and AWS_ENDPOINT_URL (emulators only) from the environment. By
// default it sends to the host in the queue URL instead; an emulator's (sqs.REGION.localhost)
// may not resolve, so with an endpoint override the override wins.
const sqsClient = new SQSClient({ useQueueUrlAsEndpoint: !hasEndpointOverride(process.env) });
let handleWithEnvironment: TriggerHandler | undefined;

/** The Lambda entry point; settings are read on the first invocation, so a bad one fails every invocation with its name. */
export const handler: TriggerHandler = async (event, context) => {
  handleWithEnvironment ??= createHandler({ sqs: sqsClient, settings: parseTriggerConfig(process.env) });
  return await handleWithEnvironment(event, context);
};
