/**
 * Makes the S3 calls of a source action (source-action.ts) on the raw object. A version that is already
 * gone or was replaced ends the action without error: processing the message again must not fail on
 * what the first attempt (or a newer upload) already did. Any other failure is thrown as S3 gave it,
 * so that it is classified like every S3 failure (errors.ts: throttling and 5xx retried, AccessDenied not).
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isObjectMissing, TransientFileError } from '../errors.ts';
import type { SourceStep } from './source-action.ts';
import type { SourceVersion } from './source-version.ts';
import { mergeTags, PROCESSED_TAG, type ObjectTag } from './source-tags.ts';
import { expectedOwnerParameter } from '../sources.ts';

export const SOURCE_ACTION_RESULTS = ['done', 'gone', 'superseded', 'skipped'] as const;

export type SourceActionResult =
  | { readonly result: 'done'; readonly detail?: string }
  /** The processed version no longer exists (deleted already, by an earlier attempt or someone else). */
  | { readonly result: 'gone' }
  /** The key holds a newer object now (an unversioned bucket): it is left alone, its own event covers it. */
  | { readonly result: 'superseded' }
  /** Left as it is, for the reason given. */
  | { readonly result: 'skipped'; readonly detail: string };

/** S3's limit on a CopyObject source; a larger object would need a multipart copy. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;

/** S3 wants the copy source URL-encoded; each key segment is, the slashes between them stay. */
export function copySourceOf(source: SourceVersion): string {
  const path = `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`;
  return source.versionId === undefined ? path : `${path}?versionId=${encodeURIComponent(source.versionId)}`;
}

/** The ETag as an HTTP entity tag, for If-Match and x-amz-copy-source-if-match. */
function entityTag(eTag: string): string {
  return `"${eTag}"`;
}

function versionOf(source: SourceVersion): { VersionId?: string } {
  return source.versionId === undefined ? {} : { VersionId: source.versionId };
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** 404: gone; 412: the precondition found another object; 409: a concurrent write or delete, worth another try. */
function settledByError(error: unknown): SourceActionResult {
  if (isObjectMissing(error)) return { result: 'gone' };
  const status = statusOf(error);
  if (status === 412) return { result: 'superseded' };
  if (status === 409) throw new TransientFileError(`S3 answered 409 Conflict: another request changed the object at the same time`, { cause: error });
  throw error;
}

export interface SourceStepRunnerOptions {
  readonly s3: S3Client;
  readonly signal: AbortSignal;
  /** Stored bytes of the raw object, when known: a copy beyond MAX_SINGLE_COPY_BYTES is skipped. */
  readonly sourceBytes?: number;
  /**
   * The account that must own the raw bucket (SOURCES' expectedBucketOwner): S3 refuses a call on a bucket of
   * another account (403) instead of acting on it.
   */
  readonly expectedBucketOwner?: string;
}

/** Runs `steps` in order; the first one that does not end in `done` ends the action with its result. */
export async function runSourceSteps(steps: readonly SourceStep[], options: SourceStepRunnerOptions): Promise<SourceActionResult> {
  const { s3, signal, expectedBucketOwner: owner } = options;
  const rawBucketOwner = expectedOwnerParameter(owner);
  let tagsRead: readonly ObjectTag[] = [];
  let outcome: SourceActionResult = { result: 'done' };

  async function run(step: SourceStep): Promise<SourceActionResult> {
    const { source } = step;
    const object = { Bucket: source.bucket, Key: source.key, ...rawBucketOwner };
    switch (step.op) {
      case 'checkCurrent':
        await s3.send(new HeadObjectCommand({ ...object, IfMatch: entityTag(source.eTag) }), { abortSignal: signal });
        return { result: 'done' };
      case 'readTags': {
        const { TagSet } = await s3.send(new GetObjectTaggingCommand({ ...object, ...versionOf(source) }), { abortSignal: signal });
        tagsRead = (TagSet ?? []).map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' }));
        return { result: 'done' };
      }
      case 'writeTags': {
        const merged = mergeTags(tagsRead, step.tags);
        if (merged.dropped.includes(PROCESSED_TAG.Key)) {
          return { result: 'skipped', detail: `the object already has ${tagsRead.length} tags of its own; S3 allows 10, none of ours fit` };
        }
        await s3.send(new PutObjectTaggingCommand({ ...object, ...versionOf(source), Tagging: { TagSet: [...merged.tags] } }), { abortSignal: signal });
        return merged.dropped.length === 0 ? { result: 'done' } : { result: 'done', detail: `no room for the tags ${merged.dropped.join(', ')}` };
      }
      case 'copy': {
        if (options.sourceBytes !== undefined && options.sourceBytes > MAX_SINGLE_COPY_BYTES) {
          return { result: 'skipped', detail: `the object is ${options.sourceBytes} bytes; a single CopyObject takes at most 5 GiB` };
        }
        const copy = new CopyObjectCommand({
          Bucket: step.to.bucket,
          Key: step.to.key,
          CopySource: copySourceOf(source),
          CopySourceIfMatch: entityTag(source.eTag),
          // The archive's owner is named only when it is the raw bucket itself: another bucket's owner is not known.
          ...(step.to.bucket === source.bucket ? rawBucketOwner : {}),
          ...(owner === undefined ? {} : { ExpectedSourceBucketOwner: owner }),
        });
        await s3.send(copy, { abortSignal: signal });
        return { result: 'done' };
      }
      case 'delete': {
        // With a VersionId the delete removes that version only; If-Match applies to the current version, so it goes without.
        const condition = source.versionId === undefined ? { IfMatch: entityTag(source.eTag) } : versionOf(source);
        await s3.send(new DeleteObjectCommand({ ...object, ...condition }), { abortSignal: signal });
        return { result: 'done' };
      }
    }
  }

  for (const step of steps) {
    let result: SourceActionResult;
    try {
      result = await run(step);
    } catch (error) {
      if (signal.aborted) throw error;
      result = settledByError(error);
    }
    if (result.result !== 'done') return result;
    if (result.detail !== undefined) outcome = result;
  }
  return outcome;
}
