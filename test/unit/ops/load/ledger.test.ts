import { describe, expect, it } from '@jest/globals';
import { expectedProcessedLine, planFile, type InputOptions, type PlannedFile } from '../../../../ops/load/inputs.ts';
import { Ledger, ledgerIsClean, type Expectation, type OutcomeCounts } from '../../../../ops/load/ledger.ts';
import { checkProcessedLine, checkRejectedLine } from '../../../../ops/load/output-lines.ts';

/** Two small files: a.jsonl lines 1..4 (seq 0..3), b.jsonl lines 1..2 (seq 4..5). */
function twoFiles(): Ledger {
  const ledger = new Ledger();
  ledger.expectFile('a.jsonl', ['processed', 'filtered', 'none', 'invalid_json']);
  ledger.expectFile('b.jsonl', ['processed', 'missing_field']);
  return ledger;
}

const A_COUNTS: OutcomeCounts = { processed: 1, filtered: 1, rejected: 1 };
const B_COUNTS: OutcomeCounts = { processed: 1, filtered: 0, rejected: 1 };

/** Everything as it should be: each line found once, where and as it should be, and the counts logged. */
function accountForEverything(ledger: Ledger, skip: { seq?: number } = {}): void {
  if (skip.seq !== 0) ledger.foundProcessed('a.jsonl', 0, true);
  if (skip.seq !== 3) ledger.foundRejected('a.jsonl', 4, 'invalid_json', 3, true);
  if (skip.seq !== 4) ledger.foundProcessed('b.jsonl', 4, true);
  if (skip.seq !== 5) ledger.foundRejected('b.jsonl', 2, 'missing_field', 5, true);
  ledger.loggedCounts('a.jsonl', A_COUNTS);
  ledger.loggedCounts('b.jsonl', B_COUNTS);
}

const PROBLEMS = ['lost', 'duplicated', 'misclassified', 'misplaced', 'altered', 'unmatched', 'countMismatches'] as const;

function problems(ledger: Ledger): Record<(typeof PROBLEMS)[number], number> {
  const result = ledger.result();
  return Object.fromEntries(PROBLEMS.map((name) => [name, result[name]])) as Record<(typeof PROBLEMS)[number], number>;
}

const NONE = { lost: 0, duplicated: 0, misclassified: 0, misplaced: 0, altered: 0, unmatched: 0, countMismatches: 0 };

describe('Ledger', () => {
  it('numbers lines across files and maps seq and line numbers both ways', () => {
    const ledger = twoFiles();

    expect(ledger.seqOf('b.jsonl', 1)).toBe(4);
    expect(ledger.placeOf(5)).toEqual({ key: 'b.jsonl', lineNumber: 2 });
    expect(ledger.expectationOf(2)).toBe('none');
    expect(ledger.seqOf('b.jsonl', 3)).toBeUndefined();
    expect(ledger.placeOf(6)).toBeUndefined();
    expect(ledger.nextFileSeq).toBe(6);
  });

  it('is clean when every line is accounted for exactly once, and counts what was expected', () => {
    const ledger = twoFiles();
    accountForEverything(ledger);

    const result = ledger.result();

    expect(problems(ledger)).toEqual(NONE);
    expect(ledgerIsClean(result)).toBe(true);
    expect(result).toMatchObject({
      files: 2,
      lines: 6,
      blankLines: 1,
      expected: { processed: 2, filtered: 1, rejected: 2, rejectedByReason: { invalid_json: 1, missing_field: 1 } },
      found: { processed: 2, rejected: 2 },
    });
  });

  it('detects a lost processed line', () => {
    const ledger = twoFiles();
    accountForEverything(ledger, { seq: 4 });

    expect(problems(ledger)).toEqual({ ...NONE, lost: 1 });
    expect(ledger.result().examples).toContain('lost: b.jsonl line 1 (seq 4), expected processed');
    expect(ledgerIsClean(ledger.result())).toBe(false);
  });

  it('detects a lost rejected line', () => {
    const ledger = twoFiles();
    accountForEverything(ledger, { seq: 3 });

    expect(problems(ledger)).toEqual({ ...NONE, lost: 1 });
  });

  it('detects a line duplicated within its own output', () => {
    const ledger = twoFiles();
    accountForEverything(ledger);
    ledger.foundProcessed('a.jsonl', 0, true);

    expect(problems(ledger)).toEqual({ ...NONE, duplicated: 1 });
  });

  it("detects a line duplicated into another file's output (duplicated and misplaced)", () => {
    const ledger = twoFiles();
    accountForEverything(ledger);
    ledger.foundProcessed('b.jsonl', 0, true);

    expect(problems(ledger)).toEqual({ ...NONE, duplicated: 1, misplaced: 1 });
  });

  it('detects a line found both processed and rejected (duplicated and misclassified)', () => {
    const ledger = twoFiles();
    accountForEverything(ledger);
    ledger.foundRejected('a.jsonl', 1, 'invalid_json', 0, true);

    expect(problems(ledger)).toEqual({ ...NONE, duplicated: 1, misclassified: 1 });
  });

  it('detects a misclassified line: rejected with another reason', () => {
    const ledger = twoFiles();
    accountForEverything(ledger, { seq: 5 });
    ledger.foundRejected('b.jsonl', 2, 'invalid_type', 5, true);

    expect(problems(ledger)).toEqual({ ...NONE, misclassified: 1 });
    expect(ledger.result().examples).toContain('misclassified: b.jsonl line 2 (seq 5) expected missing_field, found invalid_type');
  });

  it('detects a misclassified line: a filtered one written as processed', () => {
    const ledger = twoFiles();
    accountForEverything(ledger);
    ledger.foundProcessed('a.jsonl', 1, true);

    expect(problems(ledger)).toEqual({ ...NONE, misclassified: 1 });
  });

  it('detects a misclassified line: a processed one rejected instead (not lost: it is accounted for, wrongly)', () => {
    const ledger = twoFiles();
    accountForEverything(ledger, { seq: 0 });
    ledger.foundRejected('a.jsonl', 1, 'out_of_range', 0, true);

    expect(problems(ledger)).toEqual({ ...NONE, misclassified: 1 });
  });

  it('detects a blank line that shows up in the rejected output, and an unknown reason', () => {
    const ledger = twoFiles();
    accountForEverything(ledger);
    ledger.foundRejected('a.jsonl', 3, 'invalid_json', undefined, true);
    ledger.foundRejected('b.jsonl', 1, 'made_up', 4, true);

    expect(problems(ledger)).toEqual({ ...NONE, misclassified: 2, duplicated: 1 });
  });

  it('detects a rejected line reported under the wrong line number', () => {
    const ledger = twoFiles();
    accountForEverything(ledger, { seq: 3 });
    ledger.foundRejected('a.jsonl', 2, 'invalid_json', 3, true);

    // Entered under line 2 (filtered, so misclassified); line 4 is then lost; the seq in its text disagrees.
    expect(problems(ledger)).toEqual({ ...NONE, lost: 1, misclassified: 1, misplaced: 1 });
  });

  it('detects altered text, output lines that match no input, and wrong or missing per-file counts', () => {
    const ledger = new Ledger();
    ledger.expectFile('a.jsonl', ['processed', 'filtered']);
    ledger.expectFile('b.jsonl', ['processed']);
    ledger.foundProcessed('a.jsonl', 0, false);
    ledger.foundProcessed('b.jsonl', 2, true);
    ledger.foundProcessed('a.jsonl', undefined, true);
    ledger.foundProcessed(undefined, 99, true);
    ledger.foundRejected('a.jsonl', 7, 'invalid_json', undefined, true);
    ledger.loggedCounts('a.jsonl', { processed: 1, filtered: 0, rejected: 1 });

    expect(problems(ledger)).toEqual({ ...NONE, altered: 1, unmatched: 3, countMismatches: 2 });
  });

  it('refuses the same input key twice', () => {
    const ledger = twoFiles();

    expect(() => ledger.expectFile('a.jsonl', ['processed'])).toThrow('added twice');
  });

  it('grows past its first arrays', () => {
    const ledger = new Ledger();
    for (let index = 0; index < 30; index += 1) ledger.expectFile(`f${index}`, Array<Expectation>(100).fill('processed'));
    for (let seq = 0; seq < 3000; seq += 1) ledger.foundProcessed(`f${Math.floor(seq / 100)}`, seq, true);
    for (let index = 0; index < 30; index += 1) ledger.loggedCounts(`f${index}`, { processed: 100, filtered: 0, rejected: 0 });

    expect(problems(ledger)).toEqual(NONE);
    expect(ledger.result().found.processed).toBe(3000);
  });
});

