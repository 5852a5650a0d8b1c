/**
 * S3 in memory, behind the real S3Client: a request handler that serves the operations the worker's
 * file path uses (GetObject, PutObject, the multipart upload calls, CopyObject, DeleteObjects) from Maps and answers
 * with the HTTP responses S3 sends, so that the SDK serialises, signs, checksums and parses as it does
 * against S3. No network. Faults can be injected per operation and key.
 *
 * Unlike S3 it accepts parts of any size, so that small tests reach multipart uploads.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { HttpResponse, type HttpHandler, type HttpHandlerOptions, type HttpRequest } from '@smithy/core/protocols';

export const S3_OPERATIONS = [
  'GetObject',
  'HeadObject',
  'PutObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'CopyObject',
  'DeleteObjects',
] as const;
export type S3Operation = (typeof S3_OPERATIONS)[number];

export interface MemoryObject {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly eTag: string;
  /** Sent by GetObject as x-amz-version-id, as a versioned bucket does. */
  readonly versionId?: string;
}

export interface S3Call {
  readonly operation: S3Operation;
  readonly bucket: string;
  readonly key: string;
}

export interface S3Fault {
  readonly operation: S3Operation;
  /** Only requests for this key; default every key. */
  readonly key?: string;
  /** Default 500 InternalError. */
  readonly status?: number;
  readonly code?: string;
  /** How many requests fail; default all that match. */
  readonly times?: number;
  /** GetObject only: instead of an error, the body ends after this many bytes (Content-Length still says all). */
  readonly bodyEndsAfterBytes?: number;
}

interface MultipartState {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string | undefined;
  readonly metadata: Record<string, string>;
  readonly parts: Map<number, { readonly body: Buffer; readonly eTag: string }>;
}

/** A failed request, answered as S3 answers it. */
class S3ErrorResponse extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const ENDPOINT = 'http://s3.in-memory.test';

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function xmlValues(xml: string, element: string): string[] {
  return [...xml.matchAll(new RegExp(`<${element}>([\\s\\S]*?)</${element}>`, 'g'))].map((match) => unescapeXml(match[1] ?? ''));
}

function crc32Base64(bytes: Uint8Array): string {
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(bytes));
  return checksum.toString('base64');
}

/** The body of an `aws-chunked` request (how the SDK sends streams with a trailing checksum), with its trailers. */
function decodeAwsChunked(encoded: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = encoded.indexOf('\r\n', offset);
    const size = parseInt(encoded.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    chunks.push(encoded.subarray(offset, offset + size));
    offset += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of encoded.subarray(offset).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(chunks), trailers };
}

async function bytesOf(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body);
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new Error(`a request body of an unexpected kind: ${Object.prototype.toString.call(body)}`);
}

/** A request header, whatever the case of its name. */
function header(request: HttpRequest, name: string): string | undefined {
  const found = Object.keys(request.headers).find((candidate) => candidate.toLowerCase() === name);
  return found === undefined ? undefined : request.headers[found];
}

function bodyStream(body: Buffer, chunkBytes: number): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += chunkBytes) chunks.push(body.subarray(offset, offset + chunkBytes));
  return Readable.from(chunks);
}

export class InMemoryS3 {
  /** Stored objects by `bucket/key`. */
  readonly objects = new Map<string, MemoryObject>();
  /** Multipart uploads started and neither completed nor aborted, by upload id. */
  readonly uploads = new Map<string, MultipartState>();
  /** Every request served, faults included, in order. */
  readonly calls: S3Call[] = [];
  private readonly faults: Array<S3Fault & { remaining: number }> = [];
  private readonly getObjectChunkBytes: number;
  private nextUploadId = 1;

  /** `getObjectChunkBytes`: GetObject bodies arrive in chunks this large, as from a socket. */
  constructor(options: { readonly getObjectChunkBytes?: number } = {}) {
    this.getObjectChunkBytes = options.getObjectChunkBytes ?? 64 * 1024;
  }

  /** An S3Client whose requests this store serves; one attempt per request, so that an injected fault is final. */
  client(): S3Client {
    return new S3Client({
      region: 'us-east-1',
      endpoint: ENDPOINT,
      forcePathStyle: true,
      credentials: { accessKeyId: 'in-memory', secretAccessKey: 'in-memory' },
      maxAttempts: 1,
      requestHandler: this.handler,
    });
  }

  put(bucket: string, key: string, body: Buffer | string, contentType?: string, versionId?: string): void {
    const bytes = Buffer.from(body);
    this.objects.set(`${bucket}/${key}`, { body: bytes, contentType, metadata: {}, eTag: `"${md5(bytes)}"`, ...(versionId ? { versionId } : {}) });
  }

