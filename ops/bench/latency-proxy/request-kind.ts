/**
 * Which service and operation an AWS request is, from its method, URL and headers: SQS speaks the JSON
 * protocol (`POST /` with an X-Amz-Target header), S3 is path-style `/bucket/key?query`. Pure.
 * test/support/fault-proxy.ts names S3 operations with the same functions.
 */
import type { Agent, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';

export type Service = 's3' | 'sqs';

export interface RequestKind {
  readonly service: Service;
  /** S3: GetObject, PutObject, UploadPart, CreateMultipartUpload, …; SQS: the X-Amz-Target action. */
  readonly operation: string;
}

export function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function s3BucketOperation(method: string, query: URLSearchParams): string {
  if (method === 'GET') return 'ListObjects';
  if (method === 'HEAD') return 'HeadBucket';
  if (method === 'PUT') return query.has('notification') ? 'PutBucketNotificationConfiguration' : 'CreateBucket';
  if (method === 'DELETE') return 'DeleteBucket';
  return 'DeleteObjects';
}

export function s3ObjectOperation(method: string, query: URLSearchParams, headers: IncomingHttpHeaders): string {
  switch (method) {
    case 'GET':
      return query.has('attributes') ? 'GetObjectAttributes' : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (query.has('uploadId') && query.has('partNumber')) return 'UploadPart';
      return headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      return 'DeleteObjects';
    case 'DELETE':
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default:
      return method;
  }
}

export function classifyRequest(method: string, url: string, headers: IncomingHttpHeaders): RequestKind {
  const target = headerText(headers, 'x-amz-target');
  if (target !== undefined) return { service: 'sqs', operation: target.slice(target.lastIndexOf('.') + 1) };
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
  const contentType = headerText(headers, 'content-type') ?? '';
  if (method === 'POST' && path === '/' && contentType.startsWith('application/x-www-form-urlencoded')) {
    // The SQS query protocol, which older clients speak: the action is in the body, not read here.
    return { service: 'sqs', operation: 'Query' };
  }
  const [, bucket = '', ...keyParts] = path.split('/');
  if (bucket === '') return { service: 's3', operation: method === 'GET' ? 'ListBuckets' : `${method} /` };
  const hasKey = keyParts.some((part) => part !== '');
  return { service: 's3', operation: hasKey ? s3ObjectOperation(method, query, headers) : s3BucketOperation(method, query) };
}

/** Not forwarded: hop-by-hop, or handled by node:http itself on the other leg. */
const DROPPED_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'expect', 'upgrade', 'host']);

/** A request's headers as a proxy passes them on. */
export function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !DROPPED_HEADERS.has(name)) out[name] = value;
  }
  return out;
}

/** The request a proxy sends upstream for `request`: same method, path and headers, to `upstream`'s host. */
export function upstreamRequestOptions(request: IncomingMessage, upstream: URL, agent: Agent): RequestOptions {
  return {
    host: upstream.hostname.replace(/^\[|\]$/g, ''),
    port: upstream.port,
    method: request.method,
    path: request.url,
    headers: { ...forwardedHeaders(request.headers), host: upstream.host },
    agent,
  };
}
