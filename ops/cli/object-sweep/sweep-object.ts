/**
 * One object of the raw bucket as a sweep sees it: from a ListObjectsV2 page or an S3 Inventory row.
 * Pure.
 */
import type { _Object } from '@aws-sdk/client-s3';
import { objectMessage, type ObjectMessage } from '../../../worker/common/object-message.ts';

export interface SweepObject {
  readonly key: string;
  readonly size?: number;
  /** Without quotes. */
  readonly eTag?: string;
  /** Only an inventory knows it; ListObjectsV2 does not return version ids. */
  readonly versionId?: string;
  readonly lastModified?: Date;
  /** Inventory rows of older versions or delete markers are listed but never in scope. */
  readonly latest?: boolean;
}

export function unquotedETag(eTag: string): string {
  return eTag.replace(/"/g, '');
}

export function fromListing(object: _Object): SweepObject {
  return {
    key: object.Key ?? '',
    ...(object.Size === undefined ? {} : { size: object.Size }),
    ...(object.ETag === undefined ? {} : { eTag: unquotedETag(object.ETag) }),
    ...(object.LastModified === undefined ? {} : { lastModified: object.LastModified }),
  };
}

/** The object message the trigger would have sent for it (worker/common/object-message.ts). */
export function sweepMessage(bucket: string, object: SweepObject): ObjectMessage {
  return objectMessage({
    bucket,
    key: object.key,
    ...(object.size === undefined ? {} : { size: object.size }),
    ...(object.eTag === undefined ? {} : { eTag: object.eTag }),
    ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
  });
}
