import { describe, expect, it } from '@jest/globals';
import type { Message } from '@aws-sdk/client-sqs';
import { describeDeadLetter, describeLines, failureText } from '../../../../ops/cli/dead-letter-description.ts';
import { formatBytes, formatDuration, isoFromEpochMs, labelled, plural } from '../../../../ops/cli/format.ts';
import { oldestText, statusLines, type IngestStatus } from '../../../../ops/cli/queue-status.ts';
import { redriveLines, type RedriveReport } from '../../../../ops/cli/redrive/report.ts';

describe('formatting helpers', () => {
  it('shows durations in their two largest units', () => {
    expect([0, 0.4, 42, 60, 185, 3_600, 7_300, 180_000].map(formatDuration)).toEqual([
      '0 s',
      '0 s',
      '42 s',
      '1 min',
      '3 min 5 s',
      '1 h',
      '2 h 1 min',
      '2 d 2 h',
    ]);
  });

  it('shows bytes in binary units, and counts with their noun', () => {
    expect([512, 1536, 5 * 1024 * 1024].map(formatBytes)).toEqual(['512 B', '1.5 KiB', '5.0 MiB']);
    expect([plural(1, 'message'), plural(3, 'message')]).toEqual(['1 message', '3 messages']);
  });

  it('reads SQS epoch-millisecond attributes, and aligns labels', () => {
    expect(isoFromEpochMs('1764094800000')).toBe('2025-11-25T18:20:00.000Z');
    expect(isoFromEpochMs(undefined)).toBeUndefined();
    expect(isoFromEpochMs('soon')).toBeUndefined();
    expect(labelled([['a', '1'], ['longer', '2']], '  ')).toEqual(['  a       1', '  longer  2']);
  });
});

describe('describeDeadLetter', () => {
  const objectBody = JSON.stringify({ type: 'iot-ingest.object', version: 1, bucket: 'raw', key: 'site 1/a.jsonl' });

  it('names the objects and the reason the worker gave', () => {
    const message: Message = {
      MessageId: 'm-1',
      Body: objectBody,
      Attributes: { ApproximateReceiveCount: '2', ApproximateFirstReceiveTimestamp: '1764094800000', SentTimestamp: '1764094700000' },
      MessageAttributes: {
        'ingest-failure-reason': { DataType: 'String', StringValue: 'corrupt_gzip' },
        'ingest-failure-detail': { DataType: 'String', StringValue: 'unexpected end of file' },
      },
    };

    const description = describeDeadLetter(message);

    expect(description).toEqual({
      messageId: 'm-1',
      receiveCount: 2,
      firstReceivedAt: '2025-11-25T18:20:00.000Z',
      sentAt: '2025-11-25T18:18:20.000Z',
      content: { kind: 'objects', objects: [{ bucket: 'raw', key: 'site 1/a.jsonl' }] },
      failure: { by: 'worker', reason: 'corrupt_gzip', detail: 'unexpected end of file' },
    });
    expect(describeLines(description)).toEqual([
      'm-1  (receive count 2, first 2025-11-25T18:20:00.000Z, sent 2025-11-25T18:18:20.000Z)',
      '  s3://raw/site 1/a.jsonl',
      '  why: worker: corrupt_gzip (unexpected end of file)',
    ]);
  });

  it('shows SQS\'s receive count as it is, in one field, and blames the redrive policy when the worker left no reason', () => {
    const notification = JSON.stringify({
      Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: { key: 'a+b%2Fc.jsonl' } } }],
    });

    const description = describeDeadLetter({ MessageId: 'm-2', Body: notification, Attributes: { ApproximateReceiveCount: '6' } });

    expect(description.receiveCount).toBe(6);
    expect(description.failure).toEqual({ by: 'redrive-policy' });
    expect(describeLines(description)[0]).toBe('m-2  (receive count 6)');
    expect(failureText(description.failure)).toBe('no reason recorded: most likely moved by SQS after maxReceiveCount receives (transient failures, or a worker stopped on the last one)');
    expect(description.content).toEqual({ kind: 'objects', objects: [{ bucket: 'raw', key: 'a b/c.jsonl' }] });
  });

  it('shows the start of a body that is no S3 event', () => {
    const description = describeDeadLetter({ MessageId: 'm-3', Body: `oops ${'x'.repeat(300)}` });

    expect(description.content.kind).toBe('unreadable');
    expect(describeLines(description)[1]).toMatch(/^ {2}\(not an S3 event: not_json: the body is not JSON\) "oops x+…"$/);
  });
});

