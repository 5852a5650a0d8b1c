import { describe, it, expect } from '@jest/globals';
import { parseMessageBody, type ObjectRef } from '../../../../worker/common/events.ts';
import { objectMessage } from '../../../../worker/common/object-message.ts';

const EVENT_TIME = '2026-12-03T11:45:00.123Z';

function s3Notification(eventTime: unknown): string {
  return JSON.stringify({
    Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime, s3: { bucket: { name: 'raw' }, object: { key: 'a.jsonl' } } }],
  });
}

function objects(body: string): readonly ObjectRef[] {
  const parsed = parseMessageBody(body);
  if (parsed.kind !== 'objects') throw new Error(`expected objects, got ${parsed.kind}`);
  return parsed.objects;
}

describe('the event time on each object', () => {
  it("carries an S3 notification record's eventTime, as given", () => {
    expect(objects(s3Notification(EVENT_TIME))).toStrictEqual([{ bucket: 'raw', key: 'a.jsonl', eventTime: EVENT_TIME }]);
  });

  it('carries it through an SNS envelope and through the trigger Lambda on-failure record', () => {
    const sns = JSON.stringify({ Type: 'Notification', Message: s3Notification(EVENT_TIME) });
    const onFailure = JSON.stringify({ requestContext: { condition: 'RetriesExhausted' }, requestPayload: JSON.parse(s3Notification(EVENT_TIME)) as unknown });

    expect(objects(sns)[0]?.eventTime).toBe(EVENT_TIME);
    expect(objects(onFailure)[0]?.eventTime).toBe(EVENT_TIME);
  });

  it("carries an EventBridge event's time", () => {
    const body = JSON.stringify({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      time: '2026-12-03T11:45:00Z',
      detail: { bucket: { name: 'raw' }, object: { key: 'eb.jsonl', size: 3 } },
    });

    expect(objects(body)).toStrictEqual([{ bucket: 'raw', key: 'eb.jsonl', size: 3, eventTime: '2026-12-03T11:45:00Z' }]);
  });

  it("carries the trigger's object message eventTime", () => {
    const body = JSON.stringify(objectMessage({ bucket: 'raw', key: 'm.jsonl', eventTime: EVENT_TIME }));

    expect(objects(body)).toStrictEqual([{ bucket: 'raw', key: 'm.jsonl', eventTime: EVENT_TIME }]);
  });

  it.each([
    ['missing', undefined],
    ['not a time', 'around noon'],
    ['empty', ''],
    ['a number', 1764762300000],
    ['an object', { at: EVENT_TIME }],
  ])('leaves it out when it is %s: the object is still processed, only its freshness is not measured', (_what, eventTime) => {
    expect(objects(s3Notification(eventTime))).toStrictEqual([{ bucket: 'raw', key: 'a.jsonl' }]);
    expect(objects(JSON.stringify({ ...objectMessage({ bucket: 'raw', key: 'm.jsonl' }), eventTime }))).toStrictEqual([{ bucket: 'raw', key: 'm.jsonl' }]);
  });
});
