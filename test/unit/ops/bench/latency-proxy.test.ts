import { describe, expect, it } from '@jest/globals';
import { BandwidthSchedule } from '../../../../ops/bench/latency-proxy/bandwidth.ts';
import {
  countsBetween,
  isRequestCounts,
  RequestCounter,
  requestTotal,
  s3RequestsPerFile,
  sqsRequestsPerFile,
} from '../../../../ops/bench/latency-proxy/request-counts.ts';
import { classifyRequest } from '../../../../ops/bench/latency-proxy/request-kind.ts';

describe('classifyRequest', () => {
  it('names the SQS action from X-Amz-Target', () => {
    expect(classifyRequest('POST', '/', { 'x-amz-target': 'AmazonSQS.ReceiveMessage' })).toEqual({ service: 'sqs', operation: 'ReceiveMessage' });
    expect(classifyRequest('POST', '/', { 'x-amz-target': 'AmazonSQS.DeleteMessageBatch' })).toEqual({ service: 'sqs', operation: 'DeleteMessageBatch' });
  });

  it.each([
    ['GET', '/bucket/dir/key.jsonl', {}, 'GetObject'],
    ['GET', '/bucket/key?x-id=GetObject', {}, 'GetObject'],
    ['PUT', '/bucket/a%20b/c', {}, 'PutObject'],
    ['PUT', '/bucket/key?partNumber=2&uploadId=u1', {}, 'UploadPart'],
    ['POST', '/bucket/key?uploads', {}, 'CreateMultipartUpload'],
    ['POST', '/bucket/key?uploadId=u1', {}, 'CompleteMultipartUpload'],
    ['DELETE', '/bucket/key?uploadId=u1', {}, 'AbortMultipartUpload'],
    ['DELETE', '/bucket/key', {}, 'DeleteObject'],
    ['HEAD', '/bucket/key', {}, 'HeadObject'],
    ['PUT', '/bucket/copy', { 'x-amz-copy-source': '/b/k' }, 'CopyObject'],
    ['GET', '/bucket?list-type=2', {}, 'ListObjects'],
    ['GET', '/bucket/', {}, 'ListObjects'],
    ['PUT', '/bucket', {}, 'CreateBucket'],
    ['POST', '/bucket?delete', {}, 'DeleteObjects'],
  ])('names S3 path-style %s %s', (method, url, headers, operation) => {
    expect(classifyRequest(method, url, headers)).toEqual({ service: 's3', operation });
  });
});

describe('request counts', () => {
  it('tallies by service and operation, and gives the requests between two readings', () => {
    const counter = new RequestCounter();
    counter.add({ service: 'sqs', operation: 'ReceiveMessage' });
    const before = counter.read();
    counter.add({ service: 'sqs', operation: 'ReceiveMessage' });
    counter.add({ service: 's3', operation: 'GetObject' });
    counter.add({ service: 's3', operation: 'PutObject' });
    counter.add({ service: 's3', operation: 'PutObject' });

    const between = countsBetween(before, counter.read());

    expect(between).toEqual({ sqs: { ReceiveMessage: 1 }, s3: { GetObject: 1, PutObject: 2 } });
    expect(before).toEqual({ sqs: { ReceiveMessage: 1 }, s3: {} });
    expect(requestTotal(between, 's3')).toBe(3);
  });

  it("counts a file's SQS requests as its receives, deletes and visibility changes, and every S3 request", () => {
    const counts = {
      sqs: { ReceiveMessage: 60, DeleteMessageBatch: 20, ChangeMessageVisibility: 10, GetQueueAttributes: 50, SendMessage: 5 },
      s3: { GetObject: 100, PutObject: 200, UploadPart: 4 },
    };

    expect(sqsRequestsPerFile(counts, 100)).toBeCloseTo(0.9);
    expect(s3RequestsPerFile(counts, 100)).toBeCloseTo(3.04);
    expect(sqsRequestsPerFile(counts, 0)).toBeNull();
  });

  it('recognises a reading and refuses anything else', () => {
    expect(isRequestCounts({ s3: { GetObject: 1 }, sqs: {} })).toBe(true);
    expect(isRequestCounts({ s3: { GetObject: '1' }, sqs: {} })).toBe(false);
    expect(isRequestCounts({ s3: {} })).toBe(false);
    expect(isRequestCounts(null)).toBe(false);
  });
});

describe('BandwidthSchedule', () => {
  it('lets bytes through at the rate, one slice after the other', () => {
    const link = new BandwidthSchedule(1_000_000);

    expect(link.book(100_000, 0)).toBe(100);
    expect(link.book(100_000, 0)).toBe(200);
    expect(link.book(50_000, 150)).toBe(250);
  });

  it('gives no credit for the time the link was idle', () => {
    const link = new BandwidthSchedule(1_000_000);
    link.book(100_000, 0);

    expect(link.book(100_000, 1_000)).toBe(1_100);
  });

  it('slices at least 16 KiB, else 10 ms worth of the rate', () => {
    expect(new BandwidthSchedule(1_000_000).sliceBytes).toBe(16 * 1024);
    expect(new BandwidthSchedule(64_000_000).sliceBytes).toBe(640_000);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new BandwidthSchedule(0)).toThrow(RangeError);
  });
});
