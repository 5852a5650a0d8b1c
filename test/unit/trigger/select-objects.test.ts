import { describe, it, expect } from '@jest/globals';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { noneSkipped, selectObjects, type Selection } from '../../../trigger/select-objects.ts';
import { objectMessage } from '../../../worker/common/object-message.ts';

const SUFFIXES = ['.jsonl', '.jsonl.gz'];

function record(key: string, options: { eventName?: string; size?: number; eTag?: string; versionId?: string } = {}): S3EventRecord {
  const { eventName = 'ObjectCreated:Put', size = 100, eTag = 'abc123', versionId } = options;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-11-25T18:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'AWS:EXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'raw-objects',
      bucket: { name: 'raw', ownerIdentity: { principalId: 'EXAMPLE' }, arn: 'arn:aws:s3:::raw' },
      object: { key, size, eTag, sequencer: '0055AED6DCD90281E5', ...(versionId === undefined ? {} : { versionId }) },
    },
  };
}

function event(...records: S3EventRecord[]): S3Event {
  return { Records: records };
}

function selected(selection: Selection) {
  if (selection.kind !== 'records') throw new Error(`expected records, got ${selection.kind}`);
  return selection;
}

function keysOf(selection: Selection): string[] {
  return selected(selection).messages.map((message) => message.key);
}

describe('selectObjects', () => {
  it('turns an ObjectCreated record into an object message with every field', () => {
    const selection = selected(selectObjects(event(record('in/a.jsonl', { size: 1234, eTag: '"9b2c"', versionId: 'v1' })), SUFFIXES));
    expect(selection).toStrictEqual({
      kind: 'records',
      received: 1,
      messages: [
        objectMessage({
          bucket: 'raw',
          key: 'in/a.jsonl',
          size: 1234,
          eTag: '9b2c',
          versionId: 'v1',
          sequencer: '0055AED6DCD90281E5',
          eventTime: '2026-11-25T18:00:00.000Z',
        }),
      ],
      skipped: noneSkipped(),
      invalid: [],
    });
  });

  it('keeps only keys ending in a configured suffix, case-sensitively like S3 filter rules', () => {
    const selection = selectObjects(
      event(record('a.jsonl'), record('b.jsonl.gz'), record('c.json'), record('d.jsonl.bak'), record('e.JSONL'), record('f.gz')),
      SUFFIXES,
    );
    expect(keysOf(selection)).toEqual(['a.jsonl', 'b.jsonl.gz']);
    expect(selected(selection).skipped).toStrictEqual({ ...noneSkipped(), suffix_not_matched: 4 });
  });

  it('applies other configured suffixes', () => {
    expect(keysOf(selectObjects(event(record('a.jsonl'), record('b.csv')), ['.csv']))).toEqual(['b.csv']);
  });

  it('skips zero-byte objects and folder markers', () => {
    const selection = selected(
      selectObjects(event(record('empty.jsonl', { size: 0 }), record('folder/', { size: 0 }), record('odd.jsonl/', { size: 5 }), record('ok.jsonl')), SUFFIXES),
    );
    expect(selection.messages.map((message) => message.key)).toEqual(['ok.jsonl']);
    expect(selection.skipped).toStrictEqual({ ...noneSkipped(), empty_object: 1, folder_marker: 2 });
  });

  it('decodes form-URL-encoded keys before filtering and sending them', () => {
    const selection = selectObjects(
      event(record('a+b%2Bc.jsonl'), record('site+1/%E6%B8%A9%E5%BA%A6+%C3%A9t%C3%A9.jsonl'), record('dir%2F')),
      SUFFIXES,
    );
    expect(keysOf(selection)).toEqual(['a b+c.jsonl', 'site 1/温度 été.jsonl']);
    expect(selected(selection).skipped.folder_marker).toBe(1);
  });

  it('skips events other than object creation', () => {
    const selection = selected(
      selectObjects(
        event(
          record('a.jsonl', { eventName: 'ObjectRemoved:Delete' }),
          record('b.jsonl', { eventName: 'ObjectRestore:Completed' }),
          record('c.jsonl', { eventName: 'ObjectCreated:CompleteMultipartUpload' }),
          record('d.jsonl', { eventName: 'ObjectCreated:Copy' }),
        ),
        SUFFIXES,
      ),
    );
    expect(selection.messages.map((message) => message.key)).toEqual(['c.jsonl', 'd.jsonl']);
    expect(selection.skipped).toStrictEqual({ ...noneSkipped(), not_object_created: 2 });
  });

  it('keeps the order of many records and counts every one of them', () => {
    const records = Array.from({ length: 100 }, (_, index) => record(index % 4 === 0 ? `skip-${index}.txt` : `file-${index}.jsonl`));
    const selection = selected(selectObjects(event(...records), SUFFIXES));
    expect(selection.received).toBe(100);
    expect(selection.messages).toHaveLength(75);
    expect(selection.messages[0]?.key).toBe('file-1.jsonl');
    expect(selection.messages[74]?.key).toBe('file-99.jsonl');
    expect(selection.skipped.suffix_not_matched).toBe(25);
  });

  it('recognises the s3:TestEvent, which announces no object', () => {
    const testEvent = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-25T18:00:00.000Z', Bucket: 'raw' } as const;
    expect(selectObjects(testEvent, SUFFIXES)).toStrictEqual({ kind: 'test-event', bucket: 'raw' });
  });

  it('reports records that are not S3 object notifications, next to the valid ones', () => {
    const notS3 = { ...record('x.jsonl'), eventSource: 'aws:sqs' };
    const noKey = record('');
    const badEncoding = record('bad%E0%A4%A.jsonl');
    const selection = selected(selectObjects(event(record('good.jsonl'), notS3, noKey, badEncoding), SUFFIXES));
    expect(selection.messages.map((message) => message.key)).toEqual(['good.jsonl']);
    expect(selection.invalid).toStrictEqual([
      { index: 1, reason: 'not an S3 event record' },
      { index: 2, reason: 'no bucket name or object key' },
      { index: 3, reason: 'object key "bad%E0%A4%A.jsonl" is not valid URL encoding' },
    ]);
  });

  it('leaves out fields the record lacks', () => {
    const bare = record('bare.jsonl', { eTag: '' });
    const object: Partial<S3EventRecord['s3']['object']> = { ...bare.s3.object, sequencer: '' };
    delete object.size;
    const withoutSize = { ...bare, eventTime: '', s3: { ...bare.s3, object } } as S3EventRecord;
    expect(selected(selectObjects(event(withoutSize), SUFFIXES)).messages).toStrictEqual([objectMessage({ bucket: 'raw', key: 'bare.jsonl' })]);
  });
});
