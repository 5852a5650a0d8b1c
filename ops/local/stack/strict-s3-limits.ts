/**
 * S3's limits that the emulator does not check itself, as plain functions of the request each
 * answering S3's own error, and the hook that applies them before the emulator sees the request.
 * The emulator already refuses, as S3 does at CompleteMultipartUpload, a part but the last under
 * 5 MiB (EntityTooSmall).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseTaggingDocument, parseTaggingHeader } from './object-tags.ts';
import type { TagSet } from './object-tags.ts';
import {
  bucketOf,
  formUploadKey,
  keyOf,
  malformedXmlError,
  newHostId,
  newRequestId,
  queryOf,
  S3RequestError,
  sendS3Error,
} from './s3-protocol.ts';

const S3_LIMITS = {
  /** Bytes of the key's UTF-8 encoding. */
  maxKeyBytes: 1024,
  /** User metadata in one request: the bytes of every name (after `x-amz-meta-`) and value. */
  maxUserMetadataBytes: 2048,
  maxTagsPerObject: 10,
  /** Unicode characters. */
  maxTagKeyCharacters: 128,
  maxTagValueCharacters: 256,
  /** Part numbers run from 1 to 10,000, so an upload has at most 10,000 parts. */
  maxPartNumber: 10_000,
} as const;

type Check = () => S3RequestError | undefined;

/**
 * Refuses, before the emulator sees them, the S3 writes that S3 itself refuses and the emulator
 * accepts: keys over 1,024 bytes, more than 2 KB of user metadata, tag sets S3 rejects, part
 * numbers outside 1..10,000, in PutObject, CopyObject, CreateMultipartUpload and PutObjectTagging
 * alike (object-tagging.ts answers the tagging API once this check passed). A browser form upload
 * (PostObject) has its key checked; its metadata and tagging fields are not.
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
    const postedKey = method === 'POST' ? formUploadKey(headers, request.body) : undefined;
    return postedKey === undefined ? undefined : keyLengthError(postedKey);
  }
  if ('tagging' in query) {
    return firstError(() => keyLengthError(key), () => (method === 'PUT' ? taggingDocumentError(bodyText(request.body)) : undefined));
  }
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

function bodyText(body: unknown): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return typeof body === 'string' ? body : '';
}

function taggingError(header: string | string[] | undefined): S3RequestError | undefined {
  return typeof header === 'string' ? taggingHeaderError(header) : undefined;
}

function firstError(...checks: Check[]): S3RequestError | undefined {
  for (const check of checks) {
    const error = check();
    if (error !== undefined) return error;
  }
  return undefined;
}

const USER_METADATA_PREFIX = 'x-amz-meta-';

function keyLengthError(key: string): S3RequestError | undefined {
  return Buffer.byteLength(key, 'utf8') > S3_LIMITS.maxKeyBytes ? new S3RequestError('KeyTooLongError', 'Your key is too long') : undefined;
}

/** Node hands header values over as latin1 strings: one character per byte on the wire. */
function userMetadataError(headers: Readonly<Record<string, string | string[] | undefined>>): S3RequestError | undefined {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.toLowerCase().startsWith(USER_METADATA_PREFIX) || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    bytes += name.length - USER_METADATA_PREFIX.length + values.reduce((sum, text) => sum + text.length, 0);
  }
  return bytes > S3_LIMITS.maxUserMetadataBytes
    ? new S3RequestError('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.')
    : undefined;
}

/** The `x-amz-tagging` header of PutObject, CopyObject and CreateMultipartUpload: `key1=value1&key2=value2`. */
function taggingHeaderError(header: string): S3RequestError | undefined {
  const tags = parseTaggingHeader(header);
  if (new Set(tags.map(({ key }) => key)).size !== tags.length) {
    return new S3RequestError(
      'InvalidArgument',
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    );
  }
  return tagSetError(tags);
}

/** The `<Tagging><TagSet><Tag>` document of PutObjectTagging. */
function taggingDocumentError(xml: string): S3RequestError | undefined {
  const tags = parseTaggingDocument(xml);
  if (tags === undefined) return malformedXmlError();
  if (new Set(tags.map(({ key }) => key)).size !== tags.length) {
    return new S3RequestError('InvalidTag', 'Cannot provide multiple Tags with the same key');
  }
  return tagSetError(tags);
}

function tagSetError(tags: TagSet): S3RequestError | undefined {
  if (tags.length > S3_LIMITS.maxTagsPerObject) {
    return new S3RequestError('BadRequest', `Object tags cannot be greater than ${S3_LIMITS.maxTagsPerObject}`);
  }
  for (const { key, value } of tags) {
    if (key === '') return new S3RequestError('InvalidTag', 'The TagKey you have provided is invalid');
    if (characters(key) > S3_LIMITS.maxTagKeyCharacters) {
      return new S3RequestError('InvalidTag', `The TagKey you have provided is too long, max ${S3_LIMITS.maxTagKeyCharacters}`);
    }
    if (characters(value) > S3_LIMITS.maxTagValueCharacters) {
      return new S3RequestError('InvalidTag', `The TagValue you have provided is too long, max ${S3_LIMITS.maxTagValueCharacters}`);
    }
  }
  return undefined;
}

/** UploadPart's `partNumber`: an integer from 1 to 10,000. */
function partNumberError(partNumber: unknown): S3RequestError | undefined {
  const number = typeof partNumber === 'string' && /^\d+$/.test(partNumber) ? Number(partNumber) : Number.NaN;
  return number >= 1 && number <= S3_LIMITS.maxPartNumber
    ? undefined
    : new S3RequestError('InvalidArgument', `Part number must be an integer between 1 and ${S3_LIMITS.maxPartNumber}, inclusive`);
}

function characters(text: string): number {
  return [...text].length;
}
