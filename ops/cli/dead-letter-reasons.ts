/**
 * The failure reasons the worker records on a message it dead-letters itself (message attribute
 * `ingest-failure-reason`), and which of them mean the message would fail again if redriven as it is.
 * Pure; the reasons come from the worker, which owns them.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { POISON_REASONS } from '../../worker/common/events.ts';
import { PERMANENT_REASONS, RETRIES_EXHAUSTED_REASON } from '../../worker/errors.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../worker/queue/dead-letter.ts';

/** Recorded when a transient failure used up the message's last allowed receive: worth redriving once the outage is over. */
export const RETRIES_EXHAUSTED = RETRIES_EXHAUSTED_REASON;

/** What `--reason` takes for a message with no recorded reason (moved by SQS after maxReceiveCount). */
export const NO_RECORDED_REASON = 'none';

/** Every reason the worker records, in a stable order for help and error texts. */
export const RECORDED_REASONS: readonly string[] = [...Object.values(POISON_REASONS), ...Object.values(PERMANENT_REASONS), RETRIES_EXHAUSTED];

/** The reason the worker recorded on the message; undefined when it has none. */
export function recordedReasonOf(message: Message): string | undefined {
  return message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue;
}

/**
 * Whether a redrive would meet the same failure unless something changed first (the object uploaded
 * again, the bug fixed): every recorded reason but an exhausted retry. A message without a reason
 * failed transiently every time and is worth redriving.
 */
export function willFailAgain(reason: string | undefined): boolean {
  return reason !== undefined && reason !== RETRIES_EXHAUSTED;
}
