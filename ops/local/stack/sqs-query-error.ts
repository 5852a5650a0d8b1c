// SQS answers its JSON protocol's errors with `x-amzn-query-error: <code>;Sender`, and the SDK names
// an error after that code. Only SQS's own errors carry the `AWS.SimpleQueueService.` prefix there
// (the SDK's model lists them in its awsQueryError traits); the common ones are bare:
// InvalidParameterValue, MissingParameter, ReceiptHandleIsInvalid, InvalidMessageContents, ...
// fauxqs prefixes every code, so its InvalidParameterValue reaches the caller as an error named
// `AWS.SimpleQueueService.InvalidParameterValue`, which no code written against SQS expects.

const PREFIX = 'AWS.SimpleQueueService.';

const PREFIXED_CODES = new Set([
  'BatchEntryIdsNotDistinct',
  'BatchRequestTooLong',
  'EmptyBatchRequest',
  'InvalidBatchEntryId',
  'MessageNotInflight',
  'NonExistentQueue',
  'PurgeQueueInProgress',
  'QueueDeletedRecently',
  'TooManyEntriesInBatchRequest',
  'UnsupportedOperation',
]);

/** The `__type` SQS answers for InvalidParameterValue, which is no error shape of its own model. */
export const INVALID_PARAMETER_VALUE_TYPE = 'com.amazon.coral.service#InvalidParameterValueException';

/** The header as SQS sends it for the same error, or undefined when fauxqs already sends that. */
export function sqsQueryErrorHeader(header: string): string | undefined {
  if (!header.startsWith(PREFIX)) return undefined;
  const code = header.slice(PREFIX.length).split(';')[0] ?? '';
  return PREFIXED_CODES.has(code) ? undefined : header.slice(PREFIX.length);
}

/** The JSON `__type` SQS sends with a query error code. */
export function sqsErrorType(code: string): string {
  return code === 'InvalidParameterValue' ? INVALID_PARAMETER_VALUE_TYPE : `com.amazonaws.sqs#${code}`;
}
