/**
 * SQS's JSON protocol, as the local stack's hooks need it: which action a request is, and how SQS
 * answers an error, `__type` naming the error (the SDK raises an error of that name) and
 * `x-amzn-query-error` carrying the query-protocol code (the SDK's `Code`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** `SendMessage` for an SQS JSON-protocol request (`POST /`, `X-Amz-Target: AmazonSQS.SendMessage`). */
export function sqsActionOf(request: FastifyRequest): string | undefined {
  if (request.method !== 'POST' || request.routeOptions.url !== '/') return undefined;
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : undefined;
}

/** An SQS API error answered as SQS answers over its JSON protocol. */
export class SqsRequestError extends Error {
  readonly code: string;
  readonly statusCode: number;

  constructor(code: string, message: string, statusCode = 400) {
    super(message);
    this.name = 'SqsRequestError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

export function sendSqsError(reply: FastifyReply, error: SqsRequestError): FastifyReply {
  return reply
    .status(error.statusCode)
    .header('content-type', 'application/x-amz-json-1.0')
    .header('x-amzn-query-error', `${error.code};Sender`)
    .send(JSON.stringify({ __type: sqsErrorType(error.code), message: error.message }));
}

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
const INVALID_PARAMETER_VALUE_TYPE = 'com.amazon.coral.service#InvalidParameterValueException';

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
