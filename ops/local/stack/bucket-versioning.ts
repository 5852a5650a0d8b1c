/**
 * S3 bucket versioning on the local stack (the emulator takes PutBucketVersioning for CreateBucket
 * and keeps one object per key): PutBucketVersioning, GetBucketVersioning, ListObjectVersions;
 * `versionId` on GetObject, HeadObject, DeleteObject and a copy source; delete markers, from
 * DeleteObject and DeleteObjects; `x-amz-version-id` on every answer S3 gives it, which the S3
 * notifications then carry (s3-notifications.ts). The versions themselves: object-versions.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { storeReading, type FauxqsObjectActions, type FauxqsStoredObject } from './fauxqs-actions.ts';
import type { FauxqsStores } from './fauxqs-stores.ts';
import { NULL_VERSION_ID, type ObjectVersions } from './object-versions.ts';
import { createdObjectOf } from './s3-events.ts';
import { bucketOf, keyOf, malformedXmlError, newHostId, newRequestId, parseCopySource, queryOf, S3RequestError, sendS3Error } from './s3-protocol.ts';
import { logToStderr } from './stderr-log.ts';
import { deleteResultXml, listVersionsResultXml, parseDeleteRequest, parseVersioningConfiguration, versioningConfigurationXml } from './version-documents.ts';
import type { DeleteResultEntry } from './version-documents.ts';

type S3Store = FauxqsStores['s3Store'];
type Query = Readonly<Record<string, unknown>>;

export interface BucketVersioningOptions {
  readonly versions: ObjectVersions<FauxqsStoredObject>;
  /** The emulator's store, for reading a noncurrent version with its own actions. */
  readonly store: S3Store;
  readonly actions: FauxqsObjectActions;
}

const MAX_KEYS = 1000;

/**
 * Register it as the last preHandler, after conditional-requests.ts: both are callback-style and
 * synchronous, so a precondition checked, a version looked up and the emulator's action all happen
 * in one turn. Its onSend hook records each new object as its key's newest version in that same turn.
 */
