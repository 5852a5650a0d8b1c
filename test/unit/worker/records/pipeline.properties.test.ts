/**
 * Hostile input for the path from bytes to line outcomes (LineSplitter feeding LineOutcomeRouter),
 * property-based: arbitrary bytes in arbitrary chunkings, checked against a model that splits the object
 * into lines independently (drop the BOM at the very start of the object, split on \n, strip one trailing
 * \r, decode, skip blank lines: nothing but spaces, tabs and CRs) and judges each line with the record
 * rules themselves (evaluateLine), which their own tests cover.
 */
import { Readable } from 'node:stream';
import { gzipSync, createGunzip } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../worker/records/device-registry.ts';
import { LineOutcomeRouter, TextLines, type FileTally } from '../../../../worker/records/line-outcomes.ts';
import { LineSplitter } from '../../../../worker/records/line-splitter.ts';
import { evaluateLine, rejectedLine, REJECT_REASONS, type RecordRules } from '../../../../worker/records/pipeline.ts';
import { isJsonObject } from '../../../../worker/common/json-object.ts';

const RULES: RecordRules = {
  temperatureThresholdCelsius: 10,
  locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)),
  unknownLocationId: 'unknown',
};
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
/** LineSplitter takes any limit; small ones make overlong lines common in the generated input. */
const MIN_MAX_LINE_BYTES = 64;
const PREFIX_BYTES = 1024;
const REASONS = new Set<string>(Object.values(REJECT_REASONS));

// ---- the system under test, driven as process-object.ts drives it ------------------------------------

interface Outputs {
  readonly processed: string;
  readonly rejected: string;
  readonly tally: FileTally;
}

function runPipeline(chunks: readonly Buffer[], maxLineBytes = DEFAULT_MAX_LINE_BYTES): Outputs {
  const outputs = { processed: new TextLines(), rejected: new TextLines() };
  const lines = new LineOutcomeRouter(RULES, outputs);
  const splitter = new LineSplitter(maxLineBytes, lines);
  let processed = '';
  let rejected = '';
  for (const chunk of chunks) {
    splitter.push(chunk);
    processed += outputs.processed.take();
    rejected += outputs.rejected.take();
  }
  splitter.end();
  processed += outputs.processed.take();
  rejected += outputs.rejected.take();
  return { processed, rejected, tally: lines.tally };
}

// ---- the model -------------------------------------------------------------------------------------

interface ModelLine {
  readonly n: number;
  readonly text: string;
  /** Without the line's CR. */
  readonly bytes: Buffer;
}

/** Blank, as the contract says: nothing but spaces, tabs and carriage returns. */
const isBlank = (text: string) => /^[ \t\r]*$/.test(text);

/** A BOM is exactly EF BB BF at the very start of the object. */
const withoutBom = (input: Buffer) => (input.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? input.subarray(3) : input);

function modelLines(object: Buffer): ModelLine[] {
  const input = withoutBom(object);
  const texts = input.toString('utf8').split('\n');
  const segments: Buffer[] = [];
  let start = 0;
  for (let index = input.indexOf(0x0a); index !== -1; index = input.indexOf(0x0a, start)) {
    segments.push(input.subarray(start, index));
    start = index + 1;
  }
  segments.push(input.subarray(start));
  // A newline byte never belongs to a multi-byte sequence, so decoding never moves a line break.
  expect(texts.length).toBe(segments.length);
  const lines: ModelLine[] = [];
  segments.forEach((segment, index) => {
    if (index === segments.length - 1 && segment.length === 0) return; // nothing after the last newline
    let text = texts[index] ?? '';
    if (text.endsWith('\r')) text = text.slice(0, -1);
    lines.push({ n: index + 1, text, bytes: segment.at(-1) === 0x0d ? segment.subarray(0, -1) : segment });
  });
  return lines;
}

/** The first 1024 bytes of a line, cut back to the start of a character, decoded. */
function modelPrefix(line: ModelLine): string {
  let cut = Math.min(PREFIX_BYTES, line.bytes.length);
  while (cut > 0 && cut < line.bytes.length && ((line.bytes[cut] as number) & 0xc0) === 0x80) cut -= 1;
  return line.bytes.subarray(0, cut).toString('utf8');
}

