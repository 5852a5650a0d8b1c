import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Message } from '@aws-sdk/client-sqs';
import { describeDeadLetter } from '../../../../ops/cli/dead-letter-description.ts';
import { defaultDropJournalPath, droppedMessageRecord, openDropJournal } from '../../../../ops/cli/drop/journal.ts';
import { dropExitCode, dropLines, dropReport } from '../../../../ops/cli/drop/report.ts';
import type { DropOutcome } from '../../../../ops/cli/drop/drop-messages.ts';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'drop-unit-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const message: Message = {
  MessageId: 'm-1',
  Body: '{"type":"iot-ingest.object","version":1,"bucket":"raw","key":"a.jsonl.gz"}',
  Attributes: { ApproximateReceiveCount: '3', SentTimestamp: '1764094700000' },
  MessageAttributes: {
    'ingest-failure-reason': { DataType: 'String', StringValue: 'corrupt_gzip' },
    blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 255]) },
  },
};

describe('the drop journal', () => {
  it('is named after the UTC time, in the given directory', () => {
    expect(defaultDropJournalPath('/work', Date.UTC(2026, 11, 2, 3, 4, 5, 678))).toBe('/work/dlq-dropped-20261202T030405Z.jsonl');
  });

  it('holds everything needed to send a message again: body, attributes (binary in base64), reason, time', () => {
    expect(droppedMessageRecord(message, 'http://q/dlq', Date.UTC(2026, 11, 2))).toEqual({
      messageId: 'm-1',
      dlqUrl: 'http://q/dlq',
      droppedAt: '2026-12-02T00:00:00.000Z',
      reason: 'corrupt_gzip',
      body: message.Body,
      messageAttributes: {
        'ingest-failure-reason': { DataType: 'String', StringValue: 'corrupt_gzip' },
        blob: { DataType: 'Binary', BinaryValue: 'AQL/' },
      },
      attributes: { ApproximateReceiveCount: '3', SentTimestamp: '1764094700000' },
    });
    expect(droppedMessageRecord({ MessageId: 'm-2', Body: 'x' }, 'http://q/dlq', 0).reason).toBeNull();
  });

  it('appends JSON Lines, owner-readable only, and marks what could not be deleted', async () => {
    const path = join(directory, 'appended.jsonl');
    const first = await openDropJournal(path);
    await first.recordDropping([message], 'http://q/dlq', 0);
    await first.close();
    const second = await openDropJournal(path);
    await second.recordDropping([{ ...message, MessageId: 'm-2' }], 'http://q/dlq', 0);
    await second.recordNotDropped(['m-2'], 'ReceiptHandleIsInvalid');
    await second.close();

    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line['messageId'] ?? line['notDropped'])).toEqual(['m-1', 'm-2', ['m-2']]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});

describe('the drop report', () => {
  const outcome: DropOutcome = {
    stoppedBy: 'completed',
    messages: [describeDeadLetter(message)],
    notSelected: 2,
    arrivedDuringRun: 0,
    receives: 3,
    journal: '/work/j.jsonl',
    error: undefined,
  };
  const run = {
    dryRun: false,
    dlqUrl: 'http://q/dlq',
    selector: { by: 'id', ids: ['m-1', 'm-9'] } as const,
    dlqBefore: { messages: 3, visible: 3, inFlight: 0, delayed: 0 },
    dlqAfter: { messages: 2, visible: 2, inFlight: 0, delayed: 0 },
  };

  it('lists id, object, reason and receive count, names the journal, and says what the DLQ holds now', () => {
    const report = dropReport(outcome, run);

    expect(report).toMatchObject({ dropped: 1, notFound: ['m-9'], journal: '/work/j.jsonl' });
    expect(dropLines(report)).toEqual([
      'dropped 1 message (ids m-1, m-9) from http://q/dlq',
      'journal: /work/j.jsonl (id, body, attributes and reason of every dropped message)',
      '  m-1  s3://raw/a.jsonl.gz  reason corrupt_gzip  receive count 3',
      'not found: m-9 (not in the DLQ, or held in flight by another reader when this ran: see `status`)',
      'the DLQ holds 2 messages (2 visible, 0 in flight) now (left alone: 2 not selected)',
    ]);
    // An id asked for and not dropped is a failure a script must see.
    expect(dropExitCode(report)).toBe(1);
  });

  it('exits 0 when done, 3 when stopped early, 1 when failed', () => {
    const all = { ...run, selector: { by: 'all' } as const };
    expect(dropExitCode(dropReport(outcome, all))).toBe(0);
    expect(dropExitCode(dropReport({ ...outcome, stoppedBy: 'interrupted' }, all))).toBe(3);
    expect(dropExitCode(dropReport({ ...outcome, stoppedBy: 'receive-budget' }, all))).toBe(3);
    expect(dropExitCode(dropReport({ ...outcome, stoppedBy: 'failed', error: 'boom' }, all))).toBe(1);
  });

  it('on a dry run counts what would go and drops nothing', () => {
    const report = dropReport({ ...outcome, journal: undefined }, { ...run, dryRun: true, selector: { by: 'reason', reasons: ['corrupt_gzip'] } });

    expect(report).toMatchObject({ dryRun: true, dropped: 0, wouldDrop: 1 });
    expect(report.notFound).toBeUndefined();
    expect(dropLines(report)[0]).toBe('dry run: would drop 1 message (reason corrupt_gzip) from http://q/dlq; nothing was deleted');
  });
});