export function registerBucketVersioning(app: FastifyInstance, options: BucketVersioningOptions): void {
  /** The source version a copy named or read, for its answer's `x-amz-copy-source-version-id`. */
  const copiedVersions = new WeakMap<FastifyRequest, string>();

  app.addHook('preHandler', (request, reply, done) => {
    let answered: boolean;
    try {
      answered = answerVersionedRequest(request, reply, options, copiedVersions);
    } catch (error) {
      if (!(error instanceof S3RequestError)) {
        done(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      sendS3Error(reply, error, identify(reply));
      return;
    }
    if (!answered) done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    try {
      addVersionHeaders(request, reply, options.versions, copiedVersions.get(request));
    } catch (error) {
      logToStderr('object version not recorded', { method: request.method, url: request.url, error: String(error) });
    }
    done(null, payload);
  });
}

function identify(reply: FastifyReply): string {
  const existing = reply.getHeader('x-amz-request-id');
  if (typeof existing === 'string') return existing;
  const requestId = newRequestId();
  reply.header('x-amz-request-id', requestId).header('x-amz-id-2', newHostId());
  return requestId;
}

/** Answers what the emulator cannot; false leaves the request to the emulator. */
function answerVersionedRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  options: BucketVersioningOptions,
  copiedVersions: WeakMap<FastifyRequest, string>,
): boolean {
  const bucket = bucketOf(request);
  if (!bucket) return false;
  const key = keyOf(request);
  const query = queryOf(request);
  if (!key) return answerBucketRequest(request, reply, options, bucket, query);
  if (!isPlainObjectRequest(query)) return false;
  const { versions } = options;
  const versionId = typeof query['versionId'] === 'string' ? query['versionId'] : undefined;
  switch (request.method) {
    case 'GET':
    case 'HEAD':
      return versionId === undefined ? false : readVersion(request, reply, options, { bucket, key, versionId });
    case 'DELETE': {
      if (versionId === undefined && versions.statusOf(bucket) === undefined) return false;
      const outcome = versionId === undefined ? versions.deleteCurrent(bucket, key) : versions.deleteVersion(bucket, key, versionId);
      identify(reply);
      if (outcome.deleteMarker) reply.header('x-amz-delete-marker', 'true');
      reply.header('x-amz-version-id', outcome.versionId).status(204).send();
      return true;
    }
    case 'PUT':
      return copyVersion(request, reply, options, copiedVersions);
    default:
      return false;
  }
}

/** GetObject, HeadObject, DeleteObject, PutObject and CopyObject: no sub-resource but `versionId`. */
function isPlainObjectRequest(query: Query): boolean {
  return !['tagging', 'uploadId', 'uploads', 'attributes', 'partNumber', 'renameObject', 'acl', 'retention', 'legal-hold'].some((name) => name in query);
}

function answerBucketRequest(request: FastifyRequest, reply: FastifyReply, { versions, store }: BucketVersioningOptions, bucket: string, query: Query): boolean {
  const { method } = request;
  if ('versioning' in query && method === 'PUT') {
    const status = parseVersioningConfiguration(bodyText(request));
    if (status === undefined) throw malformedXmlError();
    versions.setStatus(bucket, status);
    identify(reply);
    reply.status(200).send();
    return true;
  }
  if ('versioning' in query && method === 'GET') {
    if (!store.hasBucket(bucket)) throw new S3RequestError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
    identify(reply);
    reply.header('content-type', 'application/xml').send(versioningConfigurationXml(versions.statusOf(bucket)));
    return true;
  }
  if ('versions' in query && method === 'GET') {
    const listRequest = listVersionsRequest(bucket, query);
    const listing = versions.listVersions(bucket, listRequest);
    identify(reply);
    reply.header('content-type', 'application/xml').send(listVersionsResultXml(listRequest, listing));
    return true;
  }
  if ('delete' in query && method === 'POST' && versions.statusOf(bucket) !== undefined) {
    const parsed = parseDeleteRequest(bodyText(request));
    if (parsed === undefined) throw malformedXmlError();
    const entries = parsed.objects.map((object): DeleteResultEntry => {
      try {
        const outcome = object.versionId === undefined ? versions.deleteCurrent(bucket, object.key) : versions.deleteVersion(bucket, object.key, object.versionId);
        return { key: object.key, requestedVersionId: object.versionId, outcome };
      } catch (error) {
        if (!(error instanceof S3RequestError)) throw error;
        return { key: object.key, requestedVersionId: object.versionId, error: { code: error.code, message: error.message } };
      }
    });
    identify(reply);
    reply.header('content-type', 'application/xml').send(deleteResultXml(entries, parsed.quiet));
    return true;
  }
  if (method === 'DELETE' && Object.keys(query).length === 0 && versions.keepsVersions(bucket)) {
    throw new S3RequestError('BucketNotEmpty', 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.', 409, {
      BucketName: bucket,
    });
  }
  return false;
}

function listVersionsRequest(bucket: string, query: Query) {
  const text = (name: string) => (typeof query[name] === 'string' ? query[name] : undefined);
  const maxKeysText = text('max-keys');
  const maxKeys = maxKeysText === undefined ? MAX_KEYS : Number(maxKeysText);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) {
    throw new S3RequestError('InvalidArgument', 'Provided max-keys not an integer or within integer range', 400, {
      ArgumentName: 'max-keys',
      ArgumentValue: maxKeysText ?? '',
    });
  }
  return {
    bucket,
    prefix: text('prefix') ?? '',
    delimiter: text('delimiter'),
    keyMarker: text('key-marker') ?? '',
    versionIdMarker: text('version-id-marker') ?? '',
    maxKeys: Math.min(maxKeys, MAX_KEYS),
    urlEncoded: text('encoding-type') === 'url',
  };
}

interface VersionAddress {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
}

/** GetObject or HeadObject of one version: the current one is the emulator's to answer, an older one is read by its own action. */
function readVersion(request: FastifyRequest, reply: FastifyReply, options: BucketVersioningOptions, { bucket, key, versionId }: VersionAddress): boolean {
  const version = options.versions.versionAt(bucket, key, versionId);
  if (version.kind === 'deleteMarker') {
    reply.header('x-amz-delete-marker', 'true').header('x-amz-version-id', versionId).header('last-modified', version.lastModified.toUTCString());
    if (request.method === 'HEAD') {
      identify(reply);
      reply.status(405).send();
      return true;
    }
    throw new S3RequestError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
      Method: request.method,
      ResourceType: 'DeleteMarker',
    });
  }
  if (isCurrent(options.store, bucket, key, version.object)) return false;
  reply.header('x-amz-version-id', versionId);
  runAction(request.method === 'HEAD' ? options.actions.headObject : options.actions.getObject, request, reply, storeReading(options.store, bucket, key, version.object));
  return true;
}