describe('checkProcessedLine and checkRejectedLine', () => {
  const OPTIONS: InputOptions = { files: 1, recordsPerFile: 200, seed: 3, thresholdCelsius: 10, maxLineBytes: 2048 };

  /** A planned file with processed and rejected lines, and a ledger holding it. */
  function planned(): { file: PlannedFile; ledger: Ledger } {
    let index = 0;
    let file = planFile(OPTIONS, index, 0);
    while (!(file.lines.some((line) => line.expected === 'processed') && file.lines.some((line) => line.expected === 'missing_field'))) {
      index += 1;
      file = planFile(OPTIONS, index, 0);
    }
    const ledger = new Ledger();
    ledger.expectFile(file.key, file.lines.map((line) => line.expected));
    return { file, ledger };
  }

  function lineWith(file: PlannedFile, expected: Expectation): { text: string; lineNumber: number } {
    const index = file.lines.findIndex((line) => line.expected === expected);
    if (index === -1) throw new Error(`no ${expected} line in the planned file`);
    return { text: (file.lines[index] as { text: string }).text, lineNumber: index + 1 };
  }

  it('accepts a processed line written as the contract says, and flags a changed one', () => {
    const { file, ledger } = planned();
    const { text } = lineWith(file, 'processed');

    checkProcessedLine(ledger, file, expectedProcessedLine(text, 'unknown'), 'unknown');
    checkProcessedLine(ledger, file, expectedProcessedLine(text, 'elsewhere'), 'unknown');

    const result = ledger.result();
    expect(result.found.processed).toBe(1);
    expect(result.duplicated).toBe(1);
    expect(result.altered).toBe(1);
  });

  it('matches a rejected line by its line number and checks its text and the seq in it', () => {
    const { file, ledger } = planned();
    const { text, lineNumber } = lineWith(file, 'missing_field');

    checkRejectedLine(ledger, file, JSON.stringify({ line: lineNumber, reason: 'missing_field', text }));
    expect(ledger.result()).toMatchObject({ misclassified: 0, altered: 0, misplaced: 0, found: { rejected: 1 } });

    checkRejectedLine(ledger, file, JSON.stringify({ line: lineNumber, reason: 'missing_field', text: `${text} ` }));
    expect(ledger.result()).toMatchObject({ duplicated: 1, altered: 1 });
  });

  it('counts an output line that is not JSON as unmatched', () => {
    const { file, ledger } = planned();

    checkProcessedLine(ledger, file, 'not json', 'unknown');
    checkRejectedLine(ledger, file, 'not json');

    expect(ledger.result().unmatched).toBe(2);
  });
});
