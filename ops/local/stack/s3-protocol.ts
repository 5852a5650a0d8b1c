/**
 * S3's side of the wire, as the local stack's hooks need it: what a request addresses (bucket, key,
 * query, the key a browser form upload names, the principal that signed it), the ids and the error
 * document S3 answers with, and just enough XML for S3's small documents.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isJsonObject } from '../../../worker/common/json-object.ts';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

// fauxqs routes S3 as `/:bucket` and `/:bucket/*`; find-my-way has already URL-decoded both
// (`%2B` → `+`, `%25` → `%`, `%2F` → `/`, UTF-8 sequences), and fauxqs stores objects under exactly these.
export function bucketOf(request: FastifyRequest): string | undefined {
  return paramsOf(request)['bucket'];
}

export function keyOf(request: FastifyRequest): string | undefined {
  return paramsOf(request)['*'];
}

export function queryOf(request: FastifyRequest): Readonly<Record<string, unknown>> {
  return isJsonObject(request.query) ? request.query : {};
}

function paramsOf(request: FastifyRequest): Readonly<Record<string, string | undefined>> {
  return isJsonObject(request.params) ? (request.params as Record<string, string | undefined>) : {};
}

/** The principal S3 names in `userIdentity`: the access key that signed the request, header or presigned URL. */
export function principalIdOf(headers: Headers, query: Readonly<Record<string, unknown>>): string {
  const authorization = headers['authorization'];
  const fromHeader = typeof authorization === 'string' ? /Credential=([^/,\s]+)\//.exec(authorization)?.[1] : undefined;
  const presigned = query['X-Amz-Credential'];
  const fromQuery = typeof presigned === 'string' ? presigned.split('/')[0] : undefined;
  const accessKeyId = fromHeader ?? fromQuery;
  return accessKeyId ? `AWS:${accessKeyId}` : 'Anonymous';
}

/** The key a PostObject (browser form upload) names, or undefined when the request is no form upload. */
export function formUploadKey(headers: Headers, body: unknown): string | undefined {
  const contentType = headers['content-type'];
  if (typeof contentType !== 'string' || !/multipart\/form-data/i.test(contentType) || !Buffer.isBuffer(body)) return undefined;
  return postObjectKey(body, contentType);
}

// PostObject carries the key in a form field, not in the URL. This reads the fields the way fauxqs
// does: every field before the file part, `${filename}` substituted.
const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const DISPOSITION = /Content-Disposition:\s*form-data;\s*name="([^"]+)"(?:;\s*filename="([^"]*)")?/i;

export function postObjectKey(body: Buffer, contentType: string): string | undefined {
  const boundary = /boundary=([^\s;]+)/i.exec(contentType)?.[1];
  if (boundary === undefined) return undefined;
  let key: string | undefined;
  for (const part of formParts(body, Buffer.from(`--${boundary}`))) {
    const headerEnd = part.indexOf(HEADERS_END);
    if (headerEnd === -1) continue;
    const disposition = DISPOSITION.exec(part.subarray(0, headerEnd).toString('utf8'));
    if (!disposition) continue;
    const [, fieldName, filename] = disposition;
    if (filename !== undefined || fieldName === 'file') {
      return key?.replaceAll('${filename}', baseName(filename ?? ''));
    }
    if (fieldName === 'key') key = part.subarray(headerEnd + HEADERS_END.length).toString('utf8');
  }
  return key;
}

/** The parts between boundaries, without the CRLF that follows a boundary and precedes the next. */
function* formParts(body: Buffer, delimiter: Buffer): Generator<Buffer> {
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const end = body.indexOf(delimiter, start + delimiter.length);
    if (end === -1) return;
    let part = body.subarray(start + delimiter.length, end);
    if (part.subarray(0, CRLF.length).equals(CRLF)) part = part.subarray(CRLF.length);
    if (part.subarray(-CRLF.length).equals(CRLF)) part = part.subarray(0, -CRLF.length);
    yield part;
    start = end;
  }
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** What CopyObject's `x-amz-copy-source` names: `[/]bucket/key[?versionId=…]`, URL-encoded. */
export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/**
 * The object a copy reads, or undefined when the header names none. Decoded as the emulator decodes
 * it (the whole path at once), so that both agree on which object was copied.
 */
export function parseCopySource(header: string): CopySource | undefined {
  const versionAt = header.lastIndexOf(VERSION_ID_QUERY);
  const path = decodedOrUndefined(versionAt === -1 ? header : header.slice(0, versionAt));
  const versionId = versionAt === -1 ? undefined : decodedOrUndefined(header.slice(versionAt + VERSION_ID_QUERY.length));
  if (path === undefined || (versionAt !== -1 && versionId === undefined)) return undefined;
  const withoutSlash = path.startsWith('/') ? path.slice(1) : path;
  const slash = withoutSlash.indexOf('/');
  if (slash <= 0 || slash === withoutSlash.length - 1) return undefined;
  const source = { bucket: withoutSlash.slice(0, slash), key: withoutSlash.slice(slash + 1) };
  return versionId === undefined ? source : { ...source, versionId };
}

const VERSION_ID_QUERY = '?versionId=';

function decodedOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** 16 upper-case hex characters, the shape of S3's x-amz-request-id. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** An opaque base64 token, the shape of S3's x-amz-id-2. */
export function newHostId(): string {
  return randomBytes(48).toString('base64');
}

/** An S3 API error answered to the client in S3's XML error format. */
export class S3RequestError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** The elements S3 adds to some errors' document, after `<Message>`: `Key`, `BucketName`, `ArgumentName`… */
  readonly details: Readonly<Record<string, string>>;

  constructor(code: string, message: string, statusCode = 400, details: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'S3RequestError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
  }
}

/** S3's answer to a request document it cannot read. */
export function malformedXmlError(): S3RequestError {
  return new S3RequestError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
}

export function sendS3Error(reply: FastifyReply, error: S3RequestError, requestId: string): FastifyReply {
  const details = Object.entries(error.details).map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`);
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>`,
    ...details,
    `<RequestId>${escapeXml(requestId)}</RequestId></Error>`,
  ].join('');
  return reply.status(error.statusCode).header('content-type', 'application/xml').send(xml);
}

// Just enough XML for the small, flat documents of the S3 APIs the local stack answers itself
// (bucket notifications, object tagging): the SDK and the AWS CLI send no namespace prefixes, CDATA
// or nested same-name elements there.
const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as const;
const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g;
const ESCAPED = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' } as const;

function unescapeXml(text: string): string {
  return text.replace(ENTITY, (_match, decimal?: string, hex?: string, name?: keyof typeof NAMED_ENTITIES) => {
    if (name !== undefined) return NAMED_ENTITIES[name];
    return String.fromCodePoint(decimal !== undefined ? Number(decimal) : Number.parseInt(hex ?? '0', 16));
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPED[character as keyof typeof ESCAPED]);
}

/** The raw inner XML of every `<name>` element, in document order (`<name/>` gives ''). */
export function elementsNamed(xml: string, name: string): string[] {
  const element = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}\\s*>)`, 'g');
  return Array.from(xml.matchAll(element), (match) => match[1] ?? '');
}

/** The unescaped text of the first `<name>` element, or undefined when there is none. */
export function textOf(xml: string, name: string): string | undefined {
  const [inner] = elementsNamed(xml, name);
  return inner === undefined ? undefined : unescapeXml(inner);
}
