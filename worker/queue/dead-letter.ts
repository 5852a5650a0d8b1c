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

/** What the ingest queue's redrive policy says, as far as the worker needs it. */
export interface RedrivePolicy {
  readonly deadLetterTargetArn: string | undefined;
  /** Receives SQS gives a message before it moves it to the DLQ; undefined when the policy does not say. */
  readonly maxReceiveCount: number | undefined;
}

/** Where the worker sends what it dead-letters, and how many receives the redrive policy allows. */
export interface DeadLetterRouting {
  readonly deadLetterQueueUrl: string;
  /** Undefined when the ingest queue has no redrive policy (DLQ_URL given): no receive is known to be the last. */
  readonly maxReceiveCount: number | undefined;
}

/** Parses RedrivePolicy as SQS returns it; maxReceiveCount may be a number or a string. */
export function parseRedrivePolicy(policy: string, queueUrl: string): RedrivePolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch {
    throw new DeadLetterQueueError(`the redrive policy of ${queueUrl} is not JSON: ${policy}`);
  }
  const { deadLetterTargetArn, maxReceiveCount } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const target = typeof deadLetterTargetArn === 'string' && deadLetterTargetArn !== '' ? deadLetterTargetArn : undefined;
  const count = typeof maxReceiveCount === 'number' || typeof maxReceiveCount === 'string' ? Number(maxReceiveCount) : Number.NaN;
  // Without a target SQS moves nothing, however often a message is received.
  const receivesAllowed = target !== undefined && Number.isInteger(count) && count >= 1 ? count : undefined;
  return { deadLetterTargetArn: target, maxReceiveCount: receivesAllowed };
}

/** The ingest queue's redrive policy, or undefined without one; also proves the queue is reachable at start. */
export async function readRedrivePolicy(sqs: SQSClient, queueUrl: string): Promise<RedrivePolicy | undefined> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = Attributes?.RedrivePolicy;
  return policy === undefined || policy === '' ? undefined : parseRedrivePolicy(policy, queueUrl);
}

async function deadLetterQueueUrlOf(sqs: SQSClient, queueUrl: string, policy: RedrivePolicy | undefined): Promise<string> {
  const targetArn = policy?.deadLetterTargetArn;
  if (targetArn === undefined) {
    throw new DeadLetterQueueError(`the queue ${queueUrl} has no redrive policy; give it a dead-letter queue or set DLQ_URL`);
  }
  const arn = /^arn:[^:]+:sqs:[^:]*:(\d*):(.+)$/.exec(targetArn);
  if (!arn) throw new DeadLetterQueueError(`the redrive policy of ${queueUrl} names ${targetArn}, which is not an SQS queue ARN`);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: arn[2], ...(arn[1] ? { QueueOwnerAWSAccountId: arn[1] } : {}) }));
  if (QueueUrl === undefined) throw new DeadLetterQueueError(`no URL for the dead-letter queue ${targetArn}`);
  return QueueUrl;
}

/** Finds the DLQ from the ingest queue's redrive policy; also proves the queue is reachable at start. */
export async function discoverDeadLetterQueue(sqs: SQSClient, queueUrl: string): Promise<string> {
  return deadLetterQueueUrlOf(sqs, queueUrl, await readRedrivePolicy(sqs, queueUrl));
}

/**
 * The DLQ (`explicitUrl`, else the one the redrive policy names) and the policy's maxReceiveCount, read
 * once at start: the redrive policy is read even when the DLQ is given, for its maxReceiveCount.
 */
export async function resolveDeadLetterRouting(sqs: SQSClient, queueUrl: string, explicitUrl: string | undefined): Promise<DeadLetterRouting> {
  const policy = await readRedrivePolicy(sqs, queueUrl);
  const deadLetterQueueUrl = explicitUrl ?? (await deadLetterQueueUrlOf(sqs, queueUrl, policy));
  return { deadLetterQueueUrl, maxReceiveCount: policy?.maxReceiveCount };
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
