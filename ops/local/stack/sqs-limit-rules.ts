// SQS's limits that the emulator does not check itself, as plain functions of the request. The
// emulator already refuses, as SQS does: more than 10 entries in a batch, empty batches, duplicate
// or malformed entry ids, a message (body plus attributes) over the queue's MaximumMessageSize,
// a batch over 1 MiB in all, and a VisibilityTimeout outside 0..43,200 in any one request.
import type { ReceiptHandleState } from './receipt-handles.ts';
import { sqsErrors, type SqsRequestError } from './sqs-request-error.ts';

export const SQS_LIMITS = {
  maxMessageAttributes: 10,
  maxBatchEntries: 10,
  /** 1 MiB since August 2025, for one message and for a whole SendMessageBatch. */
  maxPayloadBytes: 1_048_576,
  /** 12 hours from the ReceiveMessage that handed out the receipt handle; extending does not reset it. */
  maxVisibilitySeconds: 43_200,
} as const;

const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface MessageAttributeValue {
  readonly DataType?: unknown;
  readonly StringValue?: unknown;
  readonly BinaryValue?: unknown;
}

export function messageAttributesError(attributes: unknown): SqsRequestError | undefined {
  const count = isRecord(attributes) ? Object.keys(attributes).length : 0;
  return count > SQS_LIMITS.maxMessageAttributes ? sqsErrors.tooManyMessageAttributes(count) : undefined;
}

/**
 * Whether a batch passes SQS's checks on the batch as a whole. Only then may entries be failed one
 * by one: taking an entry out of a batch that SQS refuses whole would turn its refusal into a success.
 */
export function isWellFormedBatch(entries: unknown): entries is ReadonlyArray<Record<string, unknown>> {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > SQS_LIMITS.maxBatchEntries) return false;
  const ids = new Set<string>();
  for (const entry of entries as unknown[]) {
    if (!isRecord(entry) || typeof entry['Id'] !== 'string' || !BATCH_ENTRY_ID.test(entry['Id']) || ids.has(entry['Id'])) return false;
    ids.add(entry['Id']);
  }
  return true;
}

/** A message's size as SQS counts it against its limits: the body and every attribute's name, type and value. */
export function messageSizeBytes(body: unknown, attributes: unknown): number {
  let size = typeof body === 'string' ? Buffer.byteLength(body) : 0;
  if (!isRecord(attributes)) return size;
  for (const [name, value] of Object.entries(attributes)) {
    const attribute: MessageAttributeValue = isRecord(value) ? value : {};
    size += Buffer.byteLength(name);
    for (const part of [attribute.DataType, attribute.StringValue, attribute.BinaryValue]) {
      if (typeof part === 'string') size += Buffer.byteLength(part);
    }
  }
  return size;
}

/** ChangeMessageVisibility on a handle: SQS's refusal, or undefined to let the request through. */
export function visibilityChangeError(
  receiptHandle: string,
  state: ReceiptHandleState,
  visibilityTimeoutSeconds: unknown,
  nowMs: number,
): SqsRequestError | undefined {
  if (state.kind === 'stale') return sqsErrors.staleReceiptHandle(receiptHandle);
  if (state.kind === 'unknown' || typeof visibilityTimeoutSeconds !== 'number') return undefined;
  // Outside 0..43,200 the emulator answers SQS's own error for the parameter.
  if (visibilityTimeoutSeconds < 0 || visibilityTimeoutSeconds > SQS_LIMITS.maxVisibilitySeconds) return undefined;
  // To the millisecond: a client that counts whole seconds from its receive stays within what SQS takes.
  const elapsedSeconds = (nowMs - state.receivedAtMs) / 1000;
  if (elapsedSeconds + visibilityTimeoutSeconds > SQS_LIMITS.maxVisibilitySeconds) {
    return sqsErrors.visibilityBeyondLimit(visibilityTimeoutSeconds, SQS_LIMITS.maxVisibilitySeconds);
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
