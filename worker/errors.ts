/**
 * How a failed file is treated. Only a failure known to be transient (network, throttling, 5xx, timeouts,
 * a stream cut short) is retried through the visibility timeout, until the last receive the queue's
 * redrive policy allows; anything else, a `PermanentFileError` or an error nobody foresaw, would fail the
 * same way again and sends its message to the DLQ at once.
 */
import { isClockSkewError, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

export const PERMANENT_REASONS = {
  corruptGzip: 'corrupt_gzip',
  /** Not zstd the worker can read: corrupt, cut short in S3, or a frame needing a window over 8 MiB (worker/input/decompression.ts). */
  corruptZstd: 'corrupt_zstd',
  outputKeyCollision: 'output_key_collision',
  outputKeyTooLong: 'output_key_too_long',
  objectTooLarge: 'object_too_large',
  tooManyRecords: 'too_many_records',
  /** The event names a bucket that does not exist (S3 answered NoSuchBucket): a bad event, or the worker pointed at the wrong account or endpoint. */
  bucketNotFound: 'bucket_not_found',
  /** SOURCES is set and lists no source for the object's bucket and key: an event from a bucket or prefix the worker was not given. */
  unknownSource: 'unknown_source',
  /** An error the worker cannot classify: a bug or an unforeseen input; the log line has its stack. */
  unexpectedError: 'unexpected_error',
} as const;

export type PermanentReason = (typeof PERMANENT_REASONS)[keyof typeof PERMANENT_REASONS];

/**
 * Why a message that failed transiently on the last receive its queue's redrive policy allows was
 * dead-lettered by the worker. Not permanent: once the cause (an outage, throttling) is over, a
 * redrive may well succeed.
 */
export const RETRIES_EXHAUSTED_REASON = 'retries_exhausted';

export class PermanentFileError extends Error {
  readonly reason: PermanentReason;

  constructor(reason: PermanentReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentFileError';
    this.reason = reason;
  }
}

/** A failure that another attempt may not meet: the same object read again over a sound connection. */
export class TransientFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientFileError';
  }
}

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  /** Set by the SDK on modelled service errors: `server` when the service says the failure is its own. */
  readonly $fault?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function asAwsLike(error: unknown): AwsLikeError {
  return typeof error === 'object' && error !== null ? error : {};
}

/** S3 says the bucket itself does not exist; it answers with 404, like a missing key. */
export function isBucketMissing(error: unknown): boolean {
  const { name, code } = asAwsLike(error);
  return name === 'NoSuchBucket' || code === 'NoSuchBucket';
}

/** The object (or the version the event named) is gone: a newer event, if any, covers what replaced it. Not when its bucket is gone. */
export function isObjectMissing(error: unknown): boolean {
  if (isBucketMissing(error)) return false;
  const { name, $metadata } = asAwsLike(error);
  return name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

const ZLIB_DATA_ERRORS = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT', 'ERR_BUFFER_TOO_LARGE']);

export function isZlibDataError(error: unknown): boolean {
  const { code } = asAwsLike(error);
  return code !== undefined && ZLIB_DATA_ERRORS.has(code);
}

/**
 * Socket and stream failures the SDK's classification does not list (it has ECONNRESET, ECONNREFUSED,
 * EPIPE, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ENOTFOUND, EAI_AGAIN), e.g. a response body cut while read.
 */
const MORE_NETWORK_ERROR_CODES = new Set(['ECONNABORTED', 'ENETDOWN', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** Credentials that expired or could not be fetched for a moment are refreshed by the next attempt. */
const CREDENTIAL_ERROR_NAMES = new Set(['CredentialsProviderError', 'ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']);

const MAX_CAUSE_DEPTH = 5;

/**
 * Whether another attempt at the same file may succeed: the AWS SDK's own classification (throttling,
 * 5xx, timeouts, network and clock-skew errors), a service error the service calls its own fault, Node's
 * socket errors, expired credentials, and a `TransientFileError`, looking through `cause`. Anything else
 * is not transient.
 */
export function isTransientFailure(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || error instanceof PermanentFileError) return false;
  if (error instanceof TransientFileError) return true;
  const { name = '', code = '', $fault } = asAwsLike(error);
  if ($fault === 'server') return true;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  if (isTransientError(sdkError) || isThrottlingError(sdkError) || isServerError(sdkError) || isClockSkewError(sdkError)) return true;
  if (MORE_NETWORK_ERROR_CODES.has(code) || CREDENTIAL_ERROR_NAMES.has(name)) return true;
  const { cause } = error as { cause?: unknown };
  return cause !== undefined && depth < MAX_CAUSE_DEPTH && isTransientFailure(cause, depth + 1);
}
