/**
 * The redrive journal: the ids of DLQ messages already sent back to the source queue but not yet
 * known to be deleted from the DLQ. A rerun deletes such a message without sending it again.
 *
 * One JSON object a line: a header naming the DLQ, then `{"sent":[ids]}` (fsynced before the DLQ
 * delete) and `{"deleted":[ids]}` records. It is compacted when opened and closed, and removed once
 * nothing is pending. A torn last line (a crash mid-write) is ignored: that batch was sent but never
 * journaled, the one window in which a rerun sends a batch twice.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../exit-codes.ts';
import { queueNameOf } from '../queue-targets.ts';
import { syncDirectoryOf } from '../sync-directory.ts';
import { isJsonObject } from '../../../worker/common/json-object.ts';

const FORMAT = 'iot-ingest-redrive-journal';
const VERSION = 1;
const RECORDS_BEFORE_COMPACTING = 2_000;

export interface RedriveJournal {
  readonly path: string;
  /** Sent to the source queue, and not yet known to be deleted from the DLQ. */
  has(messageId: string): boolean;
  readonly pendingCount: number;
  /** Durable (fsynced) when it resolves. */
  recordSent(messageIds: readonly string[]): Promise<void>;
  recordDeleted(messageIds: readonly string[]): Promise<void>;
  /** Compacts the file, or removes it when nothing is pending. */
  close(): Promise<void>;
}

/** One journal per DLQ in `directory`: the queue's name for people, a hash of its URL for uniqueness. */
export function defaultJournalPath(dlqUrl: string, directory: string): string {
  const digest = createHash('sha256').update(dlqUrl).digest('hex').slice(0, 12);
  const name = queueNameOf(dlqUrl).replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60);
  return join(directory, `iot-ingest-redrive-${name}-${digest}.journal`);
}


function idsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((id) => typeof id === 'string') ? value : undefined;
}

/** The pending ids recorded in a journal's text; throws if it is another DLQ's journal or corrupt. */
export function replayJournal(text: string, dlqUrl: string, path: string): Set<string> {
  const lines = text.split('\n');
  const pending = new Set<string>();
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      if (index === lines.length - 1) return;
      throw new Error(`the redrive journal ${path} is corrupt at line ${index + 1}; move it aside to start afresh`);
    }
    if (index === 0) {
      if (!isJsonObject(record) || record.format !== FORMAT || record.version !== VERSION) {
        throw new UsageError(`${path} is not a redrive journal (version ${VERSION})`);
      }
      if (record.dlqUrl !== dlqUrl) {
        throw new UsageError(`the redrive journal ${path} belongs to ${String(record.dlqUrl)}, not ${dlqUrl}`);
      }
      return;
    }
    const sent = isJsonObject(record) ? idsOf(record.sent) : undefined;
    const deleted = isJsonObject(record) ? idsOf(record.deleted) : undefined;
    if (sent === undefined && deleted === undefined) {
      throw new Error(`the redrive journal ${path} has an unknown record at line ${index + 1}`);
    }
    for (const id of sent ?? []) pending.add(id);
    for (const id of deleted ?? []) pending.delete(id);
  });
  return pending;
}

function headerLine(dlqUrl: string): string {
  return `${JSON.stringify({ format: FORMAT, version: VERSION, dlqUrl })}\n`;
}


/** Replaces the file atomically with the header and the pending ids. */
async function writeCompacted(path: string, dlqUrl: string, pending: ReadonlySet<string>): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(headerLine(dlqUrl) + (pending.size > 0 ? `${JSON.stringify({ sent: [...pending] })}\n` : ''));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDirectoryOf(path);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function openJournal(path: string, dlqUrl: string): Promise<RedriveJournal> {
  const text = await readIfExists(path);
  const pending = text === undefined ? new Set<string>() : replayJournal(text, dlqUrl, path);
  // Compacting first also drops a torn last line, which an append would otherwise run into.
  await writeCompacted(path, dlqUrl, pending);
  let handle = await open(path, 'a');
  let appended = 0;

  const append = async (record: object, durable: boolean) => {
    await handle.write(`${JSON.stringify(record)}\n`);
    if (durable) await handle.sync();
    appended += 1;
  };
  // A long run appends two records a batch; rewriting now and then keeps the file as small as what is pending.
  const compactIfLong = async () => {
    if (appended < RECORDS_BEFORE_COMPACTING) return;
    await handle.close();
    await writeCompacted(path, dlqUrl, pending);
    handle = await open(path, 'a');
    appended = 0;
  };

  return {
    path,
    has: (messageId) => pending.has(messageId),
    get pendingCount() {
      return pending.size;
    },
    async recordSent(messageIds) {
      if (messageIds.length === 0) return;
      await append({ sent: messageIds }, true);
      for (const id of messageIds) pending.add(id);
    },
    async recordDeleted(messageIds) {
      if (messageIds.length === 0) return;
      // Not synced: losing it leaves the id of a message that no longer exists, which no receive returns.
      await append({ deleted: messageIds }, false);
      for (const id of messageIds) pending.delete(id);
      await compactIfLong();
    },
    async close() {
      await handle.close();
      if (pending.size === 0) await rm(path, { force: true });
      else await writeCompacted(path, dlqUrl, pending);
    },
  };
}