function modelOutputs(input: Buffer, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Outputs {
  const tally: FileTally = { processed: 0, filtered: 0, rejected: 0, rejectedByReason: {}, unknownDevices: 0 };
  let processed = '';
  let rejected = '';
  for (const line of modelLines(input)) {
    if (isBlank(line.text)) continue;
    const result =
      line.bytes.length > maxLineBytes
        ? ({ outcome: 'rejected', reason: REJECT_REASONS.lineTooLong, message: '' } as const)
        : evaluateLine(line.text, RULES);
    if (result.outcome === 'processed') {
      tally.processed += 1;
      if (result.unknownDevice) tally.unknownDevices += 1;
      processed += result.output + '\n';
    } else if (result.outcome === 'filtered') {
      tally.filtered += 1;
    } else {
      tally.rejected += 1;
      tally.rejectedByReason[result.reason] = (tally.rejectedByReason[result.reason] ?? 0) + 1;
      if (result.reason === REJECT_REASONS.lineTooLong) {
        const prefix = modelPrefix(line);
        const message = `the line is ${line.bytes.length} bytes; text holds its first ${Buffer.byteLength(prefix)}`;
        rejected += rejectedLine(line.n, { ...result, message }, prefix) + '\n';
      } else {
        rejected += rejectedLine(line.n, result, line.text) + '\n';
      }
    }
  }
  return { processed, rejected, tally };
}

const nonBlankLines = (input: Buffer) => modelLines(input).filter((line) => !isBlank(line.text)).length;
const total = (tally: FileTally) => tally.processed + tally.filtered + tally.rejected;

function jsonLines(text: string): unknown[] {
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text === '' ? [] : text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as unknown);
}

// ---- inputs ----------------------------------------------------------------------------------------

const utf8 = (text: string) => Buffer.from(text, 'utf8');

const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
  fc.double({ min: -50, max: 120, noNaN: true }).map((value) => JSON.stringify(value)),
  fc.integer({ min: -20, max: 60 }).map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '"20.5"', '{"value":20}', '[20]', 'null', 'true', '1e308', '1e309', '-1e309', '5e-324', '-0', '1E2', '0.1e1'),
);
const deviceText = fc.constantFrom('"sensor-alpha"', '"sensor-beta"', '"sensor-gamma"', '"sensor-zeta"', '""', '" "', 'null', '42', '"sensor-\uFFFD"');
const recordLine = fc
  .tuple(deviceText, numberText, fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }).map((value) => JSON.stringify(value)), numberText), fc.constantFrom('', ',"temperature":5', ',"temperature":25', ',"humidity":150', ',"location_id":"x","temp_fahrenheit":"y"', ',"nested":{"a":[1,{"b":null}]}', ',"device_id":"sensor-beta"'), fc.boolean())
  .map(([device, temperature, humidity, extra, deviceLast]) =>
    deviceLast ? `{"temperature":${temperature},"humidity":${humidity}${extra},"device_id":${device}}` : `{"device_id":${device},"temperature":${temperature},"humidity":${humidity}${extra}}`,
  )
  .map(utf8);
const whitespace = fc
  .array(fc.constantFrom(' ', '\t', '\u00A0', '\u3000', '\u2028', '\u2029', '\uFEFF', '\v', '\f', '\r', '\u1680', '\u200B', '\u0085'), { maxLength: 6 })
  .map((parts) => utf8(parts.join('')));
const INVALID_UTF8 = [[0xff], [0xfe], [0xff, 0xfe], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x80], [0xef, 0xbb, 0xbf]];
const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(...INVALID_UTF8).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 20 }).map(utf8),
  fc.jsonValue({ maxDepth: 2 }).map((value) => utf8(JSON.stringify(value) ?? 'null')),
  fc.tuple(fc.constantFrom('x', ' ', 'é', '\t', '温'), fc.integer({ min: 20, max: 400 })).map(([text, count]) => utf8(text.repeat(count))),
);
const lineBody = fc.oneof(
  { arbitrary: recordLine, weight: 5 },
  { arbitrary: whitespace, weight: 1 },
  { arbitrary: garbage, weight: 2 },
  { arbitrary: fc.array(fc.oneof(recordLine, whitespace, garbage), { minLength: 2, maxLength: 3 }).map((parts) => Buffer.concat(parts)), weight: 1 },
);
const terminator = fc.constantFrom('\n', '\n', '\r\n', '\r', '\n\n').map(utf8);

