import { describe, expect, it } from '@jest/globals';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { oldestMessageAge, type OldestAgeMetric } from '../../../../ops/cli/oldest-message-age.ts';
import { parseRedrivePolicy, type QueueSnapshot } from '../../../../ops/cli/queue-snapshot.ts';

describe('oldest message age without sampling', () => {
  const snapshot = (overrides: Partial<QueueSnapshot> = {}): QueueSnapshot => ({
    url: 'http://q/ingest',
    name: 'ingest',
    arn: 'arn:aws:sqs:r:1:ingest',
    visible: 4,
    inFlight: 0,
    delayed: 0,
    redrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:r:1:dlq', maxReceiveCount: 5 },
    ...overrides,
  });
  // The tests below must not touch SQS.
  const noSqs = {} as SQSClient;

  it('takes CloudWatch latest data point on AWS', async () => {
    const names: string[] = [];
    const metric: OldestAgeMetric = {
      windowMinutes: 15,
      latest: (queueName) => {
        names.push(queueName);
        return Promise.resolve({ ageSeconds: 300, measuredAt: '2026-11-25T18:00:00.000Z' });
      },
      destroy: () => undefined,
    };

    expect(await oldestMessageAge(noSqs, snapshot(), { kind: 'cloudwatch', metric }, 0)).toEqual({
      source: 'cloudwatch',
      ageSeconds: 300,
      measuredAt: '2026-11-25T18:00:00.000Z',
      windowMinutes: 15,
    });
    expect(names).toEqual(['ingest']);
  });

  it('reports a CloudWatch failure instead of failing the status', async () => {
    const metric: OldestAgeMetric = { windowMinutes: 15, latest: () => Promise.reject(new Error('AccessDenied')), destroy: () => undefined };

    expect(await oldestMessageAge(noSqs, snapshot(), { kind: 'cloudwatch', metric }, 0)).toEqual({ source: 'not-measured', reason: 'CloudWatch: AccessDenied' });
  });

  it('does not sample a queue with a redrive policy unless allowed, nor an empty one', async () => {
    const refused = await oldestMessageAge(noSqs, snapshot(), { kind: 'sample', allowOnRedrivenQueue: false }, 0);
    const empty = await oldestMessageAge(noSqs, snapshot({ visible: 0, redrivePolicy: undefined }), { kind: 'sample', allowOnRedrivenQueue: true }, 0);

    expect(refused).toEqual({
      source: 'not-measured',
      reason: 'not sampled: a sample receive counts toward maxReceiveCount 5 (pass --sample-age to sample anyway)',
    });
    expect(empty).toEqual({ source: 'not-measured', reason: 'no visible message to sample' });
  });

  it('reads a redrive policy as SQS stores it', () => {
    expect(parseRedrivePolicy('{"deadLetterTargetArn":"arn:aws:sqs:r:1:dlq","maxReceiveCount":"5"}')).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:r:1:dlq',
      maxReceiveCount: 5,
    });
    expect(parseRedrivePolicy(undefined)).toBeUndefined();
    expect(parseRedrivePolicy('not json')).toBeUndefined();
  });
});
