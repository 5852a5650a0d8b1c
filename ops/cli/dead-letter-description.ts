/**
 * What an operator wants to know about a DLQ message, as data: which S3 objects it names (read with
 * the worker's own parser) and why it was dead-lettered. Pure.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../worker/queue/dead-letter.ts';
import { parseMessageBody } from '../../worker/common/events.ts';
import { isoFromEpochMs } from './format.ts';

export type DeadLetterFailure =
  /** The worker sent it to the DLQ at once, saying why in message attributes. */
  | { readonly by: 'worker'; readonly reason: string; readonly detail: string | undefined }
  /** SQS moved it after maxReceiveCount receives (transient failures every time). */
  | { readonly by: 'redrive-policy'; readonly receiveCount: number | undefined };

export type BodyContent =
  | { readonly kind: 'objects'; readonly objects: ReadonlyArray<{ readonly bucket: string; readonly key: string }> }
  | { readonly kind: 'test-event' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'unreadable'; readonly problem: string; readonly preview: string };

export interface DeadLetterDescription {
  readonly messageId: string;
  /** Receives before the one that read it for this description. */
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

/** `receivesByReader`: receives made to read it (1 for a peek), not counted as the message's history. */
export function describeDeadLetter(message: Message, receivesByReader: number): DeadLetterDescription {
  const attributes = message.MessageAttributes ?? {};
  const reason = attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue;
  const rawCount = Number(message.Attributes?.ApproximateReceiveCount);
  const receiveCount = Number.isFinite(rawCount) ? Math.max(0, rawCount - receivesByReader) : undefined;
  return {
    messageId: message.MessageId ?? '(no id)',
    receiveCount,
    firstReceivedAt: isoFromEpochMs(message.Attributes?.ApproximateFirstReceiveTimestamp),
    sentAt: isoFromEpochMs(message.Attributes?.SentTimestamp),
    content: contentOf(message.Body),
    failure:
      reason === undefined
        ? { by: 'redrive-policy', receiveCount }
        : { by: 'worker', reason, detail: attributes[DEAD_LETTER_ATTRIBUTES.detail]?.StringValue },
  };
}

export function failureText(failure: DeadLetterFailure): string {
  if (failure.by === 'worker') return `worker: ${failure.reason}${failure.detail ? ` (${failure.detail})` : ''}`;
  return `redrive policy: received ${failure.receiveCount ?? '?'} times`;
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
    description.receiveCount === undefined ? undefined : `received ${description.receiveCount}×`,
    description.firstReceivedAt === undefined ? undefined : `first ${description.firstReceivedAt}`,
    description.sentAt === undefined ? undefined : `sent ${description.sentAt}`,
  ].filter((part) => part !== undefined);
  return [
    `${description.messageId}${history.length > 0 ? `  (${history.join(', ')})` : ''}`,
    ...contentLines(description.content).map((line) => `  ${line}`),
    `  why: ${failureText(description.failure)}`,
  ];
}