/** A file: mostly lines of records, with BOMs, CRLF, blank lines, invalid UTF-8 and garbage; or pure random bytes. */
const fileBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { arbitrary: fc.tuple(fc.boolean(), fc.array(fc.tuple(lineBody, terminator), { maxLength: 25 }), fc.boolean()).map(([bom, lines, lastTerminator]) => {
      const parts = lines.flatMap(([body, end], index) => (index === lines.length - 1 && !lastTerminator ? [body] : [body, end]));
      return Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), ...parts]);
    }), weight: 4 },
  { arbitrary: fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
);

/** Cuts at arbitrary points, empty chunks included. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}
const cuts = fc.array(fc.nat(), { maxLength: 12 });
const byteAtATime = (bytes: Buffer) => [...bytes].map((byte) => Buffer.from([byte]));
const smallMax = fc.integer({ min: MIN_MAX_LINE_BYTES, max: 300 });

// ---- properties ------------------------------------------------------------------------------------

describe('LineSplitter + LineOutcomeRouter on arbitrary bytes, default MAX_LINE_BYTES (properties)', () => {
  it('never throws, and the three counts add up to the number of non-blank lines', () => {
    fc.assert(
      fc.property(fileBytes, cuts, (bytes, at) => {
        const { tally } = runPipeline(chunked(bytes, at));
        expect(total(tally)).toBe(nonBlankLines(bytes));
        expect(Object.values(tally.rejectedByReason).reduce((sum, count) => sum + count, 0)).toBe(tally.rejected);
      }),
      { numRuns: 400 },
    );
  });

  it('gives exactly the outputs of the model: each non-blank line through the record rules, with its line number', () => {
    fc.assert(
      fc.property(fileBytes, cuts, (bytes, at) => {
        expect(runPipeline(chunked(bytes, at))).toStrictEqual(modelOutputs(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('gives identical outputs and tallies for the same bytes in any chunking, one byte at a time included', () => {
    fc.assert(
      fc.property(fileBytes, cuts, cuts, (bytes, first, second) => {
        const whole = runPipeline([bytes]);
        expect(runPipeline(chunked(bytes, first))).toStrictEqual(whole);
        expect(runPipeline(chunked(bytes, second))).toStrictEqual(whole);
        expect(runPipeline(byteAtATime(bytes))).toStrictEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('writes processed JSON Lines: one object per processed record, with location_id and a finite temp_fahrenheit', () => {
    fc.assert(
      fc.property(fileBytes, cuts, (bytes, at) => {
        const { processed, tally } = runPipeline(chunked(bytes, at));
        const records = jsonLines(processed);
        expect(records).toHaveLength(tally.processed);
        for (const record of records) {
          expect(isJsonObject(record) && typeof record.location_id === 'string' && Number.isFinite(record.temp_fahrenheit)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('writes rejected JSON Lines: line, reason and text, line numbers strictly increasing and within the file', () => {
    fc.assert(
      fc.property(fileBytes, cuts, (bytes, at) => {
        const { rejected, tally } = runPipeline(chunked(bytes, at));
        const lineCount = modelLines(bytes).length;
        const records = jsonLines(rejected);
        expect(records).toHaveLength(tally.rejected);
        let previous = 0;
        for (const record of records) {
          expect(isJsonObject(record)).toBe(true);
          if (!isJsonObject(record)) return;
          expect(Number.isInteger(record.line) && (record.line as number) > previous && (record.line as number) <= lineCount).toBe(true);
          expect(REASONS.has(record.reason as string) && typeof record.text === 'string').toBe(true);
          previous = record.line as number;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same outputs through gzip, whatever the chunking of the compressed bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fileBytes, cuts, async (bytes, at) => {
        const gunzipped: Buffer[] = [];
        for await (const chunk of Readable.from(chunked(gzipSync(bytes), at)).pipe(createGunzip())) gunzipped.push(chunk as Buffer);
        expect(runPipeline(gunzipped)).toStrictEqual(runPipeline([bytes]));
      }),
      { numRuns: 60 },
    );
  });
});

describe('LineSplitter + LineOutcomeRouter on arbitrary bytes, small MAX_LINE_BYTES (properties)', () => {
  it('rejects each non-blank line over the limit as line_too_long, with its line number, byte length and a prefix of its text', () => {
    fc.assert(
      fc.property(fileBytes, smallMax, (bytes, max) => {
        const lines = modelLines(bytes);
        // A blank line over the limit is skipped, not rejected: its own case below.
        fc.pre(!lines.some((line) => line.bytes.length > max && isBlank(line.text)));
        const overlong = new Map(lines.filter((line) => line.bytes.length > max && !isBlank(line.text)).map((line) => [line.n, line]));
        const { rejected, tally } = runPipeline([bytes], max);
        const tooLong = jsonLines(rejected).filter((record) => isJsonObject(record) && record.reason === 'line_too_long') as Array<Record<string, unknown>>;
        expect(tooLong.map((record) => record.line)).toStrictEqual([...overlong.keys()]);
        for (const record of tooLong) {
          const line = overlong.get(record.line as number);
          expect(record.message).toMatch(new RegExp(`^the line is ${line?.bytes.length} bytes;`));
          expect(line?.text.startsWith(record.text as string)).toBe(true);
        }
        expect(tally.rejectedByReason.line_too_long ?? 0).toBe(overlong.size);
      }),
      { numRuns: 300 },
    );
  });

  it('gives identical outputs and tallies for the same bytes in any chunking', () => {
    fc.assert(
      fc.property(fileBytes, smallMax, cuts, (bytes, max, at) => {
        const whole = runPipeline([bytes], max);
        expect(runPipeline(chunked(bytes, at), max)).toStrictEqual(whole);
        expect(runPipeline(byteAtATime(bytes), max)).toStrictEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('still has the three counts add up to the number of non-blank lines', () => {
    fc.assert(
      fc.property(fileBytes, smallMax, cuts, (bytes, max, at) => {
        expect(total(runPipeline(chunked(bytes, at), max).tally)).toBe(nonBlankLines(bytes));
      }),
      { numRuns: 300 },
    );
  });
});

// ---- the counterexamples, as plain tests -----------------------------------------------------------

describe('LineSplitter + LineOutcomeRouter on hostile input (cases)', () => {
  it('skips a blank line (spaces only) over MAX_LINE_BYTES, instead of rejecting it as line_too_long', () => {
    const bytes = utf8(`${' '.repeat(100)}\n{"device_id":"sensor-alpha","temperature":20,"humidity":50}\n`);
    const { tally, rejected } = runPipeline([bytes], MIN_MAX_LINE_BYTES);
    expect({ tally, rejected }).toStrictEqual({
      tally: { processed: 1, filtered: 0, rejected: 0, rejectedByReason: {}, unknownDevices: 0 },
      rejected: '',
    });
  });

  it('keeps the CR out of the text of an overlong CRLF line however the bytes arrive', () => {
    const line = 'x'.repeat(100);
    const expected = `{"line":1,"reason":"line_too_long","message":"the line is 100 bytes; text holds its first 100","text":"${line}"}\n`;
    expect(runPipeline([utf8(`${line}\r\n`)], MIN_MAX_LINE_BYTES).rejected).toBe(expected);
    expect(runPipeline([utf8(`${line}\r`), utf8('\n')], MIN_MAX_LINE_BYTES).rejected).toBe(expected);
    expect(runPipeline([utf8(line.slice(0, 50)), utf8(`${line.slice(50)}\r\n`)], MIN_MAX_LINE_BYTES).rejected).toBe(expected);
  });

  it('keeps the same text (the whole line when it is under 1024 bytes) of an overlong line when it arrives a byte at a time', () => {
    const line = 'x'.repeat(100);
    const expected = `{"line":1,"reason":"line_too_long","message":"the line is 100 bytes; text holds its first 100","text":"${line}"}\n`;
    expect(runPipeline(byteAtATime(utf8(`${line}\n`)), MIN_MAX_LINE_BYTES).rejected).toBe(expected);
  });

  it.each(['1e308', '1e301', '1.7976931348623157e308'])(
    'never writes temp_fahrenheit null: temperature %s is rejected as out_of_range or converted to a finite number',
    (temperature) => {
      const { processed, rejected } = runPipeline([utf8(`{"device_id":"sensor-alpha","temperature":${temperature},"humidity":50}\n`)]);
      const [record] = jsonLines(processed) as Array<Record<string, unknown> | undefined>;
      if (record !== undefined) expect(record.temp_fahrenheit).toEqual(expect.any(Number));
      else if (rejected !== '') expect(jsonLines(rejected)).toMatchObject([{ line: 1, reason: 'out_of_range', field: 'temperature' }]);
    },
  );
});
