/** SQS's limits that the worker, the trigger and the CLI must all respect, and how SQS counts a message against them. */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/** Entries in one batch request (SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch). */
export const SQS_MAX_BATCH_ENTRIES = 10;

/** One message, body and attributes, and a whole SendMessageBatch: 1 MiB since August 2025. */
export const SQS_MAX_PAYLOAD_BYTES = 1_048_576;

/** A message's size as SQS counts it against that limit: the body, and each attribute's name, type and value. */
export function sqsMessageBytes(body: string, attributes: Readonly<Record<string, MessageAttributeValue>> = {}): number {
  let bytes = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue);
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}
