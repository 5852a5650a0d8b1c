/**
 * Puts messages on a queue with SendMessageBatch, in batches within SQS's limits (entries and bytes),
 * retrying only the entries that failed. Object messages (the trigger, `ops backfill`) and raw bodies
 * with their attributes (`ops redrive`) go through the same sender. The SQS client and the sleep are
 * passed in, so the retry logic is tested without waiting.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue, SendMessageBatchCommandOutput, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { backoffDelay } from './backoff.ts';
import type { ObjectMessage } from './object-message.ts';
import { SQS_MAX_BATCH_ENTRIES, SQS_MAX_PAYLOAD_BYTES, sqsMessageBytes } from './sqs-limits.ts';

/** The part of SQSClient this module needs; a real SQSClient satisfies it. */
export interface BatchSender {
  send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput>;
}

export interface RetryOptions {
  /** Rounds of sending, the first included (at least 1). */
  readonly maxAttempts: number;
  /** The wait before the second round; doubled for each further round. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface SendResult {
  readonly sent: number;
  /** Rounds of sending used (1 when nothing had to be retried). */
  readonly attempts: number;
  /** Entries sent again after a failure, counted once per retry. */
  readonly retriedEntries: number;
}

/** A message to send: its body as SQS will store it, and its message attributes. */
export interface OutgoingMessage {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>> | undefined;
}

/** Some messages could not be sent after every attempt; the others were sent exactly once. */
export class SendBatchesError extends Error {
  readonly failed: number;
  readonly sent: number;
  /** How many entries failed for each reason (an SQS error code, or the error a whole call threw). */
  readonly reasons: Readonly<Record<string, number>>;
  /** Where the unsent messages are in the list given to the sender. */
  readonly unsentIndexes: readonly number[];

  constructor(unsentIndexes: readonly number[], sent: number, attempts: number, reasons: Record<string, number>, cause: unknown) {
    const failed = unsentIndexes.length;
    const why = Object.entries(reasons)
      .map(([reason, count]) => `${count} × ${reason}`)
      .join(', ');
    super(`${failed} of ${failed + sent} message(s) could not be sent to the ingest queue after ${attempts} attempt(s): ${why}`, { cause });
    this.name = 'SendBatchesError';
    this.failed = failed;
    this.sent = sent;
    this.reasons = reasons;
    this.unsentIndexes = unsentIndexes;
  }
}

interface PendingEntry {
  /** Where the message is in the list given; as a string, the entry id (unique within the call, stable across retries). */
  readonly index: number;
  readonly message: OutgoingMessage;
  /** As SQS counts them against its limits. */
  readonly bytes: number;
}

interface EntryFailure {
  readonly entry: PendingEntry;
  readonly reason: string;
  /** SQS blames the request itself (e.g. an invalid body): sending it again cannot help. */
  readonly permanent: boolean;
}

interface RoundOutcome {
  readonly sent: number;
  readonly failures: readonly EntryFailure[];
  readonly lastThrown: unknown;
}

/**
 * SQS refuses a body with characters outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF, yet an S3 key may hold U+FFFE or U+FFFF. Astral characters (surrogate pairs
 * here) are escaped too: SQS takes them, but the local emulator refuses them.
 */
const CHARACTERS_SQS_MAY_REFUSE = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g;

