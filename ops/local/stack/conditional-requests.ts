/**
 * Applies S3's ETag preconditions that the emulator ignores (s3-preconditions.ts): DeleteObject with
 * `If-Match`, CopyObject with `x-amz-copy-source-if-match` / `-if-none-match`. The ETag compared is
 * the one in the emulator's own S3 store, read in the same synchronous turn in which the emulator
 * then deletes or copies, so no other request can replace the object between check and action, as
 * S3 guarantees. (A HeadObject through the stack's self-clients would leave that gap open.)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { copySourcePreconditionError, deletePreconditionError } from './s3-preconditions.ts';
import type { CurrentObject } from './s3-preconditions.ts';
import { isPlainObjectWrite } from './s3-events.ts';
import { bucketOf, keyOf, newHostId, newRequestId, parseCopySource, queryOf, sendS3Error } from './s3-protocol.ts';
import type { CopySource, S3RequestError } from './s3-protocol.ts';

/** What the check needs: the stored object a key names now, or the version a copy source names (object-versions.ts). */
export interface ObjectsWithETags {
  /** Throws S3's NoSuchBucket, NoSuchKey, NoSuchVersion… when there is none. */
  objectAt(bucket: string, key: string, versionId: string | undefined): { readonly etag: string };
}

/**
 * Register it as the last preHandler. Its hook is callback-style and calls `done` synchronously, and
 * Fastify then runs the route's handler in the same turn (hooks.js `hookRunnerGenerator`), so the
 * emulator deletes or copies exactly the object checked; an async hook after it would open a gap.
 */
export function registerConditionalRequests(app: FastifyInstance, objects: ObjectsWithETags): void {
  app.addHook('preHandler', (request, reply, done) => {
    let error: S3RequestError | undefined;
    try {
      error = preconditionError(request, objects);
    } catch (unexpected) {
      done(unexpected instanceof Error ? unexpected : new Error(String(unexpected)));
      return;
    }
    if (error === undefined) {
      done();
      return;
    }
    const requestId = newRequestId();
    reply.header('x-amz-request-id', requestId).header('x-amz-id-2', newHostId());
    sendS3Error(reply, error, requestId);
  });
}

function preconditionError(request: FastifyRequest, objects: ObjectsWithETags): S3RequestError | undefined {
  const bucket = bucketOf(request);
  const key = keyOf(request);
  if (!bucket || !key) return undefined;
  const query = queryOf(request);
  const { headers, method } = request;
  if (method === 'DELETE' && isPlainObjectRequest(query) && headers['if-match'] !== undefined) {
    const current = currentObject(objects, { bucket, key });
    return current === 'left to the emulator' ? undefined : deletePreconditionError(headers, key, current);
  }
  const copySource = headers['x-amz-copy-source'];
  const conditional = headers['x-amz-copy-source-if-match'] !== undefined || headers['x-amz-copy-source-if-none-match'] !== undefined;
  if (method === 'PUT' && typeof copySource === 'string' && conditional && isPlainObjectWrite(query)) {
    const source = parseCopySource(copySource);
    if (source === undefined) return undefined;
    const current = currentObject(objects, source);
    return current === 'left to the emulator' ? undefined : copySourcePreconditionError(headers, current);
  }
  return undefined;
}

/** DeleteObject itself: not DeleteObjectTagging nor AbortMultipartUpload. */
function isPlainObjectRequest(query: Readonly<Record<string, unknown>>): boolean {
  return !('tagging' in query) && !('uploadId' in query);
}

/**
 * The object under the key now, or the version named; undefined when the key holds none. Any other
 * error (no such bucket or version) is left to the emulator, which answers it itself.
 */
function currentObject(objects: ObjectsWithETags, { bucket, key, versionId }: CopySource): CurrentObject | undefined | 'left to the emulator' {
  try {
    return { eTag: objects.objectAt(bucket, key, versionId).etag };
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code === 'NoSuchKey') return undefined;
    if (typeof code === 'string') return 'left to the emulator';
    throw error;
  }
}
