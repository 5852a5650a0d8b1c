/**
 * The load run's ledger: for every input line (file key, 1-based line number, and the `seq` carried in
 * its text) the outcome the data contract gives it, worked out from the inputs alone; then every output
 * line read back is matched to its input line. At the end each line is either accounted for exactly once
 * or counted as lost, duplicated, misclassified, misplaced or altered. Pure: no I/O.
 *
 * Lines are numbered with one sequence across all files (`seq`), so a line found twice is found even when
 * the second copy is in another file's output. Storage is one byte or four per line, for millions of lines.
 */

export const REJECT_REASONS = ['invalid_json', 'not_an_object', 'missing_field', 'invalid_type', 'out_of_range', 'line_too_long'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** What the contract says becomes of a line: `none` for a blank line (skipped, in no output). */
export type Expectation = 'none' | 'processed' | 'filtered' | RejectReason;

/** Index of each expectation in the byte arrays; 0 is reserved for "nothing seen". */
const CODES: readonly Expectation[] = ['none', 'processed', 'filtered', ...REJECT_REASONS];
const NOT_SEEN = 255;

function codeOf(expectation: Expectation): number {
  return CODES.indexOf(expectation);
}

function expectationOf(code: number): Expectation {
  return CODES[code] ?? 'none';
}

export function isRejectReason(text: unknown): text is RejectReason {
  return (REJECT_REASONS as readonly unknown[]).includes(text);
}

export interface OutcomeCounts {
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
}

export interface LedgerResult {
  readonly files: number;
  /** Every physical line of every input, blank ones included. */
  readonly lines: number;
  readonly blankLines: number;
  /** What the inputs call for. */
  readonly expected: OutcomeCounts & { readonly rejectedByReason: Readonly<Record<string, number>> };
  /** Lines found in the outputs (filtered lines leave none: they are taken from the workers' per-file counts). */
  readonly found: { readonly processed: number; readonly rejected: number };
  /** Expected as processed or rejected, found nowhere. */
  readonly lost: number;
  /** Found more than once, in one output or across outputs and files. */
  readonly duplicated: number;
  /** Found with another outcome or reason than expected (a filtered or blank line found at all included). */
  readonly misclassified: number;
  /** Found in the output of another file, or (rejected) under another line number than its own. */
  readonly misplaced: number;
  /** Found with other text than the contract gives it. */
  readonly altered: number;
  /** Output lines that match no input line: no `seq`, an unknown `seq` or file, a line number past the end. */
  readonly unmatched: number;
  /** Files whose logged processed/filtered/rejected counts differ from the expected ones, or that were never logged. */
  readonly countMismatches: number;
  /** A few of each problem, for the report. */
  readonly examples: readonly string[];
}

export function ledgerIsClean(result: LedgerResult): boolean {
  return (
    result.lost === 0 &&
    result.duplicated === 0 &&
    result.misclassified === 0 &&
    result.misplaced === 0 &&
    result.altered === 0 &&
    result.unmatched === 0 &&
    result.countMismatches === 0
  );
}

interface FileEntry {
  readonly index: number;
  readonly firstSeq: number;
  readonly lines: number;
  readonly counts: OutcomeCounts;
  logged: OutcomeCounts | undefined;
}

const MAX_EXAMPLES = 20;

function countOutcomes(expectations: readonly Expectation[]): OutcomeCounts {
  let processed = 0;
  let filtered = 0;
  let rejected = 0;
  for (const expectation of expectations) {
    if (expectation === 'processed') processed += 1;
    else if (expectation === 'filtered') filtered += 1;
    else if (expectation !== 'none') rejected += 1;
  }
  return { processed, filtered, rejected };
}

export class Ledger {
  private expected = new Uint8Array(0);
  /** The outcome of the first sighting, NOT_SEEN before it. */
  private found = new Uint8Array(0);
  /** Sightings, saturating at 255. */
  private sightings = new Uint8Array(0);
  /** Set when any sighting had the wrong outcome, place or text. */
  private wrongOutcome = new Uint8Array(0);
  private wrongPlace = new Uint8Array(0);
  private wrongText = new Uint8Array(0);
  private fileOfSeq = new Uint32Array(0);
  private readonly files = new Map<string, FileEntry>();
  private readonly keysByIndex: string[] = [];
  private nextSeq = 0;
  private unmatched = 0;
  private readonly examples: string[] = [];

  /** The seq the next file's first line gets. */
  get nextFileSeq(): number {
    return this.nextSeq;
  }

  /** Makes room for `lines` lines in all (arrays grow by doubling, as files are added). */
  private reserve(lines: number): void {
    if (lines <= this.expected.length) return;
    const capacity = Math.max(lines, this.expected.length * 2, 1024);
    const grow = <T extends Uint8Array | Uint32Array>(old: T, make: (size: number) => T, fill?: number): T => {
      const next = make(capacity);
      if (fill !== undefined) next.fill(fill);
      next.set(old);
      return next;
    };
    const bytes = (size: number) => new Uint8Array(size);
    this.expected = grow(this.expected, bytes);
    this.found = grow(this.found, bytes, NOT_SEEN);
    this.sightings = grow(this.sightings, bytes);
    this.wrongOutcome = grow(this.wrongOutcome, bytes);
    this.wrongPlace = grow(this.wrongPlace, bytes);
    this.wrongText = grow(this.wrongText, bytes);
    this.fileOfSeq = grow(this.fileOfSeq, (size) => new Uint32Array(size));
  }

  /**
   * Adds the next input file: its line n (1-based) gets `seq` firstSeq + n − 1, where firstSeq is the
   * returned value (the lines of all earlier files come first).
   */
  expectFile(key: string, expectations: readonly Expectation[]): number {
    if (this.files.has(key)) throw new Error(`input key ${key} added twice`);
    const firstSeq = this.nextSeq;
    this.reserve(firstSeq + expectations.length);
    const index = this.keysByIndex.length;
    expectations.forEach((expectation, offset) => {
      this.expected[firstSeq + offset] = codeOf(expectation);
      this.fileOfSeq[firstSeq + offset] = index;
    });
    this.files.set(key, { index, firstSeq, lines: expectations.length, counts: countOutcomes(expectations), logged: undefined });
    this.keysByIndex.push(key);
    this.nextSeq += expectations.length;
    return firstSeq;
  }

  /** The seq of line `lineNumber` of input `key`, or undefined when there is no such line. */
  seqOf(key: string, lineNumber: number): number | undefined {
    const file = this.files.get(key);
    if (file === undefined || !Number.isInteger(lineNumber) || lineNumber < 1 || lineNumber > file.lines) return undefined;
    return file.firstSeq + lineNumber - 1;
  }

  /** Which input key and line a seq belongs to. */
  placeOf(seq: number): { key: string; lineNumber: number } | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.nextSeq) return undefined;
    const key = this.keysByIndex[this.fileOfSeq[seq] as number] as string;
    return { key, lineNumber: seq - (this.files.get(key) as FileEntry).firstSeq + 1 };
  }

  expectationOf(seq: number): Expectation | undefined {
    return this.placeOf(seq) === undefined ? undefined : expectationOf(this.expected[seq] as number);
  }

  /**
   * A record found in the processed output of input `key` (undefined: an output object no input explains),
   * carrying `seq` (undefined when the record has none); `intact` says whether its text is what the
   * contract makes of the input line.
   */
  foundProcessed(key: string | undefined, seq: number | undefined, intact: boolean): void {
    const place = seq === undefined ? undefined : this.placeOf(seq);
    if (seq === undefined || place === undefined) {
      this.unmatch(`processed record in ${key ?? 'an unexpected object'} with unknown seq ${String(seq)}`);
      return;
    }
    this.sight(seq, 'processed', place.key !== key, intact, `processed output of ${key ?? 'an unexpected object'}`);
  }

  /**
   * A rejected line found in the rejected output of input `key`: its `line` number and reason; `seq` as
   * read from its text when there is one (it must agree with the line number); `intact`: its text is the
   * input line (or, for an overlong line, a prefix of it).
   */
  foundRejected(key: string | undefined, lineNumber: number, reason: string, seq: number | undefined, intact: boolean): void {
    const atLine = key === undefined ? undefined : this.seqOf(key, lineNumber);
    const target = atLine ?? (seq !== undefined && this.placeOf(seq) !== undefined ? seq : undefined);
    if (target === undefined) {
      this.unmatch(`rejected line ${lineNumber} in ${key ?? 'an unexpected object'} matches no input line`);
      return;
    }
    const misplaced = atLine === undefined || (seq !== undefined && seq !== atLine);
    const outcome: Expectation = isRejectReason(reason) ? reason : 'none';
    if (outcome === 'none') this.note(`rejected line ${lineNumber} of ${String(key)} has unknown reason ${JSON.stringify(reason)}`);
    this.sight(target, outcome, misplaced, intact, `rejected output of ${String(key)}`, outcome === 'none');
  }

  /** The processed/filtered/rejected counts a worker logged for input `key` ('file processed'). */
  loggedCounts(key: string, counts: OutcomeCounts): void {
    const file = this.files.get(key);
    if (file === undefined) {
      this.unmatch(`counts logged for ${key}, which is not an input`);
      return;
    }
    file.logged = counts;
  }

  result(): LedgerResult {
    let lost = 0;
    let duplicated = 0;
    let misclassified = 0;
    let misplaced = 0;
    let altered = 0;
    let blankLines = 0;
    let foundProcessed = 0;
    let foundRejected = 0;
    const rejectedByReason: Record<string, number> = {};
    const examples = [...this.examples];
    const example = (text: string) => {
      if (examples.length < MAX_EXAMPLES) examples.push(text);
    };
    const describe = (seq: number) => {
      const place = this.placeOf(seq) as { key: string; lineNumber: number };
      return `${place.key} line ${place.lineNumber} (seq ${seq})`;
    };

    for (let seq = 0; seq < this.nextSeq; seq += 1) {
      const expected = expectationOf(this.expected[seq] as number);
      const sightings = this.sightings[seq] as number;
      if (expected === 'none') blankLines += 1;
      else if (expected !== 'processed' && expected !== 'filtered') rejectedByReason[expected] = (rejectedByReason[expected] ?? 0) + 1;
      if (sightings > 0) {
        if (expectationOf(this.found[seq] as number) === 'processed') foundProcessed += 1;
        else foundRejected += 1;
      }
      const leavesOutput = expected !== 'none' && expected !== 'filtered';
      if (leavesOutput && sightings === 0) {
        lost += 1;
        example(`lost: ${describe(seq)}, expected ${expected}`);
      }
      if (sightings > 1) {
        duplicated += 1;
        example(`duplicated: ${describe(seq)} found ${sightings} times`);
      }
      if (this.wrongOutcome[seq]) {
        misclassified += 1;
        example(`misclassified: ${describe(seq)} expected ${expected}, found ${expectationOf(this.found[seq] as number)}`);
      }
      if (this.wrongPlace[seq]) {
        misplaced += 1;
        example(`misplaced: ${describe(seq)}`);
      }
      if (this.wrongText[seq]) {
        altered += 1;
        example(`altered: ${describe(seq)}`);
      }
    }

    let countMismatches = 0;
    let processed = 0;
    let filtered = 0;
    let rejected = 0;
    for (const [key, file] of this.files) {
      processed += file.counts.processed;
      filtered += file.counts.filtered;
      rejected += file.counts.rejected;
      const { logged, counts } = file;
      if (logged === undefined || logged.processed !== counts.processed || logged.filtered !== counts.filtered || logged.rejected !== counts.rejected) {
        countMismatches += 1;
        example(`counts of ${key}: expected ${JSON.stringify(counts)}, logged ${JSON.stringify(logged ?? null)}`);
      }
    }

    return {
      files: this.files.size,
      lines: this.nextSeq,
      blankLines,
      expected: { processed, filtered, rejected, rejectedByReason },
      found: { processed: foundProcessed, rejected: foundRejected },
      lost,
      duplicated,
      misclassified,
      misplaced,
      altered,
      unmatched: this.unmatched,
      countMismatches,
      examples,
    };
  }

  private sight(seq: number, outcome: Expectation, misplaced: boolean, intact: boolean, where: string, unknownOutcome = false): void {
    if (this.sightings[seq] === 0) this.found[seq] = codeOf(outcome);
    if (this.sightings[seq] !== 255) this.sightings[seq] = (this.sightings[seq] as number) + 1;
    if (unknownOutcome || codeOf(outcome) !== this.expected[seq]) this.wrongOutcome[seq] = 1;
    if (misplaced) {
      this.wrongPlace[seq] = 1;
      this.note(`seq ${seq} found in the ${where}`);
    }
    if (!intact) this.wrongText[seq] = 1;
  }

  private unmatch(text: string): void {
    this.unmatched += 1;
    this.note(text);
  }

  private note(text: string): void {
    if (this.examples.length < MAX_EXAMPLES / 2) this.examples.push(text);
  }
}
