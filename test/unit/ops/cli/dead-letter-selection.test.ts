import { describe, expect, it } from '@jest/globals';
import type { Message } from '@aws-sdk/client-sqs';
import { InvalidArgumentError } from 'commander';
import { RETRIES_EXHAUSTED, recordedReasonOf, willFailAgain } from '../../../../ops/cli/dead-letter-reasons.ts';
import { messageIdArgument, reasonArgument, selectorFromFlags, selectorText, selects } from '../../../../ops/cli/dead-letter-selector.ts';
import { receiveBudget } from '../../../../ops/cli/dead-letter-scan.ts';
import { POISON_REASONS } from '../../../../worker/common/events.ts';
import { PERMANENT_REASONS } from '../../../../worker/errors.ts';

const withReason = (id: string, reason?: string): Message => ({
  MessageId: id,
  Body: '{}',
  ...(reason === undefined ? {} : { MessageAttributes: { 'ingest-failure-reason': { DataType: 'String', StringValue: reason } } }),
});

describe('willFailAgain', () => {
  it('marks every reason the worker records as permanent, and neither an exhausted retry nor a missing reason', () => {
    for (const reason of [...Object.values(PERMANENT_REASONS), ...Object.values(POISON_REASONS)]) expect(willFailAgain(reason)).toBe(true);
    expect(willFailAgain(RETRIES_EXHAUSTED)).toBe(false);
    expect(willFailAgain(undefined)).toBe(false);
  });

  it('reads the reason from the worker attribute', () => {
    expect(recordedReasonOf(withReason('a', 'corrupt_gzip'))).toBe('corrupt_gzip');
    expect(recordedReasonOf(withReason('b'))).toBeUndefined();
  });
});

describe('selectors', () => {
  it('needs exactly one of --id, --reason, --all', () => {
    expect(selectorFromFlags({})).toBe('say which messages: --id, --reason or --all');
    expect(selectorFromFlags({ id: ['a'], all: true })).toBe('give only one of --id, --reason or --all');
    expect(selectorFromFlags({ id: ['a', 'b', 'a'] })).toEqual({ by: 'id', ids: ['a', 'b'] });
    expect(selectorFromFlags({ all: true })).toEqual({ by: 'all' });
  });

  it('selects by reason, with none for messages that have no recorded reason', () => {
    const selector = { by: 'reason', reasons: ['corrupt_gzip', 'none'] } as const;

    expect(selects(selector, withReason('a', 'corrupt_gzip'))).toBe(true);
    expect(selects(selector, withReason('b'))).toBe(true);
    expect(selects(selector, withReason('c', 'not_json'))).toBe(false);
    expect(selectorText(selector)).toBe('reason corrupt_gzip or no recorded reason');
  });

  it('selects by id and all', () => {
    expect(selects({ by: 'id', ids: ['x'] }, withReason('x', 'not_json'))).toBe(true);
    expect(selects({ by: 'id', ids: ['x'] }, withReason('y'))).toBe(false);
    expect(selects({ by: 'all' }, withReason('z'))).toBe(true);
  });

  it('takes reasons the worker records (comma lists too) and refuses a typo, naming the choices', () => {
    expect(reasonArgument('corrupt_gzip,none', undefined)).toEqual(['corrupt_gzip', 'none']);
    expect(reasonArgument(RETRIES_EXHAUSTED, ['not_json'])).toEqual(['not_json', RETRIES_EXHAUSTED]);
    expect(() => reasonArgument('corupt_gzip', undefined)).toThrow(InvalidArgumentError);
    expect(() => reasonArgument('corupt_gzip', undefined)).toThrow(/"corupt_gzip" is not a reason the worker records; one of .*corrupt_gzip.*none/);
    expect(messageIdArgument('a, b', ['c'])).toEqual(['c', 'a', 'b']);
    expect(() => messageIdArgument(' ', undefined)).toThrow(InvalidArgumentError);
  });

  it('bounds a pass by the size of the DLQ', () => {
    expect(receiveBudget(0)).toBe(20);
    expect(receiveBudget(100)).toBe(220);
  });
});
