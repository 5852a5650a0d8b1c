/**
 * What an operator wants to know about a DLQ message, as data: which S3 objects it names (read with
 * the worker's own parser) and why it was dead-lettered. Pure.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../worker/queue/dead-letter.ts';
import { parseMessageBody } from '../../worker/common/events.ts';
import { recordedReasonOf } from './dead-letter-reasons.ts';
import { isoFromEpochMs } from './format.ts';

export type DeadLetterFailure =
  /** The worker sent it to the DLQ itself, saying why in message attributes. */
  | { readonly by: 'worker'; readonly reason: string; readonly detail: string | undefined }
  /** No reason recorded: SQS moved it after maxReceiveCount receives (transient failures every time). */
  | { readonly by: 'redrive-policy' };

export type BodyContent =
  | { readonly kind: 'objects'; readonly objects: ReadonlyArray<{ readonly bucket: string; readonly key: string }> }
  | { readonly kind: 'test-event' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'unreadable'; readonly problem: string; readonly preview: string };

export interface DeadLetterDescription {
  readonly messageId: string;
  /**
   * SQS's ApproximateReceiveCount as the read that made this description returned it: that read is
   * counted, and so is every earlier peek. A message the worker dead-lettered itself is a new message
   * in the DLQ, whose count starts at 0 there.
   */
  readonly receiveCount: number | undefined;
  readonly firstReceivedAt: string | undefined;
  readonly sentAt: string | undefined;
  readonly content: BodyContent;
  readonly failure: DeadLetterFailure;
}

const PREVIEW_CHARACTERS = 120;

function contentOf(body: string | undefined): BodyContent {
  try {
    const parsed = parseMessageBody(body);
    switch (parsed.kind) {
      case 'objects':
        return { kind: 'objects', objects: parsed.objects.map(({ bucket, key }) => ({ bucket, key })) };
      case 'test-event':
        return { kind: 'test-event' };
      case 'ignored':
        return { kind: 'ignored', reason: parsed.reason };
    }
  } catch (error) {
    const text = body ?? '';
    return {
      kind: 'unreadable',
      problem: error instanceof Error ? error.message : String(error),
      preview: text.length > PREVIEW_CHARACTERS ? `${text.slice(0, PREVIEW_CHARACTERS)}…` : text,
    };
  }
}

export function describeDeadLetter(message: Message): DeadLetterDescription {
  const reason = recordedReasonOf(message);
  const count = message.Attributes?.ApproximateReceiveCount;
  const receiveCount = count !== undefined && /^\d+$/.test(count) ? Number(count) : undefined;
  return {
    messageId: message.MessageId ?? '(no id)',
    receiveCount,
    firstReceivedAt: isoFromEpochMs(message.Attributes?.ApproximateFirstReceiveTimestamp),
    sentAt: isoFromEpochMs(message.Attributes?.SentTimestamp),
    content: contentOf(message.Body),
    failure:
      reason === undefined
        ? { by: 'redrive-policy' }
        : { by: 'worker', reason, detail: message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.detail]?.StringValue },
  };
}

export function failureText(failure: DeadLetterFailure): string {
  if (failure.by === 'worker') return `worker: ${failure.reason}${failure.detail ? ` (${failure.detail})` : ''}`;
  return 'no reason recorded: most likely moved by SQS after maxReceiveCount receives (transient failures, or a worker stopped on the last one)';
}

export function contentLines(content: BodyContent): string[] {
  switch (content.kind) {
    case 'objects':
      return content.objects.map(({ bucket, key }) => `s3://${bucket}/${key}`);
    case 'test-event':
      return ['(s3:TestEvent: names no object)'];
    case 'ignored':
      return [`(names no object to process: ${content.reason})`];
    case 'unreadable':
      return [`(not an S3 event: ${content.problem}) ${JSON.stringify(content.preview)}`];
  }
}

/** A few lines per message: id and history, the objects, the reason. */
export function describeLines(description: DeadLetterDescription): string[] {
  const history = [
    description.receiveCount === undefined ? undefined : `receive count ${description.receiveCount}`,
    description.firstReceivedAt === undefined ? undefined : `first ${description.firstReceivedAt}`,
    description.sentAt === undefined ? undefined : `sent ${description.sentAt}`,
  ].filter((part) => part !== undefined);
  return [
    `${description.messageId}${history.length > 0 ? `  (${history.join(', ')})` : ''}`,
    ...contentLines(description.content).map((line) => `  ${line}`),
    `  why: ${failureText(description.failure)}`,
  ];
}