describe('report lines', () => {
  const status: IngestStatus = {
    queue: {
      url: 'http://q/ingest',
      name: 'ingest',
      messages: 4,
      visible: 3,
      inFlight: 1,
      delayed: 0,
      oldestMessage: { source: 'cloudwatch', ageSeconds: 125, measuredAt: '2026-11-25T18:00:00.000Z', windowMinutes: 15 },
      redrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:r:1:ingest-dlq', maxReceiveCount: 5 },
    },
    deadLetterQueue: {
      url: 'http://q/ingest-dlq',
      name: 'ingest-dlq',
      messages: 3,
      visible: 2,
      inFlight: 1,
      delayed: 0,
      oldestMessage: { source: 'estimate', ageSeconds: 42, sampledMessages: 2 },
      redrivePolicy: undefined,
      redriveSources: { reported: true, queueUrls: ['http://q/ingest'] },
    },
    queueRedrivesToDeadLetterQueue: true,
  };

  it('labels an estimated age as an estimate', () => {
    expect(oldestText(status.queue.oldestMessage)).toBe('2 min 5 s (CloudWatch, 2026-11-25T18:00:00.000Z)');
    expect(oldestText(status.deadLetterQueue.oldestMessage)).toBe('~42 s (estimate from 2 sampled messages)');
    expect(oldestText({ source: 'cloudwatch', ageSeconds: undefined, windowMinutes: 15 })).toBe('no CloudWatch data in the last 15 min');
  });

  it('prints the DLQ total (visible + in flight + delayed) first, then the two labelled blocks', () => {
    expect(statusLines(status)).toEqual([
      'DLQ: 3 messages (2 visible, 1 in flight); `dlq peek` shows why they failed',
      'ingest queue: 4 messages (3 visible, 1 in flight)',
      '',
      'ingest queue: ingest  http://q/ingest',
      '  messages        4 (visible + in flight + delayed)',
      '  visible         3',
      '  in flight       1',
      '  delayed         0',
      '  oldest message  2 min 5 s (CloudWatch, 2026-11-25T18:00:00.000Z)',
      '  redrive policy  to arn:aws:sqs:r:1:ingest-dlq after maxReceiveCount 5 receives',
      'dead-letter queue: ingest-dlq  http://q/ingest-dlq',
      '  messages         3 (visible + in flight + delayed)',
      '  visible          2',
      '  in flight        1',
      '  delayed          0',
      '  oldest message   ~42 s (estimate from 2 sampled messages)',
      '  redrive sources  http://q/ingest',
    ]);
    expect(statusLines({ ...status, deadLetterQueue: { ...status.deadLetterQueue, messages: 0, visible: 0, inFlight: 0 } })[0]).toBe('DLQ: empty');
  });

  const redrive: RedriveReport = {
    dryRun: false,
    method: 'client-side',
    methodReason: 'the endpoint has no message move tasks (InvalidAction)',
    dlqUrl: 'http://q/dlq',
    destinationUrl: 'http://q/ingest',
    selector: { by: 'all' },
    dlqBefore: { messages: 30, visible: 30, inFlight: 0, delayed: 0 },
    moved: 20,
    sent: 15,
    finishedFromJournal: 5,
    arrivedDuringRun: 2,
    stoppedBy: 'interrupted',
    journal: '/tmp/j',
    dlqAfter: { messages: 12, visible: 12, inFlight: 0, delayed: 0 },
  };

  it('says how a redrive ended, how to go on, and what the DLQ holds now', () => {
    expect(redriveLines(redrive)).toEqual([
      'moved 20 messages (15 sent now, 5 sent by an earlier run and deleted now); interrupted: run the same command again to go on; ' +
        'the DLQ holds 12 messages (12 visible, 0 in flight) now (2 dead-lettered again or newly during this run): `dlq peek` shows them',
      'method client-side (the endpoint has no message move tasks (InvalidAction)); http://q/dlq -> http://q/ingest',
      'journal: /tmp/j',
    ]);
  });

  it('never says the DLQ is drained when messages came back after a completed move', () => {
    const completed = (dlqAfter: RedriveReport['dlqAfter']): string =>
      redriveLines({ ...redrive, moved: 30, sent: 30, finishedFromJournal: 0, arrivedDuringRun: 0, stoppedBy: 'completed', dlqAfter })[0] ?? '';

    expect(completed({ messages: 0, visible: 0, inFlight: 0, delayed: 0 })).toBe('moved 30 messages (30 sent now, 0 sent by an earlier run and deleted now); the DLQ is empty now');
    const cameBack = completed({ messages: 4, visible: 3, inFlight: 1, delayed: 0 });
    expect(cameBack).toContain('the DLQ holds 4 messages (3 visible, 1 in flight) now');
    expect(cameBack).not.toMatch(/drained|empty/);
    expect(completed({ messages: 5, visible: 3, inFlight: 1, delayed: 1 })).toContain('the DLQ holds 5 messages (3 visible, 1 in flight, 1 delayed) now');
    const moveTask = redriveLines({ ...redrive, method: 'move-task', sent: undefined, moveTaskStatus: 'COMPLETED', stoppedBy: 'completed', arrivedDuringRun: undefined, dlqAfter: { messages: 2, visible: 0, inFlight: 2, delayed: 0 } })[0];
    expect(moveTask).toBe('moved 20 messages; move task COMPLETED; the DLQ holds 2 messages (0 visible, 2 in flight) now: `dlq peek` shows them');
  });
});
