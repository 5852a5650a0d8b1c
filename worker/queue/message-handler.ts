/**
 * What happens to one SQS message: parse it, process each object it names, and decide its fate
 * (message-fate.ts). It touches no queue: the consumer pool carries the fate out.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { LimitFunction } from 'p-limit';
import { isTransientFailure, PermanentFileError } from '../errors.ts';
import { errorMessage } from '../common/error-message.ts';
import { parseMessageBody, type ObjectRef } from '../common/events.ts';
import type { FileResult } from '../process-object.ts';
import type { FileOutcome, Telemetry } from '../telemetry.ts';
import { decideFate, receiveCountOf, type MessageFate, type MessageHandling, type ObjectAttempt, type RetryPolicy } from './message-fate.ts';

export interface MessageHandlerDeps {
  readonly telemetry: Telemetry;
  readonly processFile: (ref: ObjectRef, signal: AbortSignal) => Promise<FileResult>;
  /** The one bound on files in flight, shared by every poller. */
  readonly limit: LimitFunction;
  readonly retryPolicy: RetryPolicy;
  /** True once shutdown began: no new file starts. */
  readonly isDraining: () => boolean;
  /** Aborted when the grace period is over: files still running stop and their messages are released. */
  readonly releaseSignal: AbortSignal;
  readonly nowMs: () => number;
}

/** Handles one message and resolves to its fate; never rejects. */
export type MessageHandler = (message: Message) => Promise<MessageFate>;

export function createMessageHandler(deps: MessageHandlerDeps): MessageHandler {
  const { telemetry } = deps;

  async function processOne(ref: ObjectRef): Promise<ObjectAttempt> {
    if (deps.isDraining()) return { kind: 'notStarted' };
    telemetry.fileStarted();
    const started = deps.nowMs();
    const durationSeconds = () => (deps.nowMs() - started) / 1000;
    try {
      const result = await deps.processFile(ref, deps.releaseSignal);
      telemetry.fileFinished({ ref, outcome: result.outcome, durationSeconds: durationSeconds(), result });
      return { kind: 'done' };
    } catch (error) {
      const outcome: FileOutcome = deps.releaseSignal.aborted ? 'released' : isTransientFailure(error) ? 'failed_transient' : 'failed_permanent';
      // An error nobody foresaw is a bug to find: its stack goes with it.
      const unexpected = outcome === 'failed_permanent' && !(error instanceof PermanentFileError);
      const stack = unexpected && error instanceof Error ? { stack: error.stack } : {};
      telemetry.fileFinished({ ref, outcome, durationSeconds: durationSeconds(), error: errorMessage(error), ...stack });
      return { kind: 'failed', error };
    }
  }

  async function attempt(message: Message): Promise<MessageHandling> {
    if (deps.isDraining()) return { kind: 'notStarted' };
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
    const settled = await Promise.allSettled(parsed.objects.map((ref) => deps.limit(() => processOne(ref))));
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
    return decideFate(handling, { receiveCount: receiveCountOf(message), retryPolicy: deps.retryPolicy, releasing: deps.releaseSignal.aborted });
  };
}
