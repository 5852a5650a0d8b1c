/**
 * S3 bucket versioning, which the emulator lacks: the versions and delete markers of every key of a
 * bucket once versioning was enabled, beside the emulator's own store, which keeps holding the
 * current object of each key (so every emulator action that reads the current object stays right).
 * Each key's history is newest first and its head is always the key's current state: the object the
 * emulator holds, or a delete marker when it holds none. All of it is synchronous, so a request's
 * check and its action happen in one turn, as the hooks in bucket-versioning.ts need.
 *
 * As on S3: objects stored before versioning was first enabled become version `null`; with
 * versioning Suspended a write or a delete replaces the `null` version; deleting the current version
 * by id makes the one before it current again; a key's only delete marker removed brings it back.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 */
import { randomBytes } from 'node:crypto';
import { S3RequestError } from './s3-protocol.ts';

export type VersioningStatus = 'Enabled' | 'Suspended';

/** What is known of a stored object here: the emulator's own stored object carries these. */
export interface StoredObject {
  readonly key: string;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentLength: number;
}

/** What this needs of the emulator's S3 store: the current objects, and to set or remove one. */
export interface CurrentObjects<T extends StoredObject> {
  hasBucket(bucket: string): boolean;
  /** Throws the emulator's NoSuchBucket or NoSuchKey error when there is none. */
  headObject(bucket: string, key: string): T;
  listObjects(bucket: string, options: { readonly maxKeys: number }): { readonly objects: readonly T[] };
  /** Makes `object` the current object of its key, as it was (the emulator's `restoreObject`). */
  restoreObject(bucket: string, object: T): void;
  deleteObject(bucket: string, key: string): void;
}

export type ObjectVersion<T> =
  | { readonly versionId: string; readonly kind: 'object'; readonly object: T }
  | { readonly versionId: string; readonly kind: 'deleteMarker'; readonly lastModified: Date };

export interface ListedVersion<T> {
  readonly key: string;
  readonly version: ObjectVersion<T>;
  readonly isLatest: boolean;
}

