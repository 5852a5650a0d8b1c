import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import {
  expectedProcessedLine,
  fahrenheitText,
  inputKey,
  planFile,
  recordCount,
  renderFile,
  seqInText,
  type InputOptions,
  type PlannedFile,
} from '../../../../ops/load/inputs.ts';
import { DEFAULT_LOAD_OPTIONS, LoadUsageError, parseLoadOptions } from '../../../../ops/load/options.ts';
import { mulberry32 } from '../../../../ops/local/synthetic-data.ts';
import { evaluateLine } from '../../../../worker/records/pipeline.ts';

const OPTIONS: InputOptions = { files: 40, recordsPerFile: 300, seed: 11, thresholdCelsius: 10, maxLineBytes: 2048 };

/** Files 0..count-1, numbered one after the other as the load run numbers them. */
function planFiles(count: number, options = OPTIONS): PlannedFile[] {
  const files: PlannedFile[] = [];
  let firstSeq = 0;
  for (let index = 0; index < count; index += 1) {
    const file = planFile(options, index, firstSeq);
    files.push(file);
    firstSeq += file.lines.length;
  }
  return files;
}

describe('planFile', () => {
  const files = planFiles(OPTIONS.files);
  const lines = files.flatMap((file) => file.lines);

  it('is deterministic', () => {
    expect(planFile(OPTIONS, 5, 1234)).toEqual(planFile(OPTIONS, 5, 1234));
    expect(renderFile(planFile(OPTIONS, 5, 1234)).equals(renderFile(planFile(OPTIONS, 5, 1234)))).toBe(true);
  });

  it('gives every non-blank line its own seq, equal to its place in the run', () => {
    let seq = 0;
    for (const line of lines) {
      if (line.expected === 'none') expect(line.text).toMatch(/^[ \t\r]*$/);
      else expect(seqInText(line.text)).toBe(seq);
      seq += 1;
    }
  });

  it('has every outcome and reject reason but the rare line_too_long, blank lines, and no two keys alike', () => {
    const outcomes = new Set(lines.map((line) => line.expected));
    outcomes.delete('line_too_long');

    expect([...outcomes].sort()).toEqual(['filtered', 'invalid_json', 'invalid_type', 'missing_field', 'none', 'not_an_object', 'out_of_range', 'processed']);
    expect(new Set(files.map((file) => file.key)).size).toBe(files.length);
  });

  it("expects of each line what the worker's record rules give it", () => {
    const rules = { temperatureThresholdCelsius: 10, locations: new Map<string, string>(), unknownLocationId: 'unknown' };
    for (const line of lines) {
      if (line.expected === 'none' || line.expected === 'line_too_long') continue;
      const result = evaluateLine(line.text, rules);
      expect(result.outcome === 'rejected' ? result.reason : result.outcome).toBe(line.expected);
      if (result.outcome === 'processed') expect(result.output).toBe(expectedProcessedLine(line.text, 'unknown'));
    }
  });

  it('makes an overlong line now and then, longer than the line limit whatever else it holds', () => {
    const options = { ...OPTIONS, recordsPerFile: 2000 };
    let overlong: string | undefined;
    for (let index = 0; overlong === undefined && index < 200; index += 1) {
      overlong = planFile(options, index, 0).lines.find((line) => line.expected === 'line_too_long')?.text;
    }

    expect(Buffer.byteLength(overlong ?? '')).toBeGreaterThan(OPTIONS.maxLineBytes);
    expect(seqInText(overlong ?? '')).toBeDefined();
  });
});

describe('renderFile', () => {
  const file: PlannedFile = {
    key: 'k.jsonl',
    gzip: false,
    crlf: false,
    bom: false,
    finalNewline: true,
    lines: [
      { text: '{"seq": 0}', expected: 'processed' },
      { text: ' ', expected: 'none' },
    ],
  };

  it('joins the lines with LF or CRLF, with or without a final newline and a BOM', () => {
    expect(renderFile(file).toString('utf8')).toBe('{"seq": 0}\n \n');
    expect(renderFile({ ...file, crlf: true, finalNewline: false, bom: true }).toString('utf8')).toBe('\uFEFF{"seq": 0}\r\n ');
  });

  it('gzips when planned so', () => {
    const body = renderFile({ ...file, gzip: true });

    expect([body[0], body[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(body).toString('utf8')).toBe('{"seq": 0}\n \n');
  });
});

describe('recordCount', () => {
  it('stays within 1..3 × mean and averages the mean', () => {
    const random = mulberry32(1);
    const counts = Array.from({ length: 200_000 }, () => recordCount(100, random()));

    expect(counts.reduce((low, count) => Math.min(low, count))).toBe(1);
    expect(counts.reduce((high, count) => Math.max(high, count))).toBe(300);
    expect(counts.reduce((sum, count) => sum + count, 0) / counts.length).toBeCloseTo(100, -0.5);
  });

  it('gives one record for a mean of one', () => {
    expect(recordCount(1, 0.99)).toBe(1);
  });
});

describe('small helpers', () => {
  it('inputKey: a folder per thousand, some with a space or an accent, the .gz suffix when asked', () => {
    expect(inputKey(1234, false)).toBe('load/batch-1/readings-001234.jsonl');
    expect(inputKey(3, true)).toBe('load/site 3/readings-000003.jsonl.gz');
    expect(inputKey(7, false)).toBe('load/capteur-été/readings-000007.jsonl');
  });

  it('fahrenheitText: exact hundredths', () => {
    expect(fahrenheitText(20.5)).toBe('68.9');
    expect(fahrenheitText(-5)).toBe('23');
    expect(fahrenheitText(37.8)).toBe('100.04');
  });

  it('seqInText: objects and arrays that start with a seq, nothing else', () => {
    expect(seqInText('{"seq": 12, "device_id": "x"')).toBe(12);
    expect(seqInText('[{"seq": 3}]')).toBe(3);
    expect(seqInText('{"device_id": "x", "seq": 4}')).toBeUndefined();
  });
});

describe('parseLoadOptions', () => {
  it('defaults to the issue sizes', () => {
    expect(parseLoadOptions([])).toEqual({ ...DEFAULT_LOAD_OPTIONS, jsonFile: undefined });
    expect(DEFAULT_LOAD_OPTIONS).toMatchObject({ files: 10_000, recordsPerFile: 100, workers: 2 });
  });

  it('reads every flag', () => {
    expect(parseLoadOptions(['--files', '200', '--records-per-file', '50', '--workers', '3', '--seed', '9', '--json', 'x.json'])).toEqual({
      files: 200,
      recordsPerFile: 50,
      workers: 3,
      seed: 9,
      jsonFile: 'x.json',
    });
    expect(parseLoadOptions(['--help'])).toBe('help');
  });

  it.each([['--files', '0'], ['--files', 'ten'], ['--workers', '17'], ['--records-per-file', '-1'], ['--other']])('refuses %s %s', (...argv) => {
    expect(() => parseLoadOptions(argv)).toThrow(LoadUsageError);
  });
});
