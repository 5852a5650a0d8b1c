import { describe, expect, it } from '@jest/globals';
import { formUploadKey, postObjectKey } from '../../../../../ops/local/stack/s3-protocol.ts';

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
