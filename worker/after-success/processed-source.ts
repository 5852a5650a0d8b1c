import type { ObjectRef } from '../common/events.ts';
import type { SourceVersion } from './source-version.ts';

/**
 * The raw object version a succeeded file was made from: the version and ETag the read returned when the
 * result carries them, else those the message named (the worker refuses to process an object whose ETag
 * differs from the message's, so these are the ones read). Throws when no ETag is known: without one, no
 * S3 call could be kept from touching a newer object, and the event would have no id.
 */
export function processedSourceOf(ref: ObjectRef, result: { readonly source?: Partial<SourceVersion> }): SourceVersion {
  const read = result.source;
  const eTag = (read?.eTag || ref.eTag || '').replace(/"/g, '');
  if (eTag === '') throw new Error(`no ETag is known for s3://${ref.bucket}/${ref.key}: neither the message nor the read gave one`);
  const versionId = read?.versionId ?? ref.versionId;
  return { bucket: ref.bucket, key: ref.key, ...(versionId ? { versionId } : {}), eTag };
}
