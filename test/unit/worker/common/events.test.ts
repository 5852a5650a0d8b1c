import { describe, it, expect } from '@jest/globals';
import { decodeS3EventKey, parseMessageBody, PoisonMessageError } from '../../../../worker/common/events.ts';
import { objectMessage } from '../../../../worker/common/object-message.ts';

function s3Record(key: string, eventName = 'ObjectCreated:Put', object: Record<string, unknown> = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventName,
    s3: { bucket: { name: 'raw' }, object: { key, ...object } },
  };
}

function notification(...records: unknown[]): string {
  return JSON.stringify({ Records: records });
}

function poisonOf(body: string | undefined): PoisonMessageError {
  try {
    parseMessageBody(body);
  } catch (error) {
    if (error instanceof PoisonMessageError) return error;
    throw error;
  }
  throw new Error('parseMessageBody did not throw');
}

describe('parseMessageBody: S3 notifications', () => {
  it('returns the object of a one-record notification with size, unquoted eTag, versionId and sequencer', () => {
    const body = notification(s3Record('in/a.jsonl', 'ObjectCreated:Put', { size: 1234, eTag: '"abc123"', versionId: 'v1', sequencer: '0A' }));
    expect(parseMessageBody(body)).toStrictEqual({
      kind: 'objects',
      objects: [{ bucket: 'raw', key: 'in/a.jsonl', size: 1234, eTag: 'abc123', versionId: 'v1', sequencer: '0A' }],
    });
  });

  it('returns every object of a several-record notification, in order', () => {
    const body = notification(s3Record('a.jsonl'), s3Record('b.jsonl', 'ObjectCreated:CompleteMultipartUpload'));
    expect(parseMessageBody(body)).toStrictEqual({
      kind: 'objects',
      objects: [
        { bucket: 'raw', key: 'a.jsonl' },
        { bucket: 'raw', key: 'b.jsonl' },
      ],
    });
  });

  it.each([
    ['my+file%C3%A9.jsonl', 'my fileé.jsonl'],
    ['a%2Bb', 'a+b'],
    ['100%25', '100%'],
    ['dir/sub%20dir/x.jsonl.gz', 'dir/sub dir/x.jsonl.gz'],
  ])('decodes the URL-encoded key %j to %j', (encoded, decoded) => {
    expect(parseMessageBody(notification(s3Record(encoded)))).toStrictEqual({ kind: 'objects', objects: [{ bucket: 'raw', key: decoded }] });
    expect(decodeS3EventKey(encoded)).toBe(decoded);
  });

  it('acknowledges s3:TestEvent with its bucket', () => {
    const body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-07-11T11:00:00Z', Bucket: 'raw' });
    expect(parseMessageBody(body)).toStrictEqual({ kind: 'test-event', bucket: 'raw' });
  });

  it('ignores a notification of removals only', () => {
    expect(parseMessageBody(notification(s3Record('a.jsonl', 'ObjectRemoved:Delete')))).toStrictEqual({
      kind: 'ignored',
      reason: 'not an object creation: ObjectRemoved:Delete',
    });
  });

  it('keeps only the created objects of a notification that mixes creations and removals', () => {
    const body = notification(s3Record('gone.jsonl', 'ObjectRemoved:Delete'), s3Record('new.jsonl'));
    expect(parseMessageBody(body)).toStrictEqual({ kind: 'objects', objects: [{ bucket: 'raw', key: 'new.jsonl' }] });
  });

  it('unwraps an SNS notification that carries an S3 notification', () => {
    const body = JSON.stringify({ Type: 'Notification', MessageId: 'm-1', Message: notification(s3Record('sns+key.jsonl')) });
    expect(parseMessageBody(body)).toStrictEqual({ kind: 'objects', objects: [{ bucket: 'raw', key: 'sns key.jsonl' }] });
  });

  it('reads an EventBridge Object Created event with its etag, version-id and size', () => {
    const body = JSON.stringify({
      version: '0',
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: 'raw' }, object: { key: 'eb/a.jsonl', size: 42, etag: 'e7a9', 'version-id': 'v9', sequencer: '01' } },
    });
    expect(parseMessageBody(body)).toStrictEqual({
      kind: 'objects',
      objects: [{ bucket: 'raw', key: 'eb/a.jsonl', size: 42, eTag: 'e7a9', versionId: 'v9', sequencer: '01' }],
    });
  });

  it('ignores an EventBridge event other than Object Created', () => {
    const body = JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} });
    expect(parseMessageBody(body)).toStrictEqual({ kind: 'ignored', reason: 'not an object creation: Object Deleted' });
  });
});

