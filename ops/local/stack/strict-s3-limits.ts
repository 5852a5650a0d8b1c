import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bucketOf, keyOf, queryOf } from './fastify-request.ts';
import { postObjectKey } from './post-object-key.ts';
import { newHostId, newRequestId } from './request-ids.ts';
import {
  keyLengthError,
  partNumberError,
  taggingDocumentError,
  taggingHeaderError,
  userMetadataError,
} from './s3-limit-rules.ts';
import { S3RequestError, sendS3Error } from './s3-request-error.ts';

type Check = () => S3RequestError | undefined;

/**
 * Refuses, before the emulator sees them, the S3 writes that S3 itself refuses and the emulator
 * accepts: keys over 1,024 bytes, more than 2 KB of user metadata, tag sets S3 rejects, part
 * numbers outside 1..10,000. Object tagging requests are answered NotImplemented once their tags
 * are checked: the emulator has no tagging API and would take them for PutObject, GetObject or
 * DeleteObject on the object itself. A browser form upload (PostObject) has its key checked; its
 * metadata and tagging fields are not.
 */
export function registerStrictS3Limits(app: FastifyInstance): void {
  app.addHook('preHandler', async (request, reply) => {
    const error = s3LimitError(request);
    if (error === undefined) return;
    const requestId = newRequestId();
    reply.header('x-amz-request-id', requestId).header('x-amz-id-2', newHostId());
    return sendS3Error(reply, error, requestId);
  });
}

function s3LimitError(request: FastifyRequest): S3RequestError | undefined {
  if (!bucketOf(request)) return undefined;
  const key = keyOf(request);
  const query = queryOf(request);
  const { headers, method } = request;
  if (!key) {
    const postedKey = method === 'POST' ? postedObjectKey(request) : undefined;
    return postedKey === undefined ? undefined : keyLengthError(postedKey);
  }
  if ('tagging' in query) return firstError(() => keyLengthError(key), () => objectTaggingError(request));
  if (method === 'PUT' && 'uploadId' in query && 'partNumber' in query) {
    return firstError(() => keyLengthError(key), () => partNumberError(query['partNumber']));
  }
  if (method === 'PUT') {
    const copying = headers['x-amz-copy-source'] !== undefined;
    return firstError(
      () => keyLengthError(key),
      () => (copying && headers['x-amz-metadata-directive'] !== 'REPLACE' ? undefined : userMetadataError(headers)),
      () => (copying && headers['x-amz-tagging-directive'] !== 'REPLACE' ? undefined : taggingError(headers['x-amz-tagging'])),
    );
  }
  if (method === 'POST' && 'uploads' in query) {
    return firstError(
      () => keyLengthError(key),
      () => userMetadataError(headers),
      () => taggingError(headers['x-amz-tagging']),
    );
  }
  if (method === 'POST' && 'uploadId' in query) return keyLengthError(key);
  return undefined;
}

function objectTaggingError(request: FastifyRequest): S3RequestError {
  if (request.method === 'PUT') {
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    const refused = taggingDocumentError(body);
    if (refused !== undefined) return refused;
  }
  return new S3RequestError('NotImplemented', 'The local stack does not implement object tagging (PutObjectTagging, GetObjectTagging, DeleteObjectTagging)', 501);
}

function taggingError(header: string | string[] | undefined): S3RequestError | undefined {
  return typeof header === 'string' ? taggingHeaderError(header) : undefined;
}

function postedObjectKey(request: FastifyRequest): string | undefined {
  const contentType = request.headers['content-type'];
  if (typeof contentType !== 'string' || !/multipart\/form-data/i.test(contentType) || !Buffer.isBuffer(request.body)) return undefined;
  return postObjectKey(request.body, contentType);
}

function firstError(...checks: Check[]): S3RequestError | undefined {
  for (const check of checks) {
    const error = check();
    if (error !== undefined) return error;
  }
  return undefined;
}
