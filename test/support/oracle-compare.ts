/**
 * Holds what the worker wrote for one object (its report and both outputs) against the line oracle's
 * expectations, line by line, and lists every mismatch. Independent of the worker: imports nothing from it.
 */
import { type Expected, type ExpectedLine, OracleError, type OracleRules, decodeUtf8, expectObject, isBlank, isReservedKey } from './line-oracle.ts';
import { lastMember, tokenizeJson } from './oracle-json-tokens.ts';

/** The per-file tally the worker reports (FileReport.result.tally), as plain data. */
export interface ReportedTally {
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number | undefined>>;
  readonly unknownDevices: number;
}

/** What the worker did with one file: its report and its two outputs, decoded (gunzipped first). */
export interface WorkerFile {
  readonly name: string;
  /** The input object, uncompressed. */
  readonly object: Uint8Array;
  readonly reportOutcome: string;
  readonly reportError?: string;
  readonly tally?: ReportedTally;
  readonly processedOutput?: string;
  readonly rejectedOutput?: string;
}

export type Check = 'file' | 'outcome' | 'unprocessable' | 'rejected-record' | 'processed-record' | 'order' | 'tally';

export interface Mismatch {
  readonly check: Check;
  readonly file: string;
  readonly line?: number;
  /** The line as the worker read it: JSON of its decoded text, and its bytes in hex when they are not plain ASCII. */
  readonly input?: string;
  readonly hex?: string;
  readonly expected: string;
  readonly actual: string;
}

export interface OracleTally {
  readonly nonBlank: number;
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  readonly unknownDevices: number;
}

export function tallyOf(lines: readonly ExpectedLine[]): OracleTally {
  const byReason: Record<string, number> = {};
  let processed = 0;
  let filtered = 0;
  let rejectedCount = 0;
  let unknownDevices = 0;
  for (const { expected } of lines) {
    if (expected.kind === 'processed') {
      processed += 1;
      if (expected.unknownDevice) unknownDevices += 1;
    } else if (expected.kind === 'filtered') {
      filtered += 1;
    } else if (expected.kind === 'rejected') {
      rejectedCount += 1;
      byReason[expected.reason] = (byReason[expected.reason] ?? 0) + 1;
    }
  }
  return { nonBlank: processed + filtered + rejectedCount, processed, filtered, rejected: rejectedCount, rejectedByReason: byReason, unknownDevices };
}

const MAX_SHOWN_CHARS = 240;

function shown(text: string): string {
  const json = JSON.stringify(text);
  return json.length <= MAX_SHOWN_CHARS ? json : `${json.slice(0, MAX_SHOWN_CHARS)}… (${text.length} chars)`;
}