describe('parseMessageBody: poison messages', () => {
  it.each([
    ['an undefined body', undefined, 'not_json'],
    ['an empty body', '', 'not_json'],
    ['a body that is not JSON', 'hello', 'not_json'],
    ['an SNS Message that is not JSON', JSON.stringify({ Type: 'Notification', Message: '{oops' }), 'not_json'],
    ['a JSON array', '[]', 'not_an_s3_event'],
    ['a JSON string', '"Records"', 'not_an_s3_event'],
    ['an object with no known shape', '{"hello":"world"}', 'not_an_s3_event'],
    ['an empty Records list', '{"Records":[]}', 'not_an_s3_event'],
    ['a record whose eventSource is not aws:s3', notification({ ...s3Record('a.jsonl'), eventSource: 'aws:sqs' }), 'not_an_s3_event'],
    ['a record without an object key', notification(s3Record('')), 'invalid_record'],
    ['a record without s3.object', notification({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' } } }), 'invalid_record'],
    ['a record without a bucket name', notification({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: {}, object: { key: 'a' } } }), 'invalid_record'],
    ['a key with malformed percent-encoding', notification(s3Record('%E0%A4%A')), 'invalid_record'],
  ])('rejects %s as poison with reason %j', (_what, body, reason) => {
    const error = poisonOf(body);
    expect(error.reason).toBe(reason);
    expect(error.message.startsWith(`${reason}: `)).toBe(true);
  });

  it('names the record that has no object key', () => {
    const body = notification(s3Record('ok.jsonl'), { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: {} } });
    expect(poisonOf(body).message).toBe('invalid_record: record 1 has no object key');
  });

  it('quotes the malformed key in the message', () => {
    expect(poisonOf(notification(s3Record('%E0%A4%A'))).message).toBe('invalid_record: object key "%E0%A4%A" is not valid URL encoding');
  });
});

describe('the trigger object message', () => {
  it('yields its object with the key exactly as written, not URL-decoded', () => {
    const body = JSON.stringify(
      objectMessage({ bucket: 'raw', key: 'site 1/a+b%20.jsonl', size: 12, eTag: '"abc"', versionId: 'v1', sequencer: '01' }),
    );

    expect(parseMessageBody(body)).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'raw', key: 'site 1/a+b%20.jsonl', size: 12, eTag: 'abc', versionId: 'v1', sequencer: '01' }],
    });
  });

  it.each([
    [{ type: 'iot-ingest.object', version: 2, bucket: 'raw', key: 'k' }, /version 2 is not supported/],
    [{ type: 'iot-ingest.object', version: 1, bucket: 'raw' }, /needs a bucket and a key/],
    [{ type: 'iot-ingest.object', version: 1, bucket: '', key: 'k' }, /needs a bucket and a key/],
  ])('refuses %j as a poison message', (message, detail) => {
    expect(() => parseMessageBody(JSON.stringify(message))).toThrow(detail);
  });
});

describe("the trigger Lambda's on-failure destination record", () => {
  it('yields the objects of the S3 event it carries, so a DLQ redrive reaches the worker', () => {
    const record = {
      version: '1.0',
      requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:eu-west-1:1:function:trigger', condition: 'RetriesExhausted' },
      requestPayload: {
        Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: { key: 'a+b.jsonl' } } }],
      },
      responsePayload: { errorMessage: 'boom' },
    };

    expect(parseMessageBody(JSON.stringify(record))).toEqual({ kind: 'objects', objects: [{ bucket: 'raw', key: 'a b.jsonl' }] });
  });
});
