/**
 * One output line read back, matched to its input line and entered in the ledger, with its text checked
 * against what the data contract makes of that input line. Pure.
 */
import { expectedProcessedLine, seqInText, type PlannedFile } from './inputs.ts';
import type { Ledger } from './ledger.ts';
import { parseJsonObject } from '../../worker/common/json-object.ts';

/** The planned input line `seq` when it belongs to `file`. */
function inputLine(ledger: Ledger, file: PlannedFile | undefined, seq: number | undefined) {
  if (file === undefined || seq === undefined) return undefined;
  const place = ledger.placeOf(seq);
  return place?.key === file.key ? file.lines[place.lineNumber - 1] : undefined;
}


/** A line of the processed output of `file` (undefined: of an object no input explains). */
export function checkProcessedLine(ledger: Ledger, file: PlannedFile | undefined, line: string, unknownLocationId: string): void {
  const record = parseJsonObject(line);
  const seq = typeof record?.['seq'] === 'number' ? record['seq'] : undefined;
  const input = inputLine(ledger, file, seq);
  const intact = input?.expected !== 'processed' || line === expectedProcessedLine(input.text, unknownLocationId);
  ledger.foundProcessed(file?.key, seq, intact);
}

/** A line of the rejected output of `file`: `{"line":…,"reason":…,"text":…}`. */
export function checkRejectedLine(ledger: Ledger, file: PlannedFile | undefined, line: string): void {
  const record = parseJsonObject(line);
  const lineNumber = typeof record?.['line'] === 'number' ? record['line'] : Number.NaN;
  const reason = typeof record?.['reason'] === 'string' ? record['reason'] : '';
  const text = typeof record?.['text'] === 'string' ? record['text'] : undefined;
  const seq = text === undefined ? undefined : seqInText(text);
  const input = file === undefined ? undefined : file.lines[lineNumber - 1];
  // An overlong line keeps only a prefix of itself; every other one is kept whole.
  const intact =
    input === undefined ||
    (text !== undefined && (input.expected === 'line_too_long' ? text.length > 0 && input.text.startsWith(text) : text === input.text));
  ledger.foundRejected(file?.key, lineNumber, reason, seq, intact);
}