function hexOf(bytes: Uint8Array): string | undefined {
  const plain = bytes.every((byte) => byte >= 0x20 && byte < 0x7f);
  if (plain) return undefined;
  const hex = Array.from(bytes.subarray(0, 96), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > 96 ? `${hex} … (${bytes.length} bytes)` : hex;
}

function outcomeName(expected: Expected): string {
  if (expected.kind === 'rejected') return `rejected ${expected.reason}${expected.field === undefined ? '' : ` (${expected.field})`}`;
  return expected.kind === 'blank' ? 'blank (no outcome)' : expected.kind;
}

/** The `seq` member a generated line carries (its line number): first by the tokenizer, else as written. */
export function seqOf(text: string): number | undefined {
  const tokens = tokenizeJson(text);
  if (tokens.ok && tokens.kind === 'object') {
    const member = lastMember(tokens.members, 'seq');
    if (member?.kind === 'number') return Number(member.valueText);
  }
  const written = /"seq"[ \t\r]*:[ \t\r]*([0-9]+)/.exec(text);
  return written ? Number(written[1]) : undefined;
}

/** Splits JSON Lines output: every line ends with LF; a non-empty output ends with one. */
function outputLines(text: string): { lines: string[]; endsWithNewline: boolean } {
  if (text === '') return { lines: [], endsWithNewline: true };
  const lines = text.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  return { lines, endsWithNewline };
}

/** JSON values equal, iteratively (any depth): numbers by Object.is, objects by own keys. The first difference's path, or undefined. */
export function jsonDifference(actual: unknown, expected: unknown): string | undefined {
  const stack: Array<[unknown, unknown, string]> = [[actual, expected, '$']];
  while (stack.length > 0) {
    const [a, b, path] = stack.pop() as [unknown, unknown, string];
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
      if (!Object.is(a, b)) return `${path}: ${describeValue(a)} instead of ${describeValue(b)}`;
      continue;
    }
    if (Array.isArray(a) !== Array.isArray(b)) return `${path}: ${describeValue(a)} instead of ${describeValue(b)}`;
    const aKeys = Object.keys(a);
    const bKeys = Object.keys(b);
    const missing = bKeys.filter((key) => !Object.hasOwn(a, key));
    const extra = aKeys.filter((key) => !Object.hasOwn(b, key));
    if (missing.length > 0 || extra.length > 0) return `${path}: keys missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`;
    for (const key of bKeys) {
      stack.push([(a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}[${JSON.stringify(key)}]`]);
    }
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : typeof value;
}

/** A value from the worker's output, as text for a message. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}

/** The JSON.parse value the processed output must have: the input's, reserved keys replaced by the two new fields. */
function expectedValue(text: string, locationId: string, tempFahrenheit: number): Record<string, unknown> {
  const value = JSON.parse(text) as Record<string, unknown>;
  delete value.location_id;
  delete value.temp_fahrenheit;
  value.location_id = locationId;
  value.temp_fahrenheit = tempFahrenheit;
  return value;
}

interface RejectedRecord {
  readonly index: number;
  readonly value: Record<string, unknown>;
}

/**
 * Everything the worker did with one file, held against the oracle. Lines are matched to outputs by line
 * number (rejected output) and by the `seq` member every generated record carries (processed output);
 * a non-blank line in neither output was filtered.
 */
export function compareFile(file: WorkerFile, rules: OracleRules): { readonly mismatches: Mismatch[]; readonly tally: OracleTally; readonly lines: readonly ExpectedLine[] } {
  const lines = expectObject(file.object, rules);
  const tally = tallyOf(lines);
  const mismatches: Mismatch[] = [];
  const fileMismatch = (check: Check, expected: string, actual: string) => mismatches.push({ check, file: file.name, expected, actual });
  const lineMismatch = (check: Check, line: ExpectedLine, expected: string, actual: string) =>
    mismatches.push({
      check,
      file: file.name,
      line: line.number,
      input: shown(decodeUtf8(line.bytes)),
      ...(hexOf(line.bytes) === undefined ? {} : { hex: hexOf(line.bytes) }),
      expected,
      actual,
    });

  if (file.reportOutcome !== 'succeeded' || file.processedOutput === undefined || file.rejectedOutput === undefined) {
    fileMismatch(
      'file',
      'the file succeeds with both outputs written',
      `report ${file.reportOutcome}${file.reportError ? ` (${file.reportError})` : ''}; processed output ${file.processedOutput === undefined ? 'missing' : 'present'}; rejected output ${file.rejectedOutput === undefined ? 'missing' : 'present'}`,
    );
    return { mismatches, tally, lines };
  }

  // The rejected output: JSON objects, by line number.
  const rejectedOut = outputLines(file.rejectedOutput);
  if (!rejectedOut.endsWithNewline) fileMismatch('file', 'the rejected output ends with LF', 'it does not');
  const rejectedByLine = new Map<number, RejectedRecord>();
  let previousLine = 0;
  rejectedOut.lines.forEach((text, index) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      fileMismatch('rejected-record', 'every rejected output line is JSON', `line ${index + 1} of it is not: ${shown(text)}`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fileMismatch('rejected-record', 'every rejected output line is a JSON object', `line ${index + 1} of it is ${shown(text)}`);
      return;
    }
    const record = value as Record<string, unknown>;
    const line = record.line;
    if (typeof line !== 'number' || !Number.isInteger(line) || line < 1) {
      fileMismatch('rejected-record', 'every rejected record has a 1-based line number', shown(text));
      return;
    }
    if (rejectedByLine.has(line)) fileMismatch('rejected-record', `one rejected record for line ${line}`, 'two or more');
    if (line <= previousLine) fileMismatch('order', 'rejected records in line order', `line ${line} after line ${previousLine}`);
    previousLine = line;
    rejectedByLine.set(line, { index, value: record });
  });

  // The processed output: JSON objects, by seq.
  const processedOut = outputLines(file.processedOutput);
  if (!processedOut.endsWithNewline) fileMismatch('file', 'the processed output ends with LF', 'it does not');
  const processedBySeq = new Map<number, string>();
  let previousSeq = 0;
  const lineNumbers = new Set(lines.map((line) => line.number));
  for (const [index, text] of processedOut.lines.entries()) {
    const seq = seqOf(text);
    if (seq === undefined || !lineNumbers.has(seq)) {
      fileMismatch('processed-record', 'every processed output line comes from an input line (its seq member)', `output line ${index + 1} has no known seq: ${shown(text)}`);
      continue;
    }
    if (processedBySeq.has(seq)) fileMismatch('processed-record', `one processed record for line ${seq}`, 'two or more');
    if (seq <= previousSeq) fileMismatch('order', 'processed records in line order', `line ${seq} after line ${previousSeq}`);
    previousSeq = seq;
    processedBySeq.set(seq, text);
  }
  for (const line of rejectedByLine.keys()) {
    if (!lineNumbers.has(line)) fileMismatch('rejected-record', `rejected records only for lines 1..${lines.length}`, `one for line ${line}`);
  }

  // Line by line. A processed output is matched to a line only if that line carries the seq.
  for (const line of lines) {
    const { expected } = line;
    const rejection = rejectedByLine.get(line.number)?.value;
    const seq = isBlank(line.bytes) ? undefined : seqOf(decodeUtf8(line.bytes));
    if (expected.kind === 'processed' && seq !== line.number) throw new OracleError(`${file.name} line ${line.number} is to be processed but carries no "seq":${line.number}`);
    const output = seq === line.number ? processedBySeq.get(line.number) : undefined;
    const actual = rejection && output !== undefined ? 'rejected AND processed'
      : rejection ? `rejected ${textOf(rejection.reason)}${rejection.field === undefined ? '' : ` (${textOf(rejection.field)})`}`
      : output !== undefined ? 'processed'
      : expected.kind === 'blank' ? 'blank (no outcome)' : 'filtered';
    const wanted = outcomeName(expected);
    if (rejection?.reason === 'unprocessable') {
      lineMismatch('unprocessable', line, wanted, `${actual}: ${shown(textOf(rejection.message))}`);
      continue;
    }
    if (actual !== wanted) {
      lineMismatch('outcome', line, wanted, actual);
      continue;
    }
    if (expected.kind === 'rejected' && rejection) {
      const problems: string[] = [];
      if (rejection.text !== expected.text) problems.push(`text ${shown(textOf(rejection.text))} instead of ${shown(expected.text)}`);
      if (typeof rejection.message !== 'string' || rejection.message === '') problems.push(`message ${JSON.stringify(rejection.message)}`);
      if (expected.field === undefined && Object.hasOwn(rejection, 'field')) problems.push(`a field ${JSON.stringify(rejection.field)} where the reason has none`);
      if (problems.length > 0) lineMismatch('rejected-record', line, `{line, reason, ${expected.field ? 'field, ' : ''}message, text: ${shown(expected.text)}}`, problems.join('; '));
    }
    if (expected.kind === 'processed' && output !== undefined) {
      const problem = processedProblem(output, expected);
      if (problem !== undefined) lineMismatch('processed-record', line, problem.expected, problem.actual);
    }
  }

  // The tally the worker reported, and the invariant.
  const reported = file.tally;
  if (reported === undefined) {
    fileMismatch('tally', 'a tally in the file report', 'none');
  } else {
    const nonZero = (byReason: Readonly<Record<string, number | undefined>>) =>
      Object.fromEntries(Object.entries(byReason).filter(([, count]) => (count ?? 0) !== 0).sort(([a], [b]) => a.localeCompare(b)));
    const want = { processed: tally.processed, filtered: tally.filtered, rejected: tally.rejected, rejectedByReason: nonZero(tally.rejectedByReason), unknownDevices: tally.unknownDevices };
    const got = { processed: reported.processed, filtered: reported.filtered, rejected: reported.rejected, rejectedByReason: nonZero(reported.rejectedByReason), unknownDevices: reported.unknownDevices };
    if (JSON.stringify(want) !== JSON.stringify(got)) fileMismatch('tally', JSON.stringify(want), JSON.stringify(got));
    if (reported.processed + reported.filtered + reported.rejected !== tally.nonBlank) {
      fileMismatch('tally', `processed + filtered + rejected = ${tally.nonBlank} non-blank lines`, `${reported.processed} + ${reported.filtered} + ${reported.rejected}`);
    }
    if (reported.processed !== processedOut.lines.length || reported.rejected !== rejectedOut.lines.length) {
      fileMismatch('tally', 'the tally counts the output lines', `tally ${reported.processed} processed / ${reported.rejected} rejected; outputs ${processedOut.lines.length} / ${rejectedOut.lines.length} lines`);
    }
  }
  return { mismatches, tally, lines };
}

/** The output line of a processed record, held against the input's members (texts) and values (JSON.parse). */
function processedProblem(output: string, expected: Extract<Expected, { kind: 'processed' }>): { expected: string; actual: string } | undefined {
  const tokens = tokenizeJson(output);
  if (!tokens.ok || tokens.kind !== 'object') return { expected: 'a JSON object', actual: `${tokens.ok ? tokens.kind : tokens.error}: ${shown(output)}` };
  const kept = expected.members.filter((member) => !isReservedKey(member.key));
  const got = tokens.members;
  for (let index = 0; index < Math.max(kept.length, got.length - 2); index += 1) {
    const want = kept[index];
    const have = got[index];
    if (want === undefined || have === undefined || want.keyText !== have.keyText || want.valueText !== have.valueText) {
      return {
        expected: `member ${index + 1}: ${want ? shown(`${want.keyText}:${want.valueText}`) : 'no more input members, then location_id, temp_fahrenheit'}`,
        actual: `${have ? shown(`${have.keyText}:${have.valueText}`) : 'nothing'} (output ${shown(output)})`,
      };
    }
  }
  const location = got[kept.length];
  const fahrenheit = got[kept.length + 1];
  const tail = `"location_id":${JSON.stringify(expected.locationId)},"temp_fahrenheit":${String(expected.fahrenheit.value)} (exact ${expected.fahrenheit.decimal}) last`;
  if (
    got.length !== kept.length + 2 ||
    location?.key !== 'location_id' ||
    location.stringValue !== expected.locationId ||
    fahrenheit?.key !== 'temp_fahrenheit' ||
    fahrenheit.kind !== 'number' ||
    !Object.is(Number(fahrenheit.valueText), expected.fahrenheit.value)
  ) {
    const last = got.slice(kept.length).map((member) => `${member.keyText}:${member.valueText}`).join(',');
    return { expected: tail, actual: `${shown(last)} (output ${shown(output)})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return { expected: 'output that JSON.parse reads', actual: shown(output) };
  }
  const difference = jsonDifference(parsed, expectedValue(expected.text, expected.locationId, expected.fahrenheit.value));
  return difference === undefined ? undefined : { expected: 'JSON.parse(output) equal to the input with the two fields set', actual: difference };
}
