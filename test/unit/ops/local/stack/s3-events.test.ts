import { describe, expect, it } from '@jest/globals';
import { createdObjectOf, createSequencer, encodeNotificationKey } from '../../../../../ops/local/stack/s3-events.ts';
import type { FinishedS3Request } from '../../../../../ops/local/stack/s3-events.ts';

function finished(request: Partial<FinishedS3Request>): FinishedS3Request {
  return { method: 'PUT', statusCode: 200, bucket: 'raw', key: 'a.jsonl', query: {}, headers: {}, body: undefined, ...request };
}

describe('encodeNotificationKey', () => {
  it.each([
    ['plain/key.jsonl', 'plain/key.jsonl'],
    ['with space', 'with+space'],
    ['a+b', 'a%2Bb'],
    ['100%', '100%25'],
    ['café/😀', 'caf%C3%A9/%F0%9F%98%80'],
    ["(x)~!'=&?#", '%28x%29%7E%21%27%3D%26%3F%23'],
    ['keep-_.*', 'keep-_.*'],
  ])('encodes %j as %j, which decodes back', (key, encoded) => {
    expect(encodeNotificationKey(key)).toBe(encoded);
    expect(decodeURIComponent(encoded.replaceAll('+', ' '))).toBe(key);
  });
});

describe('createdObjectOf', () => {
  it('recognises PutObject, presigned PUT, CopyObject and multipart completion', () => {
    expect(createdObjectOf(finished({ query: { 'x-id': 'PutObject' } }))?.eventName).toBe('ObjectCreated:Put');
    expect(createdObjectOf(finished({ query: { 'X-Amz-Signature': 'abc', 'X-Amz-Date': 'd' } }))?.eventName).toBe(
      'ObjectCreated:Put',
    );
    expect(createdObjectOf(finished({ headers: { 'x-amz-copy-source': 'raw/b' } }))?.eventName).toBe('ObjectCreated:Copy');
    expect(createdObjectOf(finished({ method: 'POST', query: { uploadId: 'u1' } }))?.eventName).toBe(
      'ObjectCreated:CompleteMultipartUpload',
    );
  });

  it('ignores parts, sub-resources, failures and bucket-level requests', () => {
    expect(createdObjectOf(finished({ query: { uploadId: 'u1', partNumber: '1', 'x-id': 'UploadPart' } }))).toBeUndefined();
    expect(createdObjectOf(finished({ query: { tagging: '' } }))).toBeUndefined();
    expect(createdObjectOf(finished({ method: 'POST', query: { uploads: '' } }))).toBeUndefined();
    expect(createdObjectOf(finished({ statusCode: 413 }))).toBeUndefined();
    expect(createdObjectOf(finished({ key: '' }))).toBeUndefined();
    expect(createdObjectOf(finished({ method: 'GET' }))).toBeUndefined();
  });
});

describe('createSequencer', () => {
  it('gives strictly increasing hex strings of equal length, even within one millisecond', () => {
    const next = createSequencer(() => 1_700_000_000_000);
    const sequencers = [next(), next(), next()];

    expect(new Set(sequencers.map((sequencer) => sequencer.length)).size).toBe(1);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
  });
});
