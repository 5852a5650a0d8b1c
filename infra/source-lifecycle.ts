import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { SourceAfterSuccess } from './settings.ts';
import { sourceObjects, type IngestSource } from './sources.ts';

/** The object tag the worker sets in tag mode (SOURCE_AFTER_SUCCESS=tag), which the expiry rule filters on. */
export const PROCESSED_TAG = { key: 'iot-ingest', value: 'processed' } as const;

export interface SourceLifecycleOptions {
  readonly mode: SourceAfterSuccess;
  /** The raw sources: a bucket and a key prefix each (sources.ts). */
  readonly sources: readonly Pick<IngestSource, 'bucket' | 'prefix'>[];
  /** The archive prefix in each source's bucket (move mode): a source's objects are archived under it + their key. */
  readonly archivePrefix: string;
}

/** An identity or bucket policy grant as data, so that a bucket policy for another account can carry the same. */
export interface ObjectGrant {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * What the worker's task role needs on the source objects for the mode, beyond reading (GetObject, GetObjectVersion)
 * and listing it, which every mode has. The raw bucket the stack creates is versioned (an existing one may be), so
 * the worker names the version it processed: the *Version* actions are what S3 checks for a request with a versionId.
 * - keep: nothing.
 * - tag: read the object's tags (kept, at most 10 in all) and write them back with the worker's.
 * - delete: delete that version.
 * - move: copy to the archive prefix, then delete that version. A copy carries the source's tags by default,
 *   and S3 then checks s3:GetObjectTagging / s3:GetObjectVersionTagging on the source and s3:PutObjectTagging
 *   on the copy: without them, moving an object that has any tag fails with AccessDenied.
 * `objects` are the source objects' ARN patterns, `archived` where they are archived to.
 */
export function sourceLifecycleGrants(mode: SourceAfterSuccess, objects: readonly string[], archived: readonly string[]): ObjectGrant[] {
  const deleteProcessedVersion = { sid: 'DeleteProcessedRawObjects', actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], resources: objects };
  switch (mode) {
    case 'keep':
      return [];
    case 'tag':
      return [
        {
          sid: 'TagProcessedRawObjects',
          actions: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
          resources: objects,
        },
      ];
    case 'delete':
      return [deleteProcessedVersion];
    case 'move':
      return [
        { sid: 'CopyTagsOfRawObjects', actions: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'], resources: objects },
        { sid: 'WriteArchivedRawObjects', actions: ['s3:PutObject', 's3:PutObjectTagging'], resources: archived },
        deleteProcessedVersion,
      ];
  }
}

/** sourceLifecycleGrants as the worker's identity policy statements. */
export function sourceLifecycleStatements(options: SourceLifecycleOptions): iam.PolicyStatement[] {
  const objects = options.sources.map((source) => sourceObjects(source));
  const archived = options.sources.map((source) => sourceObjects(source, options.archivePrefix));
  return sourceLifecycleGrants(options.mode, objects, archived).map(
    (grant) => new iam.PolicyStatement({ sid: grant.sid, actions: [...grant.actions], resources: [...grant.resources] }),
  );
}

/**
 * The lifecycle rule that expires what the mode leaves behind after `days`: objects tagged iot-ingest=processed
 * (tag mode) or archived under the prefix (move mode). S3 counts the days from when the object was written: the
 * upload for a tagged object, the copy for an archived one. In the versioned raw bucket expiring the current
 * version only adds a delete marker, so the rule also removes such versions `days` after they stop being current.
 * Undefined for the modes that leave nothing to expire.
 */
export function sourceExpiryRule(mode: SourceAfterSuccess, archivePrefix: string, days: number): s3.LifecycleRule | undefined {
  const expiry = { expiration: Duration.days(days), noncurrentVersionExpiration: Duration.days(days) };
  if (mode === 'tag') return { id: 'expire-processed-raw-objects', tagFilters: { [PROCESSED_TAG.key]: PROCESSED_TAG.value }, ...expiry };
  if (mode === 'move') return { id: 'expire-archived-raw-objects', prefix: archivePrefix, ...expiry };
  return undefined;
}
