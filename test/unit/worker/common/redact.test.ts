import { describe, expect, it } from '@jest/globals';
import { redactForLog } from '../../../../worker/common/redact.ts';

describe('redactForLog', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/1/q', 'https://sqs.eu-west-1.amazonaws.com/1/q'],
    ['https://sqs.eu-west-1.amazonaws.com/1/q?X-Amz-Security-Token=secret', 'https://sqs.eu-west-1.amazonaws.com/1/q?…'],
    ['ftp://user:secret@127.0.0.1:1/', 'ftp://user:***@127.0.0.1:1/'],
    ['sqs.amazonaws.com/1/q?token=secret', 'sqs.amazonaws.com/1/q?…'],
    ['not a url //me:secret@host', 'not a url //me:***@host'],
    ['abc', 'abc'],
  ])('prints %j as %j', (value, printed) => {
    expect(redactForLog(value)).toBe(printed);
  });
});
