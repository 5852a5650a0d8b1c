import { describe, expect, it } from '@jest/globals';
import { formUploadKey, parseCopySource, postObjectKey } from '../../../../../ops/local/stack/s3-protocol.ts';

const BOUNDARY = 'XyZ';

const FORM_UPLOAD = Buffer.from(
  [
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="key"',
    '',
    'uploads/${filename}',
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="file"; filename="C:\\tmp\\día 1.jsonl"',
    'Content-Type: application/octet-stream',
    '',
    '{}',
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n'),
);

describe('postObjectKey', () => {
  it('reads the key field and substitutes ${filename} from the file part', () => {
    expect(postObjectKey(FORM_UPLOAD, `multipart/form-data; boundary=${BOUNDARY}`)).toBe('uploads/día 1.jsonl');
  });
});

describe('formUploadKey', () => {
  it('reads the key of a multipart form body and nothing else', () => {
    const formContentType = `multipart/form-data; boundary=${BOUNDARY}`;

    expect(formUploadKey({ 'content-type': formContentType }, FORM_UPLOAD)).toBe('uploads/día 1.jsonl');
    expect(formUploadKey({ 'content-type': 'application/octet-stream' }, FORM_UPLOAD)).toBeUndefined();
    expect(formUploadKey({}, FORM_UPLOAD)).toBeUndefined();
    expect(formUploadKey({ 'content-type': formContentType }, FORM_UPLOAD.toString('utf8'))).toBeUndefined();
  });
});

describe('parseCopySource', () => {
  it('reads bucket, key and version id of x-amz-copy-source, with or without the leading slash, decoding the key', () => {
    expect(parseCopySource('raw-bucket/in%2Fa%20b%2B%C3%BC.jsonl')).toEqual({ bucket: 'raw-bucket', key: 'in/a b+ü.jsonl' });
    expect(parseCopySource('/raw-bucket/in/file.jsonl?versionId=3HL4kqtJ%2Bv')).toEqual({
      bucket: 'raw-bucket',
      key: 'in/file.jsonl',
      versionId: '3HL4kqtJ+v',
    });
  });

  it('names no object when there is no bucket, no key, or an encoding that does not decode', () => {
    expect(parseCopySource('only-bucket')).toBeUndefined();
    expect(parseCopySource('/bucket/')).toBeUndefined();
    expect(parseCopySource('//key')).toBeUndefined();
    expect(parseCopySource('bucket/%E0%A4%A')).toBeUndefined();
  });
});