export interface VersionListing<T> {
  readonly versions: readonly ListedVersion<T>[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker?: string;
  readonly nextVersionIdMarker?: string;
}

export interface ListVersionsOptions {
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly keyMarker?: string;
  readonly versionIdMarker?: string;
  readonly maxKeys: number;
}

/** What a delete did: the version it removed or the delete marker it created. */
export interface DeleteOutcome {
  readonly versionId: string;
  readonly deleteMarker: boolean;
}

export const NULL_VERSION_ID = 'null';

export interface ObjectVersions<T extends StoredObject> {
  /** undefined for a bucket whose versioning was never set (S3 answers an empty configuration). */
  statusOf(bucket: string): VersioningStatus | undefined;
  setStatus(bucket: string, status: VersioningStatus): void;
  /**
   * Records the object the emulator has just stored under `key` as that key's newest version; its
   * version id, or undefined for a bucket without versioning.
   */
  recordWrite(bucket: string, key: string): string | undefined;
  /** DeleteObject without a version id on a versioned bucket: a delete marker becomes current. */
  deleteCurrent(bucket: string, key: string): DeleteOutcome;
  /** DeleteObject of one version; S3 answers success also when there was no such version. */
  deleteVersion(bucket: string, key: string, versionId: string): DeleteOutcome;
  /**
   * The version `versionId` names (the current one when undefined); throws S3's error: NoSuchBucket,
   * NoSuchKey, NoSuchVersion, or InvalidArgument for a version id an unversioned bucket never issued.
   */
  versionAt(bucket: string, key: string, versionId: string | undefined): ObjectVersion<T>;
  /**
   * The stored object `versionId` names (the current one when undefined); throws as `versionAt`, and
   * for a delete marker as S3 does: NoSuchKey when it is current and named by no id, else MethodNotAllowed.
   */
  objectAt(bucket: string, key: string, versionId: string | undefined): T;
  /** The id of the key's current version (object or delete marker); undefined without versioning. */
  currentVersionId(bucket: string, key: string): string | undefined;
  /** Whether anything but current objects is kept: S3 refuses to delete such a bucket. */
  keepsVersions(bucket: string): boolean;
  forgetBucket(bucket: string): void;
  listVersions(bucket: string, options: ListVersionsOptions): VersionListing<T>;
}

/** 32 URL-safe characters, like S3's version ids. */
function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

export function createObjectVersions<T extends StoredObject>(objects: CurrentObjects<T>): ObjectVersions<T> {
  const statuses = new Map<string, VersioningStatus>();
  /** Per bucket, per key, newest first; only for buckets whose versioning was ever set. */
  const histories = new Map<string, Map<string, ObjectVersion<T>[]>>();

  const currentObject = (bucket: string, key: string): T | undefined => {
    try {
      return objects.headObject(bucket, key);
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey') return undefined;
      throw asS3RequestError(error, bucket, key);
    }
  };

  const historyOf = (bucket: string, key: string): ObjectVersion<T>[] => {
    const keys = histories.get(bucket);
    if (keys === undefined) throw new Error(`no version history for bucket ${bucket}`);
    let history = keys.get(key);
    if (history === undefined) keys.set(key, (history = []));
    return history;
  };

  /** Puts a new head on the history; with versioning Suspended it replaces the `null` version. */
  const pushVersion = (bucket: string, key: string, version: (versionId: string) => ObjectVersion<T>): ObjectVersion<T> => {
    const history = historyOf(bucket, key);
    const versionId = statuses.get(bucket) === 'Enabled' ? newVersionId() : NULL_VERSION_ID;
    if (versionId === NULL_VERSION_ID) {
      const nullAt = history.findIndex((entry) => entry.versionId === NULL_VERSION_ID);
      if (nullAt !== -1) history.splice(nullAt, 1);
    }
    const added = version(versionId);
    history.unshift(added);
    return added;
  };

  /** After the head changed: the emulator holds the new head's object, or none under a delete marker. */
  const applyHead = (bucket: string, key: string, history: ObjectVersion<T>[]): void => {
    const head = history[0];
    if (head?.kind === 'object') objects.restoreObject(bucket, head.object);
    else if (currentObject(bucket, key) !== undefined) objects.deleteObject(bucket, key);
    if (history.length === 0) histories.get(bucket)?.delete(key);
  };

  const assertBucket = (bucket: string): void => {
    if (!objects.hasBucket(bucket)) {
      throw new S3RequestError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
    }
  };

  const versions: ObjectVersions<T> = {
    statusOf: (bucket) => statuses.get(bucket),

    setStatus(bucket, status) {
      assertBucket(bucket);
      if (!histories.has(bucket)) {
        // What was stored before versioning was first enabled is version `null` of its key.
        const keys = new Map<string, ObjectVersion<T>[]>();
        for (const object of objects.listObjects(bucket, { maxKeys: Number.MAX_SAFE_INTEGER }).objects) {
          keys.set(object.key, [{ versionId: NULL_VERSION_ID, kind: 'object', object }]);
        }
        histories.set(bucket, keys);
      }
      statuses.set(bucket, status);
    },

    recordWrite(bucket, key) {
      if (!statuses.has(bucket)) return undefined;
      const object = objects.headObject(bucket, key);
      return pushVersion(bucket, key, (versionId) => ({ versionId, kind: 'object', object })).versionId;
    },

    deleteCurrent(bucket, key) {
      assertBucket(bucket);
      const marker = pushVersion(bucket, key, (versionId) => ({ versionId, kind: 'deleteMarker', lastModified: new Date() }));
      applyHead(bucket, key, historyOf(bucket, key));
      return { versionId: marker.versionId, deleteMarker: true };
    },

    deleteVersion(bucket, key, versionId) {
      assertBucket(bucket);
      if (!statuses.has(bucket)) {
        assertIssuedByUnversionedBucket(versionId);
        if (currentObject(bucket, key) !== undefined) objects.deleteObject(bucket, key);
        return { versionId, deleteMarker: false };
      }
      const history = historyOf(bucket, key);
      const at = history.findIndex((entry) => entry.versionId === versionId);
      if (at === -1) {
        if (history.length === 0) histories.get(bucket)?.delete(key);
        return { versionId, deleteMarker: false };
      }
      const [removed] = history.splice(at, 1);
      if (at === 0) applyHead(bucket, key, history);
      else if (history.length === 0) histories.get(bucket)?.delete(key);
      return { versionId, deleteMarker: removed?.kind === 'deleteMarker' };
    },

    versionAt(bucket, key, versionId) {
      assertBucket(bucket);
      const history = statuses.has(bucket) ? histories.get(bucket)?.get(key) : undefined;
      if (versionId === undefined) {
        // The emulator's current object, even when a write's hooks have not recorded it yet.
        const current = currentObject(bucket, key);
        if (current !== undefined) {
          const recorded = history?.find((entry) => entry.kind === 'object' && entry.object === current);
          return { versionId: recorded?.versionId ?? NULL_VERSION_ID, kind: 'object', object: current };
        }
        const head = history?.[0];
        if (head?.kind === 'deleteMarker') return head;
        throw noSuchKey(key);
      }
      if (!statuses.has(bucket)) {
        assertIssuedByUnversionedBucket(versionId);
        const current = currentObject(bucket, key);
        if (current === undefined) throw noSuchKey(key);
        return { versionId, kind: 'object', object: current };
      }
      const found = history?.find((entry) => entry.versionId === versionId);
      if (found === undefined) {
        throw new S3RequestError('NoSuchVersion', 'The specified version does not exist.', 404, { Key: key, VersionId: versionId });
      }
      return found;
    },

    objectAt(bucket, key, versionId) {
      const version = versions.versionAt(bucket, key, versionId);
      if (version.kind === 'object') return version.object;
      if (versionId === undefined) throw noSuchKey(key);
      throw new S3RequestError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
        Method: 'GET',
        ResourceType: 'DeleteMarker',
      });
    },

