import { postObjectKey } from './post-object-key.ts';

export const OBJECT_CREATED_EVENT_NAMES = [
  'ObjectCreated:Put',
  'ObjectCreated:Post',
  'ObjectCreated:Copy',
  'ObjectCreated:CompleteMultipartUpload',
] as const;

export type ObjectCreatedEventName = (typeof OBJECT_CREATED_EVENT_NAMES)[number];

/** What the emulator answered, as an `onResponse` hook sees it (bucket and key already URL-decoded). */
export interface FinishedS3Request {
  readonly method: string;
  readonly statusCode: number;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface CreatedObject {
  readonly eventName: ObjectCreatedEventName;
  readonly bucket: string;
  readonly key: string;
}

const POST_OBJECT_SUCCESS = new Set([200, 201, 204, 303]);

/** The object a successful request created, or undefined for every other request. */
export function createdObjectOf(request: FinishedS3Request): CreatedObject | undefined {
  const { bucket, key } = request;
  if (bucket === undefined || bucket === '') return undefined;
  if (request.method === 'PUT' && key && request.statusCode === 200 && isPlainObjectWrite(request.query)) {
    const eventName = request.headers['x-amz-copy-source'] === undefined ? 'ObjectCreated:Put' : 'ObjectCreated:Copy';
    return { eventName, bucket, key };
  }
  if (request.method === 'POST' && key && request.statusCode === 200 && isMultipartCompletion(request.query)) {
    return { eventName: 'ObjectCreated:CompleteMultipartUpload', bucket, key };
  }
  if (request.method === 'POST' && !key && POST_OBJECT_SUCCESS.has(request.statusCode)) {
    const postedKey = postedObjectKey(request);
    return postedKey ? { eventName: 'ObjectCreated:Post', bucket, key: postedKey } : undefined;
  }
  return undefined;
}

// PutObject and CopyObject carry no sub-resource in the query: only the SDK's `x-id` and the
// parameters of a presigned URL. Anything else (uploadId, tagging, acl, ...) is another operation.
function isPlainObjectWrite(query: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(query).every((name) => name === 'x-id' || /^x-amz-/i.test(name) || PRESIGN_V2_PARAMS.has(name));
}

const PRESIGN_V2_PARAMS = new Set(['AWSAccessKeyId', 'Expires', 'Signature']);

function isMultipartCompletion(query: Readonly<Record<string, unknown>>): boolean {
  return typeof query['uploadId'] === 'string' && query['uploadId'] !== '' && !('uploads' in query);
}

function postedObjectKey(request: FinishedS3Request): string | undefined {
  const contentType = request.headers['content-type'];
  if (typeof contentType !== 'string' || !/multipart\/form-data/i.test(contentType)) return undefined;
  return Buffer.isBuffer(request.body) ? postObjectKey(request.body, contentType) : undefined;
}
