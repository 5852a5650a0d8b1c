/**
 * What happens to one SQS message: parse it, process each object it names, and decide its fate:
 * delete (done, or nothing to do), dead-letter now (would fail the same way again: a permanent or an
 * unforeseen error), retry after a backoff (a failure known to be transient), or release at once
 * (shutting down).
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { LimitFunction } from 'p-limit';
import { errorMessage, isTransientFailure, PERMANENT_REASONS, PermanentFileError } from '../errors.ts';
import { parseMessageBody, PoisonMessageError, type ObjectRef } from '../common/events.ts';
import type { FileResult } from '../process-object.ts';
import type { FileOutcome, Telemetry } from '../telemetry.ts';

export interface RetryPolicy {
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
}

/** Visibility before the next attempt: base × 2^(receives − 1), capped. */
export function retryDelaySeconds(receiveCount: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, receiveCount - 1);
  return Math.min(policy.backoffMaxSeconds, policy.backoffBaseSeconds * 2 ** Math.min(exponent, 30));
}

export function receiveCountOf(message: Message): number {
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

export interface MessageHandlerDeps {
  readonly telemetry: Telemetry;
  readonly processFile: (ref: ObjectRef, signal: AbortSignal) => Promise<FileResult>;
  /** The one bound on files in flight, shared by every poller. */
  readonly limit: LimitFunction;
  readonly deadLetter: (message: Message, reason: string, detail: string) => Promise<void>;
  readonly retryPolicy: RetryPolicy;
  /** True once shutdown began: no new file starts. */
  readonly isDraining: () => boolean;
  /** Aborted when the grace period is over: files still running stop and their messages are released. */
  readonly releaseSignal: AbortSignal;
  readonly nowMs: () => number;
}

/** Thrown to put a message back on the queue at once, for another worker. */
class ReleaseMessage extends Error {
  override readonly name = 'ReleaseMessage';
}

export interface MessageHandler {
  readonly handle: (message: Message) => Promise<Message | undefined>;
  /** The visibility timeout to set on a message whose handling threw; asked once per failure. */
  readonly visibilityAfterFailure: (message: Message) => number;
}

export function createMessageHandler(deps: MessageHandlerDeps): MessageHandler {
  const { telemetry } = deps;
  const visibilityAfterFailure = new Map<string, number>();

  async function processOne(ref: ObjectRef): Promise<void> {
    if (deps.isDraining()) throw new ReleaseMessage('shutting down before the file started');
    telemetry.fileStarted();
    const started = deps.nowMs();
    const durationSeconds = () => (deps.nowMs() - started) / 1000;
    try {
      const result = await deps.processFile(ref, deps.releaseSignal);
      telemetry.fileFinished({ ref, outcome: result.outcome, durationSeconds: durationSeconds(), result });
    } catch (error) {
      const outcome: FileOutcome = deps.releaseSignal.aborted ? 'released' : isTransientFailure(error) ? 'failed_transient' : 'failed_permanent';
      // An error nobody foresaw is a bug to find: its stack goes with it.
      const unexpected = outcome === 'failed_permanent' && !(error instanceof PermanentFileError);
      const stack = unexpected && error instanceof Error ? { stack: error.stack } : {};
      telemetry.fileFinished({ ref, outcome, durationSeconds: durationSeconds(), error: errorMessage(error), ...stack });
      throw error;
    }
  }

  function release(message: Message): never {
    visibilityAfterFailure.set(message.MessageId ?? '', 0);
    telemetry.messageReleased(message.MessageId);
    throw new ReleaseMessage(`message ${message.MessageId} released`);
  }

  async function handleOrThrow(message: Message): Promise<Message | undefined> {
    if (deps.isDraining()) release(message);

    let objects: readonly ObjectRef[];
    try {
      const parsed = parseMessageBody(message.Body);
      if (parsed.kind === 'test-event') {
        telemetry.messageIgnored(message.MessageId, 'test_event', `s3:TestEvent for bucket ${parsed.bucket ?? '?'}`);
        return message;
      }
      if (parsed.kind === 'ignored') {
        telemetry.messageIgnored(message.MessageId, 'other_event', parsed.reason);
        return message;
      }
      objects = parsed.objects;
    } catch (error) {
      // Parsing is pure: whatever it throws, it would throw again.
      if (error instanceof PoisonMessageError) return deadLetter(message, error.reason, error.message);
      return deadLetter(message, PERMANENT_REASONS.unexpectedError, errorMessage(error));
    }

    const settled = await Promise.allSettled(objects.map((ref) => deps.limit(() => processOne(ref))));
    const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    if (failures.length === 0) return message;
    if (deps.releaseSignal.aborted || failures.some((failure) => failure instanceof ReleaseMessage)) release(message);

    // Dead-lettered only when nothing could still succeed: a transient failure next to it earns a retry.
    const transient = failures.find((failure) => isTransientFailure(failure));
    if (transient !== undefined) throw transient as Error;
    const [first] = failures;
    if (first instanceof PermanentFileError) return deadLetter(message, first.reason, first.message);
    return deadLetter(message, PERMANENT_REASONS.unexpectedError, errorMessage(first));
  }

  async function deadLetter(message: Message, reason: string, detail: string): Promise<Message> {
    await deps.deadLetter(message, reason, detail);
    telemetry.messageDeadLettered(message.MessageId, reason, detail);
    return message;
  }

  async function handle(message: Message): Promise<Message | undefined> {
    telemetry.messageReceived();
    try {
      return await handleOrThrow(message);
    } catch (error) {
      if (error instanceof ReleaseMessage) throw error;
      const receiveCount = receiveCountOf(message);
      const delaySeconds = retryDelaySeconds(receiveCount, deps.retryPolicy);
      visibilityAfterFailure.set(message.MessageId ?? '', delaySeconds);
      telemetry.messageRetried(message.MessageId, receiveCount, delaySeconds, errorMessage(error));
      throw error;
    }
  }

  return {
    handle,
    visibilityAfterFailure: (message: Message): number => {
      const id = message.MessageId ?? '';
      const seconds = visibilityAfterFailure.get(id) ?? retryDelaySeconds(receiveCountOf(message), deps.retryPolicy);
      visibilityAfterFailure.delete(id);
      return seconds;
    },
  };
}
