/**
 * The ETag preconditions S3 honours and the emulator ignores, as plain functions of the request's
 * headers and the object stored now: DeleteObject's `If-Match` and CopyObject's
 * `x-amz-copy-source-if-match` / `x-amz-copy-source-if-none-match`. Each answers the S3 error the
 * request ends in, or undefined when the request may go on to the emulator.
 */
import { S3RequestError } from './s3-protocol.ts';

/** What a precondition compares against: the ETag of the object stored under the key now, quoted as S3 gives it. */
export interface CurrentObject {
  readonly eTag: string;
}

type HeaderValue = string | string[] | undefined;

/**
 * The entity tags a conditional header lists, without quotes or weak prefix (`"a", W/"b"` → a, b),
 * or '*' for any object. Clients send them quoted (the SDK passes what it is given, the AWS CLI's
 * examples send them bare); S3 compares the tag itself, so both forms match.
 */
export function entityTagsOf(header: string): readonly string[] | '*' {
  const tags = header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  if (tags.includes('*')) return '*';
  return tags.map(bareEntityTag);
}

function bareEntityTag(tag: string): string {
  const strong = tag.startsWith('W/') ? tag.slice(2) : tag;
  return strong.length >= 2 && strong.startsWith('"') && strong.endsWith('"') ? strong.slice(1, -1) : strong;
}

/** Whether `header` (an If-Match style list) names the object `current`; '*' names any object. */
export function entityTagMatches(header: string, current: CurrentObject): boolean {
  const tags = entityTagsOf(header);
  return tags === '*' || tags.includes(bareEntityTag(current.eTag));
}

const PRECONDITION_FAILED_MESSAGE = 'At least one of the pre-conditions you specified did not hold';

/** S3's 412, naming the header whose condition did not hold as S3 does in `<Condition>`. */
export function preconditionFailed(condition: string): S3RequestError {
  return new S3RequestError('PreconditionFailed', PRECONDITION_FAILED_MESSAGE, 412, { Condition: condition });
}

function noSuchKey(key: string): S3RequestError {
  return new S3RequestError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
}

function singleHeader(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * DeleteObject with `If-Match` on a general purpose bucket: 412 PreconditionFailed when the object
 * stored now has another ETag, 404 NoSuchKey when there is none (S3 answers a missing key with 204
 * only to an unconditional delete). Without the header, nothing to check.
 */
export function deletePreconditionError(
  headers: Readonly<Record<string, HeaderValue>>,
  key: string,
  current: CurrentObject | undefined,
): S3RequestError | undefined {
  const ifMatch = singleHeader(headers['if-match']);
  if (ifMatch === undefined) return undefined;
  if (current === undefined) return noSuchKey(key);
  return entityTagMatches(ifMatch, current) ? undefined : preconditionFailed('If-Match');
}

/**
 * CopyObject's conditions on its source: `x-amz-copy-source-if-match` must name the source's ETag,
 * `x-amz-copy-source-if-none-match` must not; either failing is a 412 and nothing is copied. A
 * missing source is left to the emulator, which answers NoSuchKey as S3 does.
 */
export function copySourcePreconditionError(
  headers: Readonly<Record<string, HeaderValue>>,
  source: CurrentObject | undefined,
): S3RequestError | undefined {
  if (source === undefined) return undefined;
  const ifMatch = singleHeader(headers['x-amz-copy-source-if-match']);
  if (ifMatch !== undefined && !entityTagMatches(ifMatch, source)) return preconditionFailed('x-amz-copy-source-If-Match');
  const ifNoneMatch = singleHeader(headers['x-amz-copy-source-if-none-match']);
  if (ifNoneMatch !== undefined && entityTagMatches(ifNoneMatch, source)) return preconditionFailed('x-amz-copy-source-If-None-Match');
  return undefined;
}