/**
 * A CopyObject whose source names a version: the emulator reads `bucket/key?versionId=…` as a key,
 * so the header loses its version id, and an older version is copied by the emulator's own action.
 */
function copyVersion(request: FastifyRequest, reply: FastifyReply, options: BucketVersioningOptions, copiedVersions: WeakMap<FastifyRequest, string>): boolean {
  const header = request.headers['x-amz-copy-source'];
  if (typeof header !== 'string') return false;
  const source = parseCopySource(header);
  if (source === undefined) return false;
  if (source.versionId === undefined) {
    const current = options.versions.currentVersionId(source.bucket, source.key);
    if (current !== undefined) copiedVersions.set(request, current);
    return false;
  }
  const version = options.versions.versionAt(source.bucket, source.key, source.versionId);
  if (version.kind === 'deleteMarker') {
    throw new S3RequestError('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
  }
  request.headers['x-amz-copy-source'] = header.slice(0, header.lastIndexOf('?versionId='));
  copiedVersions.set(request, source.versionId);
  if (isCurrent(options.store, source.bucket, source.key, version.object)) return false;
  runAction(options.actions.putObject, request, reply, storeReading(options.store, source.bucket, source.key, version.object));
  return true;
}

function isCurrent(store: S3Store, bucket: string, key: string, object: FauxqsStoredObject): boolean {
  try {
    return store.headObject(bucket, key) === object;
  } catch {
    return false;
  }
}

/** Runs one of the emulator's actions, answering its S3 errors as its own routes do. */
function runAction(action: FauxqsObjectActions['getObject'], request: FastifyRequest, reply: FastifyReply, store: S3Store): void {
  try {
    action(request, reply, store);
  } catch (error) {
    const s3Error = error as { statusCode?: unknown; toXml?: unknown };
    if (typeof s3Error.statusCode !== 'number' || typeof s3Error.toXml !== 'function') throw error;
    reply.status(s3Error.statusCode);
    if (request.method === 'HEAD') reply.send();
    else reply.header('content-type', 'application/xml').send((s3Error.toXml as () => string).call(error));
  }
}

function bodyText(request: FastifyRequest): string {
  const { body } = request;
  return Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
}

const READ_SUCCESS = new Set([200, 206, 304]);

/** The version ids S3 puts on an answer: a new object's, the one read, a copy's source, a delete marker in the way. */
function addVersionHeaders(request: FastifyRequest, reply: FastifyReply, versions: ObjectVersions<FauxqsStoredObject>, copiedVersion: string | undefined): void {
  const bucket = bucketOf(request);
  if (!bucket) return;
  const key = keyOf(request);
  const query = queryOf(request);
  const { method } = request;
  const status = reply.statusCode;
  if (!key && method === 'DELETE' && status === 204 && Object.keys(query).length === 0) {
    versions.forgetBucket(bucket);
    return;
  }
  const created = createdObjectOf({ method, statusCode: status, bucket, key, query, headers: request.headers, body: request.body });
  if (created !== undefined) {
    const versionId = versions.recordWrite(created.bucket, created.key);
    if (versionId !== undefined && versionId !== NULL_VERSION_ID) reply.header('x-amz-version-id', versionId);
    if (copiedVersion !== undefined) reply.header('x-amz-copy-source-version-id', copiedVersion);
    return;
  }
  if (!key || (method !== 'GET' && method !== 'HEAD') || !isPlainObjectRequest(query) || reply.hasHeader('x-amz-version-id')) return;
  const current = versions.currentVersionId(bucket, key);
  if (current === undefined) return;
  if (READ_SUCCESS.has(status)) {
    reply.header('x-amz-version-id', current);
  } else if (status === 404 && query['versionId'] === undefined && versions.versionAt(bucket, key, current).kind === 'deleteMarker') {
    reply.header('x-amz-delete-marker', 'true').header('x-amz-version-id', current);
  }
}
