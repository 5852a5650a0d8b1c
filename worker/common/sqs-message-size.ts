import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/** SQS's limit for one message, body and attributes, and for a whole SendMessageBatch: 1 MiB since August 2025. */
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
