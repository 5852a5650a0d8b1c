/**
 * An S3 Inventory report's manifest.json, as S3 writes it (Amazon S3 User Guide, "Locating your
 * inventory list"): sourceBucket, destinationBucket (an ARN), fileFormat (CSV, ORC or Parquet),
 * fileSchema (CSV: the column names, comma separated; Parquet: a message definition whose columns are
 * snake_case) and files[] (key, size, MD5checksum). Pure.
 */

export type InventoryFormat = 'CSV' | 'Parquet';

export interface InventoryFile {
  readonly key: string;
  readonly size: number;
}

export interface InventoryManifest {
  readonly sourceBucket: string;
  /** Where the data files are. */
  readonly destinationBucket: string;
  readonly fileFormat: InventoryFormat;
  /** CSV: the columns in order (Bucket, Key, VersionId, ...). */
  readonly csvColumns: readonly string[];
  readonly files: readonly InventoryFile[];
}

export interface S3Url {
  readonly bucket: string;
  readonly key: string;
}

export function parseS3Url(text: string): S3Url {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) throw new Error(`${JSON.stringify(text)} is not an s3://bucket/key URL`);
  return { bucket: match[1], key: match[2] };
}

function bucketOfArn(arnOrName: string): string {
  return arnOrName.startsWith('arn:') ? (arnOrName.split(':').slice(5).join(':') || arnOrName) : arnOrName;
}

/** The manifest's meaning, or an Error naming what is wrong; `fallbackBucket` is where manifest.json was read. */
export function parseManifest(text: string, fallbackBucket: string): InventoryManifest {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('the inventory manifest is not JSON');
  }
  const { sourceBucket, destinationBucket, fileFormat, fileSchema, files } = raw;
  if (typeof sourceBucket !== 'string' || sourceBucket === '') throw new Error('the inventory manifest has no sourceBucket');
  if (fileFormat !== 'CSV' && fileFormat !== 'Parquet') {
    throw new Error(`inventory fileFormat ${JSON.stringify(fileFormat)} is not supported (CSV or Parquet; ORC is not read)`);
  }
  if (typeof fileSchema !== 'string') throw new Error('the inventory manifest has no fileSchema');
  if (!Array.isArray(files)) throw new Error('the inventory manifest has no files list');
  const csvColumns = fileFormat === 'CSV' ? fileSchema.split(',').map((column) => column.trim()) : [];
  if (fileFormat === 'CSV' && !csvColumns.includes('Key')) throw new Error(`the inventory fileSchema has no Key column: ${fileSchema}`);
  if (fileFormat === 'Parquet' && !/\bkey\b/.test(fileSchema)) throw new Error(`the inventory fileSchema has no key column: ${fileSchema}`);
  return {
    sourceBucket,
    destinationBucket: typeof destinationBucket === 'string' && destinationBucket !== '' ? bucketOfArn(destinationBucket) : fallbackBucket,
    fileFormat,
    csvColumns,
    files: files.map((file: unknown, index) => {
      const { key, size } = (file ?? {}) as Record<string, unknown>;
      if (typeof key !== 'string' || key === '') throw new Error(`inventory files[${index}] has no key`);
      return { key, size: typeof size === 'number' ? size : Number(size ?? Number.NaN) };
    }),
  };
}