  get(bucket: string, key: string): MemoryObject | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }

  /** The stored objects of `bucket` (every bucket without one), as `bucket/key` → size, sorted. */
  sizes(bucket?: string): Map<string, number> {
    const entries = [...this.objects].filter(([name]) => bucket === undefined || name.startsWith(`${bucket}/`));
    return new Map(entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, object]) => [name, object.body.length]));
  }

  fail(fault: S3Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  callsOf(operation: S3Operation): S3Call[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  readonly handler: HttpHandler = {
    handle: (request: HttpRequest, options?: HttpHandlerOptions) => this.handle(request, options),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };

  private async handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
    if (options?.abortSignal?.aborted === true) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    const [bucket = '', ...keyParts] = request.path.replace(/^\//, '').split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    const operation = this.operationOf(request.method, request.query, key, header(request, 'x-amz-copy-source') !== undefined);
    try {
      if (operation === undefined) throw new S3ErrorResponse(501, 'NotImplemented', `${request.method} ${request.path} is not served in memory`);
      this.calls.push({ operation, bucket, key });
      const fault = this.faults.find((candidate) => candidate.operation === operation && (candidate.key ?? key) === key && candidate.remaining > 0);
      if (fault !== undefined) fault.remaining -= 1;
      if (fault !== undefined && fault.bodyEndsAfterBytes === undefined) {
        throw new S3ErrorResponse(fault.status ?? 500, fault.code ?? 'InternalError', `injected ${operation} fault`);
      }
      const body = await this.requestBody(request);
      return { response: this.serve(operation, request, bucket, key, body, fault?.bodyEndsAfterBytes) };
    } catch (error) {
      if (!(error instanceof S3ErrorResponse)) throw error;
      const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message><RequestId>in-memory</RequestId></Error>`;
      return { response: new HttpResponse({ statusCode: error.status, headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(xml)]) }) };
    }
  }

  private operationOf(method: string, query: HttpRequest['query'], key: string, copying: boolean): S3Operation | undefined {
    const has = (name: string) => Object.hasOwn(query, name);
    if (key === '') return method === 'POST' && has('delete') ? 'DeleteObjects' : undefined;
    if (method === 'GET' && !has('uploadId')) return 'GetObject';
    if (method === 'HEAD') return 'HeadObject';
    if (method === 'PUT' && copying) return has('uploadId') ? undefined : 'CopyObject';
    if (method === 'PUT') return has('uploadId') ? 'UploadPart' : 'PutObject';
    if (method === 'POST') return has('uploads') ? 'CreateMultipartUpload' : has('uploadId') ? 'CompleteMultipartUpload' : undefined;
    if (method === 'DELETE' && has('uploadId')) return 'AbortMultipartUpload';
    return undefined;
  }

  /** The request's bytes, checked against the CRC32 the SDK sent with them, as S3 checks it. */
  private async requestBody(request: HttpRequest): Promise<Buffer> {
    let body = await bytesOf(request.body);
    let checksum = header(request, 'x-amz-checksum-crc32');
    if ((header(request, 'content-encoding') ?? '').includes('aws-chunked')) {
      const decoded = decodeAwsChunked(body);
      body = decoded.body;
      checksum ??= decoded.trailers['x-amz-checksum-crc32'];
    }
    if (checksum !== undefined && checksum !== crc32Base64(body)) throw new S3ErrorResponse(400, 'BadDigest', 'the CRC32 does not match the body');
    return body;
  }

  private serve(operation: S3Operation, request: HttpRequest, bucket: string, key: string, body: Buffer, bodyEndsAfterBytes?: number): HttpResponse {
    switch (operation) {
      case 'GetObject':
        return this.getObject(bucket, key, bodyEndsAfterBytes);
      case 'HeadObject': {
        const { statusCode, headers } = this.getObject(bucket, key);
        return new HttpResponse({ statusCode, headers, body: Readable.from([]) });
      }
      case 'PutObject': {
        const object = { body, ...this.objectHeaders(request), eTag: `"${md5(body)}"` };
        this.objects.set(`${bucket}/${key}`, object);
        return response(200, { etag: object.eTag });
      }
      case 'CreateMultipartUpload': {
        const uploadId = `upload-${this.nextUploadId++}`;
        this.uploads.set(uploadId, { bucket, key, ...this.objectHeaders(request), parts: new Map() });
        return xmlResponse(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
      }
      case 'UploadPart': {
        const eTag = `"${md5(body)}"`;
        this.upload(request, bucket, key).parts.set(Number(request.query['partNumber']), { body, eTag });
        return response(200, { etag: eTag, 'x-amz-checksum-crc32': crc32Base64(body) });
      }
      case 'CompleteMultipartUpload':
        return this.completeUpload(request, bucket, key, body.toString('utf8'));
      case 'AbortMultipartUpload':
        this.upload(request, bucket, key);
        this.uploads.delete(String(request.query['uploadId']));
        return response(204, {});
      case 'CopyObject':
        return this.copyObject(request, bucket, key);
      case 'DeleteObjects': {
        for (const deleted of xmlValues(body.toString('utf8'), 'Key')) this.objects.delete(`${bucket}/${deleted}`);
        return xmlResponse('<DeleteResult></DeleteResult>');
      }
    }
  }

  private getObject(bucket: string, key: string, bodyEndsAfterBytes?: number): HttpResponse {
    const object = this.objects.get(`${bucket}/${key}`);
    if (object === undefined) throw new S3ErrorResponse(404, 'NoSuchKey', 'The specified key does not exist.');
    const headers: Record<string, string> = { 'content-length': String(object.body.length), etag: object.eTag, 'last-modified': new Date(0).toUTCString() };
    if (object.contentType !== undefined) headers['content-type'] = object.contentType;
    if (object.versionId !== undefined) headers['x-amz-version-id'] = object.versionId;
    for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
    const sent = bodyEndsAfterBytes === undefined ? object.body : object.body.subarray(0, bodyEndsAfterBytes);
    return new HttpResponse({ statusCode: 200, headers, body: bodyStream(sent, this.getObjectChunkBytes) });
  }

  /** Within one store; metadata and content type as the directive says, the If-Match precondition checked. */
  private copyObject(request: HttpRequest, bucket: string, key: string): HttpResponse {
    const source = decodeURIComponent(header(request, 'x-amz-copy-source') ?? '').replace(/^\//, '');
    const object = this.objects.get(source);
    if (object === undefined) throw new S3ErrorResponse(404, 'NoSuchKey', 'The specified key does not exist.');
    const ifMatch = header(request, 'x-amz-copy-source-if-match');
    if (ifMatch !== undefined && ifMatch.replace(/"/g, '') !== object.eTag.replace(/"/g, '')) {
      throw new S3ErrorResponse(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    const replace = header(request, 'x-amz-metadata-directive') === 'REPLACE';
    if (source === `${bucket}/${key}` && !replace) {
      throw new S3ErrorResponse(400, 'InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata');
    }
    const copy = { body: object.body, ...(replace ? this.objectHeaders(request) : { contentType: object.contentType, metadata: object.metadata }), eTag: `"${md5(object.body)}"` };
    this.objects.set(`${bucket}/${key}`, copy);
    return xmlResponse(`<CopyObjectResult><ETag>${escapeXml(copy.eTag)}</ETag><LastModified>${new Date(0).toISOString()}</LastModified></CopyObjectResult>`);
  }

  private completeUpload(request: HttpRequest, bucket: string, key: string, xml: string): HttpResponse {
    const upload = this.upload(request, bucket, key);
    const numbers = xmlValues(xml, 'PartNumber').map(Number);
    const eTags = xmlValues(xml, 'ETag');
    const parts = numbers.map((number, index) => {
      const part = upload.parts.get(number);
      if (part === undefined || part.eTag !== eTags[index]) throw new S3ErrorResponse(400, 'InvalidPart', `part ${number} was not uploaded as listed`);
      return part;
    });
    if (numbers.some((number, index) => index > 0 && number <= (numbers[index - 1] ?? 0))) throw new S3ErrorResponse(400, 'InvalidPartOrder', 'parts out of order');
    const eTag = `"${md5(Buffer.concat(parts.map((part) => Buffer.from(part.eTag.replace(/"/g, ''), 'hex'))))}-${parts.length}"`;
    this.objects.set(`${bucket}/${key}`, { body: Buffer.concat(parts.map((part) => part.body)), contentType: upload.contentType, metadata: upload.metadata, eTag });
    this.uploads.delete(String(request.query['uploadId']));
    return xmlResponse(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(eTag)}</ETag></CompleteMultipartUploadResult>`);
  }

  private upload(request: HttpRequest, bucket: string, key: string): MultipartState {
    const upload = this.uploads.get(String(request.query['uploadId']));
    if (upload === undefined || upload.bucket !== bucket || upload.key !== key) throw new S3ErrorResponse(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return upload;
  }

  private objectHeaders(request: HttpRequest): { contentType: string | undefined; metadata: Record<string, string> } {
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (name.toLowerCase().startsWith('x-amz-meta-')) metadata[name.toLowerCase().slice('x-amz-meta-'.length)] = value;
    }
    return { contentType: header(request, 'content-type'), metadata };
  }
}

function response(statusCode: number, headers: Record<string, string>): HttpResponse {
  return new HttpResponse({ statusCode, headers, body: Readable.from([]) });
}

function xmlResponse(xml: string): HttpResponse {
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
  return new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/xml' }, body: Readable.from([body]) });
}
