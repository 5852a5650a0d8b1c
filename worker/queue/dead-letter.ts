import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, type Message, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_PAYLOAD_BYTES, sqsMessageBytes } from '../common/sqs-limits.ts';

/** Message attributes that tell an operator why a message was dead-lettered by the worker itself. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'ingest-failure-reason',
  detail: 'ingest-failure-detail',
  sourceMessageId: 'ingest-source-message-id',
} as const;

const MAX_DETAIL_LENGTH = 1_000;

export class DeadLetterQueueError extends Error {
  override readonly name = 'DeadLetterQueueError';
}

function deadLetterTargetOf(policy: string, queueUrl: string): string | undefined {
  try {
    return (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  } catch {
    throw new DeadLetterQueueError(`the redrive policy of ${queueUrl} is not JSON: ${policy}`);
  }
}

/** Finds the DLQ from the ingest queue's redrive policy; also proves the queue is reachable at start. */
export async function discoverDeadLetterQueue(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = Attributes?.RedrivePolicy;
  const targetArn = policy === undefined ? undefined : deadLetterTargetOf(policy, queueUrl);
  if (targetArn === undefined) {
    throw new DeadLetterQueueError(`the queue ${queueUrl} has no redrive policy; give it a dead-letter queue or set DLQ_URL`);
  }
  const arn = /^arn:[^:]+:sqs:[^:]*:(\d*):(.+)$/.exec(targetArn);
  if (!arn) throw new DeadLetterQueueError(`the redrive policy of ${queueUrl} names ${targetArn}, which is not an SQS queue ARN`);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: arn[2], ...(arn[1] ? { QueueOwnerAWSAccountId: arn[1] } : {}) }));
  if (QueueUrl === undefined) throw new DeadLetterQueueError(`no URL for the dead-letter queue ${targetArn}`);
  return QueueUrl;
}

/**
 * The attributes that say why, as many as fit: a body close to SQS's 1 MiB leaves no room for all of
 * them, and a copy that SQS refuses would leave the message retrying instead of in the DLQ. The detail
 * goes first, then the source id; the body always goes.
 */
export function deadLetterAttributes(body: string, reason: string, detail: string, sourceMessageId: string): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const attributes: Record<string, MessageAttributeValue> = {
    [DEAD_LETTER_ATTRIBUTES.reason]: text(reason),
    [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: text(sourceMessageId),
    [DEAD_LETTER_ATTRIBUTES.detail]: text(detail.slice(0, MAX_DETAIL_LENGTH)),
  };
  for (const expendable of [DEAD_LETTER_ATTRIBUTES.detail, DEAD_LETTER_ATTRIBUTES.sourceMessageId, DEAD_LETTER_ATTRIBUTES.reason]) {
    if (sqsMessageBytes(body, attributes) <= SQS_MAX_PAYLOAD_BYTES) break;
    delete attributes[expendable];
  }
  return attributes;
}

/** Sends a copy of `message` to the DLQ with the reason attached; the caller then deletes the original. */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  message: Message,
  reason: string,
  detail: string,
): Promise<void> {
  // An empty body cannot be sent; the attributes still say what happened.
  const body = message.Body || '(empty message body)';
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      MessageBody: body,
      MessageAttributes: deadLetterAttributes(body, reason, detail, message.MessageId ?? 'unknown'),
    }),
  );
}
