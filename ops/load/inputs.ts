/**
 * The load run's input files, seeded and deterministic, so that the ledger can be rebuilt from the
 * inputs alone: file sizes from 1 to 3 × the mean (most small, a few large), some gzip (a third of them
 * without the .gz suffix), some CRLF, some with a byte order mark or no final newline, blank lines, and
 * every malformed kind of ops/local/synthetic-data.ts plus JSON that is not an object and lines over the line
 * limit. Every line but a blank one carries a unique `"seq"` as its first field; its expected outcome is
 * worked out here from the contract (README, Data contract), not by the worker's code. Pure.
 */
import { gzipSync } from 'node:zlib';
import { generateLines, mulberry32 } from '../local/synthetic-data.ts';
import type { Expectation } from './ledger.ts';

export interface InputOptions {
  readonly files: number;
  /** Mean records (non-blank lines) per file. */
  readonly recordsPerFile: number;
  readonly seed: number;
  /** The workers' TEMPERATURE_THRESHOLD_CELSIUS: a valid record above it is processed, else filtered. */
  readonly thresholdCelsius: number;
  /** The workers' MAX_LINE_BYTES: the overlong lines are made a little longer. */
  readonly maxLineBytes: number;
}

/** Shares, per file or per line, of each variation. */
export const SHARES = {
  gzipFiles: 0.1,
  crlfFiles: 0.05,
  bomFiles: 0.02,
  noFinalNewlineFiles: 0.05,
  /** 2 % of each of the four kinds of ops/local/synthetic-data.ts. */
  malformedLines: 0.08,
  notAnObjectLines: 0.002,
  overlongLines: 0.00002,
  /** A blank line before a record. */
  blankLines: 0.01,
} as const;

const DEVICES = 100;
/** Blank as the data contract defines it: only spaces, tabs and CRs. */
const BLANKS = ['', ' ', '\t', ' \t ', ' \r '] as const;

export interface PlannedLine {
  /** Without its line terminator. */
  readonly text: string;
  readonly expected: Expectation;
}

export interface PlannedFile {
  readonly key: string;
  readonly gzip: boolean;
  readonly crlf: boolean;
  readonly bom: boolean;
  readonly finalNewline: boolean;
  readonly lines: readonly PlannedLine[];
}

/** The random draws of file `index`: its own stream, whatever the other files are. */
function fileRandom(seed: number, index: number): () => number {
  return mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35));
}

/**
 * Records in a file: 1 + ⌊max · u^k⌋, at most max = 3 × mean, with k chosen so that the mean is `mean`:
 * E⌊max · u^k⌋ ≈ max / (k + 1) − ½.
 */
export function recordCount(mean: number, draw: number): number {
  const max = Math.max(1, Math.round(3 * mean));
  if (mean <= 1) return 1;
  const exponent = max / (mean - 0.5) - 1;
  return Math.min(max, 1 + Math.floor(max * draw ** exponent));
}

/** Keys with a folder per thousand, and now and then a space or a non-ASCII character (URL-encoded in events). */
export function inputKey(index: number, gzipSuffix: boolean): string {
  const number = String(index).padStart(6, '0');
  const folder = index % 25 === 7 ? 'capteur-été' : index % 10 === 3 ? 'site 3' : `batch-${Math.floor(index / 1000)}`;
  return `load/${folder}/readings-${number}.jsonl${gzipSuffix ? '.gz' : ''}`;
}

/** °F in hundredths, exactly, for a temperature given in tenths of a degree: C × 9/5 + 32. */
export function fahrenheitText(celsius: number): string {
  const tenths = Math.round(celsius * 10);
  return String((tenths * 18 + 3200) / 100);
}

function withSeq(line: string, seq: number): string {
  return `{"seq": ${seq}, ${line.slice(1)}`;
}

/** The outcome of a line ops/local/synthetic-data.ts calls valid: processed above the threshold, else filtered. */
function validOutcome(text: string, thresholdCelsius: number): Expectation {
  const { temperature } = JSON.parse(text) as { temperature: number };
  return temperature > thresholdCelsius ? 'processed' : 'filtered';
}

/** File `index`, its lines numbered from `firstSeq` on (the blank ones included, though they carry none). */
export function planFile(options: InputOptions, index: number, firstSeq: number): PlannedFile {
  const random = fileRandom(options.seed, index);
  const records = recordCount(options.recordsPerFile, random());
  const gzip = random() < SHARES.gzipFiles;
  const gzipSuffix = gzip && random() < 2 / 3;
  const crlf = random() < SHARES.crlfFiles;
  const bom = random() < SHARES.bomFiles;
  const finalNewline = random() >= SHARES.noFinalNewlineFiles;

  const lines: PlannedLine[] = [];
  const source = generateLines({ records, devices: DEVICES, seed: options.seed + index, malformedRatio: SHARES.malformedLines });
  for (const { line, kind } of source) {
    if (random() < SHARES.blankLines) lines.push({ text: BLANKS[Math.floor(random() * BLANKS.length)] ?? '', expected: 'none' });
    const seq = firstSeq + lines.length;
    const extra = random();
    if (extra < SHARES.notAnObjectLines) {
      lines.push({ text: `[{"seq": ${seq}}]`, expected: 'not_an_object' });
    } else if (extra < SHARES.notAnObjectLines + SHARES.overlongLines) {
      const padding = 'x'.repeat(options.maxLineBytes + 1024);
      lines.push({ text: withSeq(`{"padding": "${padding}", ${line.slice(1)}`, seq), expected: 'line_too_long' });
    } else {
      const text = withSeq(line, seq);
      lines.push({ text, expected: kind === 'valid' ? validOutcome(text, options.thresholdCelsius) : kind });
    }
  }
  return { key: inputKey(index, gzipSuffix), gzip, crlf, bom, finalNewline, lines };
}

/** The bytes put into the raw bucket. */
export function renderFile(file: PlannedFile): Buffer {
  const newline = file.crlf ? '\r\n' : '\n';
  const text = `${file.bom ? '\uFEFF' : ''}${file.lines.map((line) => line.text).join(newline)}${file.finalNewline ? newline : ''}`;
  const bytes = Buffer.from(text, 'utf8');
  return file.gzip ? gzipSync(bytes) : bytes;
}

/** What the worker must write for a processed line: the line as written, `location_id` and `temp_fahrenheit` appended. */
export function expectedProcessedLine(inputText: string, locationId: string): string {
  const { temperature } = JSON.parse(inputText) as { temperature: number };
  const closingBrace = inputText.lastIndexOf('}');
  return `${inputText.slice(0, closingBrace)},"location_id":${JSON.stringify(locationId)},"temp_fahrenheit":${fahrenheitText(temperature)}}`;
}

/** The seq a line's text starts with, if any: `{"seq": 12, …` or `[{"seq": 12}]`. */
export function seqInText(text: string): number | undefined {
  const match = /^\[?\{"seq": ?(\d+)[,}]/.exec(text);
  return match ? Number(match[1]) : undefined;
}
