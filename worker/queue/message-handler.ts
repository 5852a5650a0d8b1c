/**
 * What happens to one SQS message: parse it, process each object it names, and decide its fate
 * (message-fate.ts). It touches no queue: the consumer pool carries the fate out.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { LimitFunction } from 'p-limit';
import { isTransientFailure, PERMANENT_REASONS, PermanentFileError } from '../errors.ts';
import { errorMessage } from '../common/error-message.ts';
import { parseMessageBody, type ObjectRef } from '../common/events.ts';
import type { FileResult } from '../process-object.ts';
import { sourceOf, type Source } from '../sources.ts';
import type { AfterSuccess } from '../after-success/after-success.ts';
import { processedSourceOf } from '../after-success/processed-source.ts';
import type { FileOutcome, Telemetry } from '../telemetry.ts';
import type { ByteReservation } from './byte-budget.ts';
import type { FileLoad } from './file-load.ts';
import { decideFate, receiveCountOf, type MessageFate, type MessageHandling, type ObjectAttempt, type RetryPolicy } from './message-fate.ts';

export interface MessageHandlerDeps {
  readonly telemetry: Telemetry;
  readonly processFile: (ref: ObjectRef, source: Source, signal: AbortSignal) => Promise<FileResult>;
  /** The one bound on files in flight, shared by every message: a file first takes a slot … */
  readonly limit: LimitFunction;
  /** … then reserves the memory it may hold (byte-budget.ts); rejects with the signal's reason if aborted while waiting. */
  readonly reserveMemory: (ref: ObjectRef, signal: AbortSignal) => Promise<ByteReservation>;
  /** Told when a file starts and ends: what the adaptive bound samples. */
  readonly load: FileLoad;
  readonly retryPolicy: RetryPolicy;
  /** From the ingest queue's redrive policy: a transient failure on this receive goes to the DLQ (undefined: no redrive policy). */
  readonly maxReceiveCount: number | undefined;
  /** Aborted when shutdown begins: no new file starts, and a file still waiting for a slot or memory gives up at once. */
  readonly drainSignal: AbortSignal;
  /** Aborted when the grace period is over: files still running stop and their messages are released. */
  readonly releaseSignal: AbortSignal;
  readonly nowMs: () => number;
  /**
   * After a file's outputs are stored, before its message may go: the raw object's action and the completion
   * event (after-success/). A failure there fails the file's message like any other; the file's outcome stays logged.
   * @default - nothing
   */
  readonly afterSuccess?: AfterSuccess;
  /**
   * Objects the move mode put in its archive: acknowledged without work.
   * @default - none
   */
  readonly isArchiveCopy?: (ref: ObjectRef) => boolean;
  /**
   * The source (SOURCES) an object belongs to, undefined when none: such an object fails for good as unknown_source.
   * @default - every object belongs to its whole bucket, without an output prefix (SOURCES unset)
   */
  readonly sourceOf?: (ref: ObjectRef) => Source | undefined;
}

/** Handles one message and resolves to its fate; never rejects. */
export type MessageHandler = (message: Message) => Promise<MessageFate>;

const NOT_STARTED: ObjectAttempt = { kind: 'notStarted' };

function unknownSource(ref: ObjectRef): ObjectAttempt {
  const detail = `s3://${ref.bucket}/${ref.key} is not in SOURCES: no source lists the bucket ${ref.bucket} with a prefix of the key`;
  return { kind: 'failed', error: new PermanentFileError(PERMANENT_REASONS.unknownSource, detail) };
}

