import type { FileResult } from '../../worker/process-object.ts';
import { emptyTally } from '../../worker/records/line-outcomes.ts';

/** A file that succeeded with nothing in it, its outputs named after `key` as the worker names them. */
export function emptySucceededFile(key: string): FileResult {
  return {
    outcome: 'succeeded',
    source: { bucket: 'raw', key, eTag: 'd41d8cd98f00b204e9800998ecf8427e' },
    tally: emptyTally(),
    gzip: false,
    bytesRead: 0,
    bytesWritten: { processed: 0, rejected: 0 },
    outputs: { processed: [{ bucket: 'out', key, bytes: 0 }], rejected: { bucket: 'out', key: `rejected/${key}`, bytes: 0 } },
  };
}
