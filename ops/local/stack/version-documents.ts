/**
 * The XML documents of S3's versioning API as the local stack reads and answers them:
 * PutBucketVersioning's and GetBucketVersioning's VersioningConfiguration, ListObjectVersions'
 * ListVersionsResult, and DeleteObjects' request and DeleteResult with version ids and delete markers.
 */
import type { DeleteOutcome, StoredObject, VersioningStatus, VersionListing } from './object-versions.ts';
import { elementsNamed, escapeXml, textOf } from './s3-protocol.ts';

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
/** fauxqs names no owner; S3 names the bucket owner's canonical id. */
const LOCAL_OWNER = '<Owner><ID>000000000000</ID><DisplayName>local</DisplayName></Owner>';

/** The status a VersioningConfiguration sets, or undefined when the document is not one S3 accepts. */
export function parseVersioningConfiguration(xml: string): VersioningStatus | undefined {
  if (elementsNamed(xml, 'VersioningConfiguration').length !== 1) return undefined;
  const status = textOf(xml, 'Status');
  return status === 'Enabled' || status === 'Suspended' ? status : undefined;
}

/** A bucket whose versioning was never set answers an empty configuration. */
export function versioningConfigurationXml(status: VersioningStatus | undefined): string {
  const inner = status === undefined ? '' : `<Status>${status}</Status>`;
  return `${XML_DECLARATION}<VersioningConfiguration xmlns="${S3_NAMESPACE}">${inner}</VersioningConfiguration>`;
}

export interface ListVersionsRequest {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter?: string | undefined;
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly maxKeys: number;
  /** `encoding-type=url`, which the AWS CLI and boto3 send: keys and prefixes URL-encoded in the answer. */
  readonly urlEncoded: boolean;
}

export function listVersionsResultXml(request: ListVersionsRequest, listing: VersionListing<StoredObject>): string {
  const text = (value: string) => escapeXml(request.urlEncoded ? encodeKey(value) : value);
  const entries = listing.versions.map(({ key, version, isLatest }) => {
    const common = `<Key>${text(key)}</Key><VersionId>${escapeXml(version.versionId)}</VersionId><IsLatest>${isLatest}</IsLatest>`;
    if (version.kind === 'deleteMarker') {
      return `<DeleteMarker>${common}<LastModified>${version.lastModified.toISOString()}</LastModified>${LOCAL_OWNER}</DeleteMarker>`;
    }
    const { object } = version;
    return [
      `<Version>${common}<LastModified>${object.lastModified.toISOString()}</LastModified>`,
      `<ETag>${escapeXml(object.etag)}</ETag><Size>${object.contentLength}</Size>`,
      `${LOCAL_OWNER}<StorageClass>STANDARD</StorageClass></Version>`,
    ].join('');
  });
  const optional = (name: string, value: string | undefined, encode = text) => (value === undefined ? '' : `<${name}>${encode(value)}</${name}>`);
  return [
    XML_DECLARATION,
    `<ListVersionsResult xmlns="${S3_NAMESPACE}">`,
    `<Name>${escapeXml(request.bucket)}</Name><Prefix>${text(request.prefix)}</Prefix>`,
    `<KeyMarker>${text(request.keyMarker)}</KeyMarker><VersionIdMarker>${escapeXml(request.versionIdMarker)}</VersionIdMarker>`,
    optional('NextKeyMarker', listing.nextKeyMarker),
    optional('NextVersionIdMarker', listing.nextVersionIdMarker, escapeXml),
    `<MaxKeys>${request.maxKeys}</MaxKeys>`,
    optional('Delimiter', request.delimiter),
    optional('EncodingType', request.urlEncoded ? 'url' : undefined, escapeXml),
    `<IsTruncated>${listing.isTruncated}</IsTruncated>`,
    ...entries,
    ...listing.commonPrefixes.map((prefix) => `<CommonPrefixes><Prefix>${text(prefix)}</Prefix></CommonPrefixes>`),
    '</ListVersionsResult>',
  ].join('');
}

/** S3's URL encoding of keys in listings: every byte but the unreserved ones and `/`. */
function encodeKey(key: string): string {
  const encoded = encodeURIComponent(key).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return encoded.replaceAll('%2F', '/');
}

export interface ObjectToDelete {
  readonly key: string;
  readonly versionId?: string;
}

/** The objects of a DeleteObjects request and its Quiet flag, or undefined when it names none. */
export function parseDeleteRequest(xml: string): { objects: ObjectToDelete[]; quiet: boolean } | undefined {
  const objects = elementsNamed(xml, 'Object').map((inner) => {
    const key = textOf(inner, 'Key');
    const versionId = textOf(inner, 'VersionId');
    return key === undefined ? undefined : versionId === undefined ? { key } : { key, versionId };
  });
  if (objects.length === 0 || objects.some((object) => object === undefined)) return undefined;
  return { objects: objects as ObjectToDelete[], quiet: textOf(xml, 'Quiet')?.toLowerCase() === 'true' };
}

export type DeleteResultEntry =
  | { readonly key: string; readonly requestedVersionId?: string | undefined; readonly outcome: DeleteOutcome }
  | { readonly key: string; readonly requestedVersionId?: string | undefined; readonly error: { readonly code: string; readonly message: string } };

export function deleteResultXml(entries: readonly DeleteResultEntry[], quiet: boolean): string {
  const body = entries.flatMap((entry) => {
    const key = `<Key>${escapeXml(entry.key)}</Key>`;
    const requested = entry.requestedVersionId === undefined ? '' : `<VersionId>${escapeXml(entry.requestedVersionId)}</VersionId>`;
    if ('error' in entry) {
      return [`<Error>${key}${requested}<Code>${escapeXml(entry.error.code)}</Code><Message>${escapeXml(entry.error.message)}</Message></Error>`];
    }
    if (quiet) return [];
    const { outcome } = entry;
    const marker = outcome.deleteMarker ? `<DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>${escapeXml(outcome.versionId)}</DeleteMarkerVersionId>` : '';
    return [`<Deleted>${key}${requested}${marker}</Deleted>`];
  });
  return `${XML_DECLARATION}<DeleteResult xmlns="${S3_NAMESPACE}">${body.join('')}</DeleteResult>`;
}
