import { describe, it, expect } from '@jest/globals';
import { isBucketMissing, isObjectMissing, isTransientFailure, PermanentFileError, TransientFileError } from '../../../worker/errors.ts';

const withFields = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('isTransientFailure', () => {
  it.each([
    ['S3 throttling', withFields('Please reduce your request rate.', { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })],
    ['SQS throttling by status', withFields('Too many requests', { name: 'RequestThrottled', $metadata: { httpStatusCode: 429 } })],
    ['a 500 from S3', withFields('We encountered an internal error.', { name: 'InternalError', $metadata: { httpStatusCode: 500 } })],
    ['a service error marked as the server\'s fault', withFields('injected', { name: 'InternalError', $fault: 'server' })],
    ['any other 5xx', withFields('Not implemented here', { name: 'Whatever', $metadata: { httpStatusCode: 507 } })],
    ['the SDK request timeout', withFields('Connection timed out after 5000 ms', { name: 'TimeoutError' })],
    ['S3 RequestTimeout', withFields('Your socket connection to the server was not read from or written to', { name: 'RequestTimeout', $metadata: { httpStatusCode: 400 } })],
    ['a reset socket', withFields('socket hang up', { code: 'ECONNRESET' })],
    ['a refused connection', withFields('connect ECONNREFUSED 127.0.0.1:4566', { code: 'ECONNREFUSED' })],
    ['a body cut short', withFields('Premature close', { code: 'ERR_STREAM_PREMATURE_CLOSE' })],
    ['a DNS hiccup', withFields('getaddrinfo EAI_AGAIN s3.amazonaws.com', { code: 'EAI_AGAIN' })],
    ['clock skew', withFields('The difference between the request time and the current time is too large.', { name: 'RequestTimeTooSkewed', $metadata: { httpStatusCode: 403 } })],
    ['expired credentials', withFields('The provided token has expired.', { name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } })],
    ['credentials not fetched', withFields('Could not load credentials from any providers', { name: 'CredentialsProviderError' })],
    ['an error the SDK marks retryable', withFields('retry me', { $retryable: {} })],
    ['a TransientFileError', new TransientFileError('the body ended early')],
    ['a transient cause', new Error('upload failed', { cause: withFields('socket hang up', { code: 'EPIPE' }) })],
  ])('is true for %s', (_what, error) => {
    expect(isTransientFailure(error)).toBe(true);
  });

  it.each([
    ['a PermanentFileError', new PermanentFileError('corrupt_gzip', 'not gzip')],
    ['a PermanentFileError caused by a network error', new PermanentFileError('corrupt_gzip', 'not gzip', { cause: withFields('reset', { code: 'ECONNRESET' }) })],
    ['a stack overflow', new RangeError('Maximum call stack size exceeded')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['access denied by S3', withFields('Access Denied', { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })],
    ['a missing bucket', withFields('The specified bucket does not exist', { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })],
    ['an abort', withFields('This operation was aborted', { name: 'AbortError' })],
    ['a thrown string', 'oops'],
    ['undefined', undefined],
  ])('is false for %s', (_what, error) => {
    expect(isTransientFailure(error)).toBe(false);
  });
});

describe('isObjectMissing and isBucketMissing', () => {
  const noSuchBucket = withFields('The specified bucket does not exist', { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });

  it.each([
    ['NoSuchKey', withFields('The specified key does not exist.', { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })],
    ['NoSuchVersion', withFields('The specified version does not exist.', { name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } })],
    ['a HEAD 404', withFields('UnknownError', { name: 'NotFound', $metadata: { httpStatusCode: 404 } })],
  ])('reads %s as a missing object, not a missing bucket', (_what, error) => {
    expect([isObjectMissing(error), isBucketMissing(error)]).toStrictEqual([true, false]);
  });

  it('reads NoSuchBucket as a missing bucket, not a missing object, though both are 404', () => {
    expect([isObjectMissing(noSuchBucket), isBucketMissing(noSuchBucket)]).toStrictEqual([false, true]);
  });

  it('reads NoSuchBucket by its code too', () => {
    expect(isBucketMissing(withFields('no bucket', { code: 'NoSuchBucket' }))).toBe(true);
  });

  it.each([
    ['access denied', withFields('Access Denied', { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })],
    ['a thrown string', 'NoSuchBucket'],
  ])('reads %s as neither', (_what, error) => {
    expect([isObjectMissing(error), isBucketMissing(error)]).toStrictEqual([false, false]);
  });
});
