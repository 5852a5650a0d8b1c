import { describe, expect, it } from '@jest/globals';
import { csvRowObject, decodeInventoryKey, parquetRowObject, parseCsvLine } from '../../../../../ops/cli/object-sweep/inventory/inventory-row.ts';
import { parseManifest, parseS3Url } from '../../../../../ops/cli/object-sweep/inventory/manifest.ts';

const CSV_SCHEMA = 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded';

describe('S3 Inventory manifest', () => {
  it('reads the format, the CSV columns, the data files and the destination bucket from its ARN', () => {
    const manifest = parseManifest(
      JSON.stringify({
        sourceBucket: 'raw',
        destinationBucket: 'arn:aws:s3:::inventory-dest',
        version: '2016-11-30',
        creationTimestamp: '1514944800000',
        fileFormat: 'CSV',
        fileSchema: CSV_SCHEMA,
        files: [{ key: 'inv/raw/cfg/data/a.csv.gz', size: 120, MD5checksum: 'f11166069f1990abeb9c97ace9cdfabc' }],
      }),
      'fallback',
    );
    expect(manifest).toEqual({
      sourceBucket: 'raw',
      destinationBucket: 'inventory-dest',
      fileFormat: 'CSV',
      csvColumns: CSV_SCHEMA.split(', '),
      files: [{ key: 'inv/raw/cfg/data/a.csv.gz', size: 120 }],
    });
  });

  it('refuses ORC, a schema without a key and a manifest that is not JSON', () => {
    const base = { sourceBucket: 'raw', destinationBucket: 'arn:aws:s3:::d', files: [] };
    expect(() => parseManifest(JSON.stringify({ ...base, fileFormat: 'ORC', fileSchema: 'struct<bucket:string,key:string>' }), 'd')).toThrow(/ORC is not read/);
    expect(() => parseManifest(JSON.stringify({ ...base, fileFormat: 'CSV', fileSchema: 'Bucket, Size' }), 'd')).toThrow(/no Key column/);
    expect(() => parseManifest('not json', 'd')).toThrow(/not JSON/);
  });

  it('parses s3:// URLs', () => {
    expect(parseS3Url('s3://bucket/a/b/manifest.json')).toEqual({ bucket: 'bucket', key: 'a/b/manifest.json' });
    expect(() => parseS3Url('https://bucket/a')).toThrow(/not an s3:\/\/bucket\/key URL/);
  });
});

describe('S3 Inventory rows', () => {
  it('splits quoted CSV fields, commas and doubled quotes inside them included', () => {
    expect(parseCsvLine('"raw","a%2Cb.jsonl","","true","","12"')).toEqual(['raw', 'a%2Cb.jsonl', '', 'true', '', '12']);
    expect(parseCsvLine('"x ""y"", z",plain')).toEqual(['x "y", z', 'plain']);
  });

  it('decodes form-encoded keys: + is a space, %2B a plus', () => {
    expect(decodeInventoryKey('in/site+1/%C3%BC%2Bx.jsonl')).toBe('in/site 1/ü+x.jsonl');
    expect(() => decodeInventoryKey('bad%E0')).toThrow(/not valid URL encoding/);
  });

  it('turns a CSV row into an object by the manifest columns', () => {
    const columns = CSV_SCHEMA.split(', ');
    const fields = parseCsvLine('"raw","in/a+b.jsonl","v1","true","false","42","2026-12-01T10:00:00.000Z","9b2cf535f27731c974343645a3985328","STANDARD","false"');
    expect(csvRowObject(fields, columns)).toEqual({
      bucket: 'raw',
      key: 'in/a b.jsonl',
      size: 42,
      eTag: '9b2cf535f27731c974343645a3985328',
      versionId: 'v1',
      lastModified: new Date('2026-12-01T10:00:00.000Z'),
      latest: true,
    });
    // A delete marker is never the latest object to process.
    expect(csvRowObject(parseCsvLine('"raw","in/gone.jsonl","v2","true","true","","2026-12-01T10:00:00.000Z",""'), columns).latest).toBe(false);
  });

  it('reads the columns a current-versions inventory has (no VersionId, IsLatest)', () => {
    const columns = ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'ETag'];
    expect(csvRowObject(parseCsvLine('"raw","k.jsonl","1","2026-12-01T10:00:00.000Z","e"'), columns)).toEqual({
      bucket: 'raw',
      key: 'k.jsonl',
      size: 1,
      eTag: 'e',
      lastModified: new Date('2026-12-01T10:00:00.000Z'),
    });
  });

  it('turns a Parquet row (snake_case columns, key not encoded, size a bigint) into an object', () => {
    expect(
      parquetRowObject({ bucket: 'raw', key: 'in/a+b.jsonl', version_id: 'null', is_latest: true, size: 7n, last_modified_date: new Date(0), e_tag: 'e' }),
    ).toEqual({ bucket: 'raw', key: 'in/a+b.jsonl', size: 7, eTag: 'e', lastModified: new Date(0), latest: true });
  });
});
