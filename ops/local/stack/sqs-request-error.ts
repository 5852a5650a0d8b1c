import type { FastifyReply } from 'fastify';
import { sqsErrorType } from './sqs-query-error.ts';

/**
 * An SQS API error answered as SQS answers over its JSON protocol: `__type` names the error (the
 * SDK raises an error of that name) and `x-amzn-query-error` carries the query-protocol code, which
 * the SDK exposes as `Code`.
 */
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

/** The errors SQS answers to a request that breaks one of its limits, each with SQS's own wording. */
export const sqsErrors = {
  tooManyMessageAttributes: (count: number) =>
    new SqsRequestError('InvalidParameterValue', `Number of message attributes [${count}] exceeds the allowed maximum [10].`),
  staleReceiptHandle: (receiptHandle: string) =>
    new SqsRequestError(
      'InvalidParameterValue',
      `Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
    ),
  visibilityBeyondLimit: (visibilityTimeoutSeconds: number, limitSeconds: number) =>
    new SqsRequestError(
      'InvalidParameterValue',
      `Value ${visibilityTimeoutSeconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${limitSeconds} seconds]`,
    ),
} as const;

export function sendSqsError(reply: FastifyReply, error: SqsRequestError): FastifyReply {
  return reply
    .status(error.statusCode)
    .header('content-type', 'application/x-amz-json-1.0')
    .header('x-amzn-query-error', `${error.code};Sender`)
    .send(JSON.stringify({ __type: sqsErrorType(error.code), message: error.message }));
}
