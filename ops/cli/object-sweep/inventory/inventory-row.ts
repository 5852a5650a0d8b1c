/**
 * Inventory rows as sweep objects: a CSV line (every field quoted, no header, the Key URL-encoded as in
 * S3 event notifications) by the manifest's column names, or a Parquet row by its snake_case columns. Pure.
 */
import type { SweepObject } from '../sweep-object.ts';

/** One CSV record: fields separated by commas, optionally quoted, `""` a quote inside quotes. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** Inventory CSV keys are form-encoded (`+` a space, everything else %XX), as in S3's event notifications. */
export function decodeInventoryKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new Error(`inventory key ${JSON.stringify(encoded)} is not valid URL encoding`);
  }
}

function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function optionalDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && value !== '') {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : new Date(time);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  return undefined;
}

function truthy(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

interface RowFields {
  readonly bucket: unknown;
  readonly key: string;
  readonly versionId: unknown;
  readonly isLatest: unknown;
  readonly isDeleteMarker: unknown;
  readonly size: unknown;
  readonly lastModified: unknown;
  readonly eTag: unknown;
}

function rowObject(fields: RowFields): SweepObject & { readonly bucket: string | undefined } {
  const size = optionalNumber(fields.size);
  const eTag = optionalText(fields.eTag)?.replace(/"/g, '');
  const versionId = optionalText(fields.versionId);
  const lastModified = optionalDate(fields.lastModified);
  // A delete marker or an older version is listed, never in scope.
  const latest = truthy(fields.isDeleteMarker) === true ? false : truthy(fields.isLatest);
  return {
    bucket: optionalText(fields.bucket),
    key: fields.key,
    ...(size === undefined ? {} : { size }),
    ...(eTag === undefined ? {} : { eTag }),
    // S3 lists an unversioned bucket's objects with the version id "null": no version id to compare.
    ...(versionId === undefined || versionId === 'null' ? {} : { versionId }),
    ...(lastModified === undefined ? {} : { lastModified }),
    ...(latest === undefined ? {} : { latest }),
  };
}

export function csvRowObject(fields: readonly string[], columns: readonly string[]): SweepObject & { readonly bucket: string | undefined } {
  const value = (name: string) => {
    const index = columns.indexOf(name);
    return index < 0 ? undefined : fields[index];
  };
  return rowObject({
    bucket: value('Bucket'),
    key: decodeInventoryKey(value('Key') ?? ''),
    versionId: value('VersionId'),
    isLatest: value('IsLatest'),
    isDeleteMarker: value('IsDeleteMarker'),
    size: value('Size'),
    lastModified: value('LastModifiedDate'),
    eTag: value('ETag'),
  });
}

export function parquetRowObject(row: Readonly<Record<string, unknown>>): SweepObject & { readonly bucket: string | undefined } {
  return rowObject({
    bucket: row['bucket'],
    key: typeof row['key'] === 'string' ? row['key'] : '',
    versionId: row['version_id'],
    isLatest: row['is_latest'],
    isDeleteMarker: row['is_delete_marker'],
    size: row['size'],
    lastModified: row['last_modified_date'],
    eTag: row['e_tag'],
  });
}

/** The columns reconcile reads from a Parquet inventory file (those present). */
export const PARQUET_COLUMNS = ['bucket', 'key', 'version_id', 'is_latest', 'is_delete_marker', 'size', 'last_modified_date', 'e_tag'] as const;
