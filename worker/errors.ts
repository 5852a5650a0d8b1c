/**
 * How a failed file is treated. A `PermanentFileError` can never succeed on retry and sends its message
 * to the DLQ at once; every other error is taken as transient and retried through the visibility timeout.
 */

export const PERMANENT_REASONS = {
  corruptGzip: 'corrupt_gzip',
  outputKeyCollision: 'output_key_collision',
  outputKeyTooLong: 'output_key_too_long',
  objectTooLarge: 'object_too_large',
  tooManyRecords: 'too_many_records',
} as const;

export type PermanentReason = (typeof PERMANENT_REASONS)[keyof typeof PERMANENT_REASONS];

export class PermanentFileError extends Error {
  readonly reason: PermanentReason;

  constructor(reason: PermanentReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentFileError';
    this.reason = reason;
  }
}

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function asAwsLike(error: unknown): AwsLikeError {
  return typeof error === 'object' && error !== null ? error : {};
}

/** The object (or the version the event named) is gone: a newer event, if any, covers what replaced it. */
export function isObjectMissing(error: unknown): boolean {
  const { name, $metadata } = asAwsLike(error);
  return name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

const ZLIB_DATA_ERRORS = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT', 'ERR_BUFFER_TOO_LARGE']);

export function isZlibDataError(error: unknown): boolean {
  const { code } = asAwsLike(error);
  return code !== undefined && ZLIB_DATA_ERRORS.has(code);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