export function createMessageHandler(deps: MessageHandlerDeps): MessageHandler {
  const { telemetry, drainSignal } = deps;
  const resolveSource = deps.sourceOf ?? ((ref: ObjectRef) => sourceOf(undefined, ref.bucket, ref.key));
  /** What ends a wait for memory: shutdown beginning, or (should it come first) the grace period ending. */
  const stopWaiting = AbortSignal.any([drainSignal, deps.releaseSignal]);
  const drained = new Promise<void>((resolve) => {
    if (drainSignal.aborted) resolve();
    else drainSignal.addEventListener('abort', () => resolve(), { once: true });
  });

  async function run(ref: ObjectRef, source: Source): Promise<ObjectAttempt> {
    telemetry.fileStarted();
    deps.load.fileStarted();
    const started = deps.nowMs();
    const ended = (outcome: FileOutcome) => {
      const durationSeconds = (deps.nowMs() - started) / 1000;
      deps.load.fileEnded(outcome, durationSeconds);
      return durationSeconds;
    };
    let result: FileResult;
    try {
      result = await deps.processFile(ref, source, deps.releaseSignal);
    } catch (error) {
      const outcome: FileOutcome = deps.releaseSignal.aborted ? 'released' : isTransientFailure(error) ? 'failed_transient' : 'failed_permanent';
      // An error nobody foresaw is a bug to find: its stack goes with it.
      const unexpected = outcome === 'failed_permanent' && !(error instanceof PermanentFileError);
      const stack = unexpected && error instanceof Error ? { stack: error.stack } : {};
      telemetry.fileFinished({ ref, outcome, durationSeconds: ended(outcome), error: errorMessage(error), ...stack });
      return { kind: 'failed', error };
    }
    const durationSeconds = ended(result.outcome);
    telemetry.fileFinished({ ref, outcome: result.outcome, durationSeconds, result });
    if (result.outcome !== 'succeeded' || deps.afterSuccess === undefined) return { kind: 'done' };
    // The outputs are stored and counted; what follows reports itself (telemetry.afterSuccess) and only decides the message's fate.
    try {
      const version = processedSourceOf(ref, result);
      const owner = source.expectedBucketOwner === undefined ? {} : { expectedBucketOwner: source.expectedBucketOwner };
      await deps.afterSuccess({ ...result, source: version, ...owner, durationMs: durationSeconds * 1000 }, deps.releaseSignal);
      return { kind: 'done' };
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  async function processOne(ref: ObjectRef, source: Source): Promise<ObjectAttempt> {
    if (drainSignal.aborted) return NOT_STARTED;
    let reservation: ByteReservation;
    try {
      reservation = await deps.reserveMemory(ref, stopWaiting);
    } catch (error) {
      if (stopWaiting.aborted) return NOT_STARTED;
      throw error;
    }
    try {
      // Shutdown may have begun as the memory was granted.
      return stopWaiting.aborted ? NOT_STARTED : await run(ref, source);
    } finally {
      reservation.release();
    }
  }

  /** A file waits for a slot, then for memory; when shutdown begins first, it does not start and its message goes back at once. */
  async function attemptOne(ref: ObjectRef): Promise<ObjectAttempt> {
    // The one place an object is resolved to its source; one in none takes neither a slot nor memory.
    const source = resolveSource(ref);
    if (source === undefined) return unknownSource(ref);
    let holdsSlot = false;
    const attempt = deps.limit(() => {
      holdsSlot = true;
      return processOne(ref, source);
    });
    const first = await Promise.race([attempt, drained.then(() => undefined)]);
    if (first !== undefined) return first;
    // A file already past its slot answers for itself (it may be running); one still queued never starts.
    return holdsSlot ? attempt : NOT_STARTED;
  }

  async function attempt(message: Message): Promise<MessageHandling> {
    if (drainSignal.aborted) return { kind: 'notStarted' };
    let parsed: ReturnType<typeof parseMessageBody>;
    try {
      parsed = parseMessageBody(message.Body);
    } catch (error) {
      return { kind: 'unreadable', error };
    }
    if (parsed.kind === 'test-event') {
      telemetry.messageIgnored(message.MessageId, 'test_event', `s3:TestEvent for bucket ${parsed.bucket ?? '?'}`);
      return { kind: 'nothingToDo' };
    }
    if (parsed.kind === 'ignored') {
      telemetry.messageIgnored(message.MessageId, 'other_event', parsed.reason);
      return { kind: 'nothingToDo' };
    }
    const isArchiveCopy = deps.isArchiveCopy ?? (() => false);
    const archived = parsed.objects.filter((ref) => isArchiveCopy(ref));
    const objects = parsed.objects.filter((ref) => !isArchiveCopy(ref));
    if (archived.length > 0) {
      const keys = archived.map((ref) => `s3://${ref.bucket}/${ref.key}`).join(', ');
      telemetry.messageIgnored(message.MessageId, 'archive_copy', `archived by SOURCE_AFTER_SUCCESS=move, not processed again: ${keys}`);
    }
    if (objects.length === 0) return { kind: 'nothingToDo' };
    const settled = await Promise.allSettled(objects.map((ref) => attemptOne(ref)));
    const attempts = settled.map((outcome): ObjectAttempt => (outcome.status === 'fulfilled' ? outcome.value : { kind: 'failed', error: outcome.reason }));
    return { kind: 'objectsAttempted', attempts };
  }

  return async (message) => {
    telemetry.messageReceived();
    let handling: MessageHandling;
    try {
      handling = await attempt(message);
    } catch (error) {
      handling = { kind: 'handlingFailed', error };
    }
    return decideFate(handling, {
      receiveCount: receiveCountOf(message),
      maxReceiveCount: deps.maxReceiveCount,
      retryPolicy: deps.retryPolicy,
      releasing: deps.releaseSignal.aborted,
    });
  };
}
