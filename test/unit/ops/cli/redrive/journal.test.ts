import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UsageError } from '../../../../../ops/cli/exit-codes.ts';
import { defaultJournalPath, openJournal, replayJournal } from '../../../../../ops/cli/redrive/journal.ts';

const DLQ = 'http://127.0.0.1:4566/000000000000/iot-ingest-dlq';
const HEADER = JSON.stringify({ format: 'iot-ingest-redrive-journal', version: 1, dlqUrl: DLQ });

let directory: string;
let files = 0;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cli-journal-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function freshPath(): string {
  files += 1;
  return join(directory, `journal-${files}`);
}

describe('defaultJournalPath', () => {
  it('is one file per DLQ: named after the queue, told apart by a hash of the URL', () => {
    const path = defaultJournalPath(DLQ, '/tmp');
    expect(path).toMatch(/^\/tmp\/iot-ingest-redrive-iot-ingest-dlq-[0-9a-f]{12}\.journal$/);
    expect(defaultJournalPath(DLQ, '/tmp')).toBe(path);
    expect(defaultJournalPath('http://127.0.0.1:4567/000000000000/iot-ingest-dlq', '/tmp')).not.toBe(path);
  });
});

describe('replayJournal', () => {
  it('keeps what was sent and not deleted', () => {
    const text = [HEADER, '{"sent":["a","b","c"]}', '{"deleted":["a"]}', '{"sent":["d"]}', '{"deleted":["c","d"]}', ''].join('\n');
    expect([...replayJournal(text, DLQ, 'j')]).toEqual(['b']);
  });

  it('ignores a torn last line: the crash happened while writing it', () => {
    expect([...replayJournal(`${HEADER}\n{"sent":["a"]}\n{"sent":["b","c`, DLQ, 'j')]).toEqual(['a']);
  });

  it('refuses a corrupt line in the middle, and another DLQ journal (a usage error)', () => {
    expect(() => replayJournal(`${HEADER}\n{"sent":\n{"sent":["a"]}\n`, DLQ, 'j')).toThrow('is corrupt at line 2');
    expect(() => replayJournal(`${HEADER}\n`, 'http://other/q', 'j')).toThrow(UsageError);
    expect(() => replayJournal('{"hello":1}\n', DLQ, 'j')).toThrow('is not a redrive journal');
  });
});

describe('openJournal', () => {
  it('remembers sent ids across a reopen, as after a crash, until they are recorded as deleted', async () => {
    const path = freshPath();
    const first = await openJournal(path, DLQ);
    await first.recordSent(['m1', 'm2', 'm3']);
    await first.recordDeleted(['m1']);
    // No close: the process died here.

    const second = await openJournal(path, DLQ);
    expect([second.has('m1'), second.has('m2'), second.has('m3')]).toEqual([false, true, true]);
    expect(second.pendingCount).toBe(2);
    await second.recordDeleted(['m2', 'm3']);
    await second.close();

    expect(await readdir(directory)).not.toContain(path.split('/').pop());
  });

  it('compacts on close when ids are still pending, and on open drops a torn last line', async () => {
    const path = freshPath();
    await writeFile(path, `${HEADER}\n{"sent":["x","y"]}\n{"deleted":["x"]}\n{"sent":["z`);

    const journal = await openJournal(path, DLQ);
    expect(await readFile(path, 'utf8')).toBe(`${HEADER}\n{"sent":["y"]}\n`);
    await journal.recordSent(['w']);
    await journal.close();

    expect(await readFile(path, 'utf8')).toBe(`${HEADER}\n{"sent":["y","w"]}\n`);
  });

  it('keeps a long run small by compacting now and then', async () => {
    const path = freshPath();
    const journal = await openJournal(path, DLQ);
    for (let batch = 0; batch < 1_200; batch += 1) {
      await journal.recordSent([`id-${batch}`]);
      await journal.recordDeleted([`id-${batch}`]);
    }
    await journal.recordSent(['last']);

    expect((await readFile(path, 'utf8')).split('\n').length).toBeLessThan(1_000);
    expect(journal.pendingCount).toBe(1);
    await journal.close();
  });
});