    currentVersionId(bucket, key) {
      if (!statuses.has(bucket)) return undefined;
      return histories.get(bucket)?.get(key)?.[0]?.versionId;
    },

    keepsVersions(bucket) {
      for (const history of histories.get(bucket)?.values() ?? []) {
        if (history.length > 1 || history[0]?.kind === 'deleteMarker') return true;
      }
      return false;
    },

    forgetBucket(bucket) {
      statuses.delete(bucket);
      histories.delete(bucket);
    },

    listVersions(bucket, options) {
      assertBucket(bucket);
      return listVersions(allVersions(bucket), options);
    },
  };
  return versions;

  /** Every version of every key, keys in S3's order, each key's newest first. */
  function allVersions(bucket: string): ListedVersion<T>[] {
    const byKey = new Map<string, readonly ObjectVersion<T>[]>();
    const history = statuses.has(bucket) ? histories.get(bucket) : undefined;
    if (history === undefined) {
      for (const object of objects.listObjects(bucket, { maxKeys: Number.MAX_SAFE_INTEGER }).objects) {
        byKey.set(object.key, [{ versionId: NULL_VERSION_ID, kind: 'object', object }]);
      }
    } else {
      for (const [key, versions] of history) if (versions.length > 0) byKey.set(key, versions);
    }
    return [...byKey.keys()]
      .sort(compareKeys)
      .flatMap((key) => (byKey.get(key) ?? []).map((version, index) => ({ key, version, isLatest: index === 0 })));
  }
}

/** S3 lists keys in UTF-8 binary order. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** One page of ListObjectVersions, as S3 pages it: after the marker, common prefixes counted as keys. */
export function listVersions<T>(all: readonly ListedVersion<T>[], options: ListVersionsOptions): VersionListing<T> {
  const prefix = options.prefix ?? '';
  const versions: ListedVersion<T>[] = [];
  const commonPrefixes: string[] = [];
  let last: { key: string; versionId?: string } | undefined;
  let count = 0;
  let pastMarker = options.keyMarker === undefined || options.keyMarker === '';
  let markerKeySeen = false;
  for (const entry of all) {
    if (!entry.key.startsWith(prefix)) continue;
    if (!pastMarker) {
      const order = compareKeys(entry.key, options.keyMarker ?? '');
      if (order < 0) continue;
      if (order === 0) {
        // Within the marker's key: after the version id marker, or not at all without one.
        if (options.versionIdMarker === undefined || options.versionIdMarker === '') continue;
        if (!markerKeySeen) {
          if (entry.version.versionId === options.versionIdMarker) markerKeySeen = true;
          continue;
        }
      } else pastMarker = true;
    }
    const rolledUp = rollUp(entry.key, prefix, options.delimiter);
    if (rolledUp !== undefined) {
      if (commonPrefixes.at(-1) === rolledUp) continue;
      // A prefix the marker lies in was listed on an earlier page.
      if (options.keyMarker?.startsWith(rolledUp) === true) continue;
      if (count >= options.maxKeys) return truncated();
      commonPrefixes.push(rolledUp);
      last = { key: rolledUp };
    } else {
      if (count >= options.maxKeys) return truncated();
      versions.push(entry);
      last = { key: entry.key, versionId: entry.version.versionId };
    }
    count += 1;
  }
  return { versions, commonPrefixes, isTruncated: false };

  function truncated(): VersionListing<T> {
    const next = last ?? { key: '' };
    return {
      versions,
      commonPrefixes,
      isTruncated: true,
      nextKeyMarker: next.key,
      ...(next.versionId === undefined ? {} : { nextVersionIdMarker: next.versionId }),
    };
  }
}

function rollUp(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined || delimiter === '') return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}

/** An unversioned bucket's objects have the one version `null`; S3 cannot read any other id there. */
function assertIssuedByUnversionedBucket(versionId: string): void {
  if (versionId === NULL_VERSION_ID) return;
  throw new S3RequestError('InvalidArgument', 'Invalid version id specified', 400, { ArgumentName: 'versionId', ArgumentValue: versionId });
}

function noSuchKey(key: string): S3RequestError {
  return new S3RequestError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

/** The emulator's missing-bucket and missing-key errors as S3 words them; anything else as it came. */
export function asS3RequestError(error: unknown, bucket: string, key: string): unknown {
  const code = errorCode(error);
  if (code === 'NoSuchBucket') return new S3RequestError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
  if (code === 'NoSuchKey') return noSuchKey(key);
  return error;
}