/** The message as JSON that SQS accepts whatever the key holds; the escapes are JSON's own, so JSON.parse restores the key exactly. */
export function messageBody(message: ObjectMessage): string {
  return JSON.stringify(message).replace(CHARACTERS_SQS_MAY_REFUSE, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Groups of at most 10 entries and 1 MiB in all, as SendMessageBatch takes them: ten messages of 200 KB
 * each would be refused whole (BatchRequestTooLong).
 */
function batchesWithinLimits(entries: readonly PendingEntry[]): PendingEntry[][] {
  const batches: PendingEntry[][] = [];
  let batch: PendingEntry[] = [];
  let batchBytes = 0;
  for (const entry of entries) {
    if (batch.length === SQS_MAX_BATCH_ENTRIES || (batch.length > 0 && batchBytes + entry.bytes > SQS_MAX_PAYLOAD_BYTES)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(entry);
    batchBytes += entry.bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function requestEntry({ index, message }: PendingEntry): SendMessageBatchRequestEntry {
  return { Id: String(index), MessageBody: message.body, ...(message.attributes ? { MessageAttributes: { ...message.attributes } } : {}) };
}

function thrownReason(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

async function sendBatch(sqs: BatchSender, queueUrl: string, batch: readonly PendingEntry[]): Promise<RoundOutcome> {
  const entries = batch.map(requestEntry);
  let output: SendMessageBatchCommandOutput;
  try {
    output = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  } catch (error) {
    return { sent: 0, failures: batch.map((entry) => ({ entry, reason: thrownReason(error), permanent: false })), lastThrown: error };
  }
  const succeeded = new Set((output.Successful ?? []).map((result) => result.Id));
  const failedById = new Map((output.Failed ?? []).map((result) => [result.Id, result]));
  const failures: EntryFailure[] = [];
  for (const entry of batch) {
    const id = String(entry.index);
    if (succeeded.has(id)) continue;
    const failed = failedById.get(id);
    failures.push({
      entry,
      reason: failed ? (failed.Code ?? 'unknown error code') : 'no result for the entry',
      permanent: failed?.SenderFault === true,
    });
  }
  return { sent: batch.length - failures.length, failures, lastThrown: undefined };
}

async function sendRound(sqs: BatchSender, queueUrl: string, pending: readonly PendingEntry[]): Promise<RoundOutcome> {
  let sent = 0;
  const failures: EntryFailure[] = [];
  let lastThrown: unknown;
  for (const batch of batchesWithinLimits(pending)) {
    const outcome = await sendBatch(sqs, queueUrl, batch);
    sent += outcome.sent;
    failures.push(...outcome.failures);
    lastThrown = outcome.lastThrown ?? lastThrown;
  }
  return { sent, failures, lastThrown };
}

function countReasons(failures: readonly EntryFailure[]): Record<string, number> {
  const reasons: Record<string, number> = {};
  for (const { reason } of failures) reasons[reason] = (reasons[reason] ?? 0) + 1;
  return reasons;
}

/**
 * Sends the messages in batches within SQS's limits, and retries failed entries (and only those) with
 * exponential backoff. Throws `SendBatchesError` if any are still unsent at the end.
 */
export async function sendMessageBatches(
  sqs: BatchSender,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  retry: RetryOptions,
): Promise<SendResult> {
  if (messages.length === 0) return { sent: 0, attempts: 0, retriedEntries: 0 };
  const maxAttempts = Math.max(1, Math.floor(retry.maxAttempts));
  let pending: readonly PendingEntry[] = messages.map((message, index) => ({ index, message, bytes: sqsMessageBytes(message.body, message.attributes) }));
  const givenUp: EntryFailure[] = [];
  let sent = 0;
  let retriedEntries = 0;
  let lastThrown: unknown;

  for (let attempt = 1; ; attempt += 1) {
    const outcome = await sendRound(sqs, queueUrl, pending);
    sent += outcome.sent;
    lastThrown = outcome.lastThrown ?? lastThrown;
    givenUp.push(...outcome.failures.filter((failure) => failure.permanent));
    const retryable = outcome.failures.filter((failure) => !failure.permanent);
    if (retryable.length === 0 || attempt >= maxAttempts) {
      givenUp.push(...retryable);
      if (givenUp.length > 0) {
        const unsentIndexes = givenUp.map((failure) => failure.entry.index).sort((a, b) => a - b);
        throw new SendBatchesError(unsentIndexes, sent, attempt, countReasons(givenUp), lastThrown);
      }
      return { sent, attempts: attempt, retriedEntries };
    }
    await retry.sleep(backoffDelay(attempt, { firstDelay: retry.baseDelayMs, maxDelay: retry.maxDelayMs }));
    pending = retryable.map((failure) => failure.entry);
    retriedEntries += pending.length;
  }
}

/** One SQS message per object message, through `sendMessageBatches`. */
export function sendObjectMessages(sqs: BatchSender, queueUrl: string, messages: readonly ObjectMessage[], retry: RetryOptions): Promise<SendResult> {
  return sendMessageBatches(
    sqs,
    queueUrl,
    messages.map((message) => ({ body: messageBody(message) })),
    retry,
  );
}
