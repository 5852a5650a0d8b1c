/**
 * A message's fate, decided from plain values: what handling it came to (the objects it names
 * processed, failed or not started), how often it was received and how often the queue's redrive
 * policy allows, the retry policy, and whether the shutdown grace period is over. The consumer pool
 * carries the fate out.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { backoffDelay } from '../common/backoff.ts';
import { PoisonMessageError } from '../common/events.ts';
import { isTransientFailure, PERMANENT_REASONS, PermanentFileError, RETRIES_EXHAUSTED_REASON } from '../errors.ts';
import { errorMessage } from '../common/error-message.ts';

export const FATE_KINDS = {
  /** Done, or nothing to do: the message goes. */
  delete: 'delete',
  /** A transient failure before the last allowed receive: the message comes back after a backoff. */
  retry: 'retry',
  /**
   * Would fail the same way again, or failed on the last receive the redrive policy allows: a copy goes
   * to the DLQ with the reason, then the message goes.
   */
  deadLetter: 'deadLetter',
  /** Shutting down: the message is visible again at once, for another worker. */
  release: 'release',
} as const;

export type MessageFate =
  | { readonly kind: typeof FATE_KINDS.delete }
  | { readonly kind: typeof FATE_KINDS.retry; readonly afterSeconds: number; readonly receiveCount: number; readonly error: string }
  | { readonly kind: typeof FATE_KINDS.deadLetter; readonly reason: string; readonly detail: string }
  | { readonly kind: typeof FATE_KINDS.release };

export interface RetryPolicy {
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
}

/** What became of one object the message names. */
export type ObjectAttempt =
  | { readonly kind: 'done' }
  /** Shutdown began before it could start. */
  | { readonly kind: 'notStarted' }
  | { readonly kind: 'failed'; readonly error: unknown };

/** What handling a message came to. */
export type MessageHandling =
  /** Shutdown had begun when it arrived: nothing was tried. */
  | { readonly kind: 'notStarted' }
  /** Well-formed with nothing to do: an s3:TestEvent, or events other than object creation. */
  | { readonly kind: 'nothingToDo' }
  /** The body could not be parsed; parsing is pure, so it would fail again. */
  | { readonly kind: 'unreadable'; readonly error: unknown }
  | { readonly kind: 'objectsAttempted'; readonly attempts: readonly ObjectAttempt[] }
  /** Handling failed outside any one object, e.g. the DLQ refused the copy. */
  | { readonly kind: 'handlingFailed'; readonly error: unknown };

export interface FateContext {
  readonly receiveCount: number;
  /**
   * The ingest queue's redrive policy moves a message to the DLQ instead of giving it receive
   * maxReceiveCount + 1; undefined when the queue has no redrive policy (then nothing is a last receive).
   */
  readonly maxReceiveCount: number | undefined;
  readonly retryPolicy: RetryPolicy;
  /** The shutdown grace period is over: files still running were aborted. */
  readonly releasing: boolean;
}

/** ApproximateReceiveCount, or 1 when SQS did not say. */
export function receiveCountOf(message: Pick<Message, 'Attributes'>): number {
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

/** Visibility before the next attempt: base × 2^(receives − 1), capped. */
export function retryDelaySeconds(receiveCount: number, policy: RetryPolicy): number {
  return backoffDelay(receiveCount, { firstDelay: policy.backoffBaseSeconds, maxDelay: policy.backoffMaxSeconds });
}

/** Whether SQS would give the message no further receive: this was receive maxReceiveCount (or later). */
export function isLastAllowedReceive(receiveCount: number, maxReceiveCount: number | undefined): boolean {
  return maxReceiveCount !== undefined && receiveCount >= maxReceiveCount;
}

/** Retry after the backoff that the receive count earns. */
export function retryFate(error: unknown, receiveCount: number, policy: RetryPolicy): MessageFate {
  return { kind: FATE_KINDS.retry, afterSeconds: retryDelaySeconds(receiveCount, policy), receiveCount, error: errorMessage(error) };
}

function deadLetterFate(reason: string, detail: string): MessageFate {
  return { kind: FATE_KINDS.deadLetter, reason, detail };
}

/** An error nobody classified would fail the same way again too. */
function deadLetterForFile(error: unknown): MessageFate {
  if (error instanceof PermanentFileError) return deadLetterFate(error.reason, error.message);
  return deadLetterFate(PERMANENT_REASONS.unexpectedError, errorMessage(error));
}

function deadLetterForBody(error: unknown): MessageFate {
  if (error instanceof PoisonMessageError) return deadLetterFate(error.reason, error.detail);
  return deadLetterFate(PERMANENT_REASONS.unexpectedError, errorMessage(error));
}

/**
 * What a failure worth another attempt earns: a retry after the backoff, or, on the last receive the
 * redrive policy allows, the DLQ at once with the reason and the last error (SQS would move it later,
 * saying nothing).
 */
function retryWhileReceivesLeft(error: unknown, context: FateContext, failed: 'failed transiently' | 'failed'): MessageFate {
  const { receiveCount, maxReceiveCount } = context;
  if (isLastAllowedReceive(receiveCount, maxReceiveCount)) {
    return deadLetterFate(RETRIES_EXHAUSTED_REASON, `${failed} on receive ${receiveCount} of ${maxReceiveCount}: ${errorMessage(error)}`);
  }
  return retryFate(error, receiveCount, context.retryPolicy);
}

function fateOfAttempts(attempts: readonly ObjectAttempt[], context: FateContext): MessageFate {
  const unfinished = attempts.filter((attempt) => attempt.kind !== 'done');
  if (unfinished.length === 0) return { kind: FATE_KINDS.delete };
  if (context.releasing || unfinished.some((attempt) => attempt.kind === 'notStarted')) return { kind: FATE_KINDS.release };
  const errors = unfinished.flatMap((attempt) => (attempt.kind === 'failed' ? [attempt.error] : []));
  // Dead-lettered only when nothing could still succeed: a transient failure next to it earns a retry.
  const transient = errors.find((error) => isTransientFailure(error));
  if (transient !== undefined) return retryWhileReceivesLeft(transient, context, 'failed transiently');
  return deadLetterForFile(errors[0]);
}

/** The one place that decides what happens to a message. */
export function decideFate(handling: MessageHandling, context: FateContext): MessageFate {
  switch (handling.kind) {
    case 'notStarted':
      return { kind: FATE_KINDS.release };
    case 'nothingToDo':
      return { kind: FATE_KINDS.delete };
    case 'unreadable':
      return deadLetterForBody(handling.error);
    case 'objectsAttempted':
      return fateOfAttempts(handling.attempts, context);
    case 'handlingFailed':
      return retryWhileReceivesLeft(handling.error, context, 'failed');
  }
}
