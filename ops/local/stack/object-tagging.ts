/**
 * S3 object tagging, which the emulator lacks: PutObjectTagging, GetObjectTagging and
 * DeleteObjectTagging (`PUT|GET|DELETE /bucket/key?tagging`, which the emulator would take for
 * PutObject, GetObject and DeleteObject on the object itself), the `x-amz-tagging` header of
 * PutObject, CopyObject (with `x-amz-tagging-directive`) and CreateMultipartUpload, and
 * `x-amz-tagging-count` on GetObject and HeadObject. The tags' limits are checked before, by
 * strict-s3-limits.ts, for every way tags arrive.
 * A request's `versionId` names the version whose tags it reads or writes (object-versions.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseTaggingDocument, parseTaggingHeader, taggingDocumentXml } from './object-tags.ts';
import type { TagSet } from './object-tags.ts';
import type { ObjectTagStore } from './object-tag-store.ts';
import { createdObjectOf, isPlainObjectWrite } from './s3-events.ts';
import {
  bucketOf,
  keyOf,
  malformedXmlError,
  newHostId,
  newRequestId,
  parseCopySource,
  queryOf,
  S3RequestError,
  sendS3Error,
  textOf,
} from './s3-protocol.ts';
import { logToStderr } from './stderr-log.ts';

/**
 * Registers the tagging API (a preHandler: register it after the limits check) and the `onSend`
 * hook that gives a new object its tags. That hook runs synchronously right after the emulator's
 * handler stored the object, so no other request can replace the object in between.
 */
export function registerObjectTagging(app: FastifyInstance, tags: ObjectTagStore): void {
  // The tags a write gives the object it creates, decided before the emulator stores it: a copy
  // onto its own key must read the source's tags before the copy replaces them.
  const tagsOfNewObject = new WeakMap<FastifyRequest, TagSet>();

  app.addHook('preHandler', async (request, reply) => {
    const bucket = bucketOf(request);
    const key = keyOf(request);
    if (!bucket || !key) return;
    const query = queryOf(request);
    if ('tagging' in query) return answerTaggingRequest(request, reply, tags, { bucket, key });
    const newTags = tagsGivenBy(request, tags);
    if (newTags !== undefined) tagsOfNewObject.set(request, newTags);
    return undefined;
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    try {
      afterAnswer(request, reply, payload, tags, tagsOfNewObject.get(request));
    } catch (error) {
      logToStderr('object tags not applied', { method: request.method, url: request.url, error: String(error) });
    }
    done(null, payload);
  });
}

const S3_ANSWERS_WITH_TAG_COUNT = new Set([200, 206]);

function afterAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown, tags: ObjectTagStore, newTags: TagSet | undefined): void {
  const bucket = bucketOf(request);
  const key = keyOf(request);
  if (!bucket) return;
  const query = queryOf(request);
  const { method } = request;
  const status = reply.statusCode;
  if (key && (method === 'GET' || method === 'HEAD') && S3_ANSWERS_WITH_TAG_COUNT.has(status) && readsObject(query)) {
    const count = tags.tagCountOf(bucket, key, versionIdOf(query));
    if (count > 0) reply.header('x-amz-tagging-count', String(count));
    return;
  }
  if (key && method === 'POST' && 'uploads' in query && status === 200) {
    const uploadId = typeof payload === 'string' ? textOf(payload, 'UploadId') : undefined;
    if (uploadId !== undefined) tags.holdForUpload(uploadId, newTags ?? []);
    return;
  }
  if (key && method === 'DELETE' && typeof query['uploadId'] === 'string' && status === 204) {
    tags.takeForUpload(query['uploadId']);
    return;
  }
  const created = createdObjectOf({ method, statusCode: status, bucket, key, query, headers: request.headers, body: request.body });
  if (created?.eventName === 'ObjectCreated:Put' || created?.eventName === 'ObjectCreated:Copy') {
    // A new object starts without tags: only those its request gave need storing.
    if (newTags !== undefined && newTags.length > 0) tags.replaceTags(created.bucket, created.key, newTags);
  } else if (created?.eventName === 'ObjectCreated:CompleteMultipartUpload' && typeof query['uploadId'] === 'string') {
    const uploadTags = tags.takeForUpload(query['uploadId']);
    if (uploadTags.length > 0) tags.replaceTags(created.bucket, created.key, uploadTags);
  }
}

/** GetObject and HeadObject, whole or by range or part; not GetObjectAttributes, tagging or ListParts. */
function readsObject(query: Readonly<Record<string, unknown>>): boolean {
  return !('tagging' in query) && !('attributes' in query) && !('uploadId' in query);
}

/**
 * The tags of the object a PutObject, CopyObject or CreateMultipartUpload creates; undefined for
 * every other request. A copy keeps its source's tags unless `x-amz-tagging-directive` is REPLACE.
 */
function tagsGivenBy(request: FastifyRequest, tags: ObjectTagStore): TagSet | undefined {
  const query = queryOf(request);
  const { headers } = request;
  const header = headers['x-amz-tagging'];
  const fromHeader = typeof header === 'string' ? parseTaggingHeader(header) : [];
  if (request.method === 'POST' && 'uploads' in query) return fromHeader;
  if (request.method !== 'PUT' || !isPlainObjectWrite(query)) return undefined;
  const copySourceHeader = headers['x-amz-copy-source'];
  if (typeof copySourceHeader !== 'string') return fromHeader;
  if (headers['x-amz-tagging-directive'] === 'REPLACE') return fromHeader;
  const source = parseCopySource(copySourceHeader);
  if (source === undefined) return [];
  try {
    return tags.tagsOf(source.bucket, source.key, source.versionId);
  } catch {
    // No such source: the emulator answers the copy with its own error, and nothing is created.
    return [];
  }
}

interface ObjectAddress {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
}

function answerTaggingRequest(request: FastifyRequest, reply: FastifyReply, tags: ObjectTagStore, object: ObjectAddress): FastifyReply {
  const requestId = newRequestId();
  reply.header('x-amz-request-id', requestId).header('x-amz-id-2', newHostId());
  try {
    return taggingAnswer(request, reply, tags, { ...object, versionId: versionIdOf(queryOf(request)) });
  } catch (error) {
    if (error instanceof S3RequestError) return sendS3Error(reply, error, requestId);
    throw error;
  }
}

function taggingAnswer(request: FastifyRequest, reply: FastifyReply, tags: ObjectTagStore, { bucket, key, versionId }: ObjectAddress): FastifyReply {
  if (versionId !== undefined) reply.header('x-amz-version-id', versionId);
  switch (request.method) {
    case 'GET':
      return reply.header('content-type', 'application/xml').send(taggingDocumentXml(tags.tagsOf(bucket, key, versionId)));
    case 'PUT': {
      const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : typeof request.body === 'string' ? request.body : '';
      const newTags = parseTaggingDocument(body);
      if (newTags === undefined) throw malformedXmlError();
      tags.replaceTags(bucket, key, newTags, versionId);
      return reply.status(200).send();
    }
    case 'DELETE':
      tags.replaceTags(bucket, key, [], versionId);
      return reply.status(204).send();
    default:
      throw new S3RequestError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
        Method: request.method,
        ResourceType: 'OBJECT',
      });
  }
}

function versionIdOf(query: Readonly<Record<string, unknown>>): string | undefined {
  const versionId = query['versionId'];
  return typeof versionId === 'string' ? versionId : undefined;
}
