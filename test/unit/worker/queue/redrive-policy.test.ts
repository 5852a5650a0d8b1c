import { describe, expect, it } from '@jest/globals';
import { DeadLetterQueueError, parseRedrivePolicy } from '../../../../worker/queue/dead-letter.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest';
const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:ingest-dlq';

describe('parseRedrivePolicy', () => {
  it.each([
    ['a number', 5],
    ['a string, as CloudFormation may store it', '5'],
  ])('reads maxReceiveCount given as %s', (_what, maxReceiveCount) => {
    expect(parseRedrivePolicy(JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount }), QUEUE_URL)).toStrictEqual({
      deadLetterTargetArn: DLQ_ARN,
      maxReceiveCount: 5,
    });
  });

  it.each([
    ['missing', {}],
    ['zero', { maxReceiveCount: 0 }],
    ['not whole', { maxReceiveCount: 2.5 }],
    ['empty', { maxReceiveCount: '' }],
    ['not a number', { maxReceiveCount: 'five' }],
    ['null', { maxReceiveCount: null }],
  ])('has no maxReceiveCount when it is %s', (_what, fields) => {
    expect(parseRedrivePolicy(JSON.stringify({ deadLetterTargetArn: DLQ_ARN, ...fields }), QUEUE_URL)).toStrictEqual({
      deadLetterTargetArn: DLQ_ARN,
      maxReceiveCount: undefined,
    });
  });

  it('has no maxReceiveCount without a target: SQS then moves nothing, however often a message is received', () => {
    expect(parseRedrivePolicy(JSON.stringify({ maxReceiveCount: 3 }), QUEUE_URL)).toStrictEqual({ deadLetterTargetArn: undefined, maxReceiveCount: undefined });
  });

  it('refuses a policy that is not JSON, naming the queue and the policy', () => {
    expect(() => parseRedrivePolicy('{oops', QUEUE_URL)).toThrow(new DeadLetterQueueError(`the redrive policy of ${QUEUE_URL} is not JSON: {oops`));
  });

  it.each([['"text"'], ['null'], ['[1]']])('reads a JSON policy %s that is not an object as naming nothing', (policy) => {
    expect(parseRedrivePolicy(policy, QUEUE_URL)).toStrictEqual({ deadLetterTargetArn: undefined, maxReceiveCount: undefined });
  });
});
