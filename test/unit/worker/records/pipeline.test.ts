import { readFileSync } from 'node:fs';
import { describe, it, expect } from '@jest/globals';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../worker/records/device-registry.ts';
import { evaluateLine, evaluateRecord, rejectedLine, type RecordRules } from '../../../../worker/records/pipeline.ts';

const RULES: RecordRules = {
  temperatureThresholdCelsius: 10,
  locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)),
  unknownLocationId: 'unknown',
};

const SAMPLE_LINES = readFileSync(new URL('../../../../data/sample_data.jsonl', import.meta.url), 'utf8').trimEnd().split('\n');

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ device_id: 'sensor-alpha', temperature: 20.5, humidity: 50, ...fields });
}

describe('evaluateLine on the sample data', () => {
  it('processes all five sample records into the exact output lines: the input as written, two fields appended', () => {
    const added = [
      ['loc-warehouse-a', 68],
      ['loc-warehouse-b', 82.58],
      ['loc-warehouse-a', 72.5],
      ['loc-server-room-1', 65.66],
      ['loc-warehouse-b', 80.42],
    ] as const;

    const results = SAMPLE_LINES.map((text) => evaluateLine(text, RULES));

    expect(results.map((result) => (result.outcome === 'processed' ? result.output : result.outcome))).toStrictEqual(
      SAMPLE_LINES.map((text, index) => `${text.slice(0, -1)},"location_id":"${added[index]![0]}","temp_fahrenheit":${added[index]![1]}}`),
    );
    expect(results.map((result) => result.outcome === 'processed' && result.unknownDevice)).toStrictEqual([false, false, false, false, false]);
    expect(results[0]).toMatchObject({
      record: {
        device_id: 'sensor-alpha',
        location: 'warehouse-A',
        temperature: 20,
        humidity: 55.5,
        pressure: 1012.3,
        timestamp: '2025-07-11T11:00:00Z',
        location_id: 'loc-warehouse-a',
        temp_fahrenheit: 68,
      },
    });
  });

  it('replaces members named location_id or temp_fahrenheit, escaped names too, and keeps every other member as written', () => {
    const result = evaluateLine(
      '{"location_id":"mine", "device_id":"sensor-alpha","temperature":20.0,"serial":12345678901234567890,"humidity":5e1,' +
        '"note":"caf\\u00e9","temp_fahrenheit":0,"location\\u005fid":1}',
      RULES,
    );

    expect(result).toMatchObject({
      outcome: 'processed',
      output:
        '{"device_id":"sensor-alpha","temperature":20.0,"serial":12345678901234567890,"humidity":5e1,"note":"caf\\u00e9",' +
        '"location_id":"loc-warehouse-a","temp_fahrenheit":68}',
    });
  });

  it('keeps a member nested thousands of levels deep as written when the record has a field to replace', () => {
    const deep = '['.repeat(5_000) + ']'.repeat(5_000);
    const result = evaluateLine(`{"device_id":"sensor-alpha","temperature":20,"humidity":50,"deep":${deep},"temp_fahrenheit":1}`, RULES);

    expect(result).toMatchObject({
      outcome: 'processed',
      output: `{"device_id":"sensor-alpha","temperature":20,"humidity":50,"deep":${deep},"location_id":"loc-warehouse-a","temp_fahrenheit":68}`,
    });
  });

  it('rejects a line whose evaluation throws as unprocessable, with the error, instead of throwing', () => {
    const failingRegistry = { ...RULES, locations: { get: () => { throw new RangeError('registry exploded'); } } as unknown as ReadonlyMap<string, string> };

    for (const evaluate of [evaluateLine, evaluateRecord]) {
      expect(evaluate(line({}), failingRegistry)).toStrictEqual({
        outcome: 'rejected',
        reason: 'unprocessable',
        message: 'the line could not be evaluated: RangeError: registry exploded',
      });
    }
  });

  it('takes any non-empty string as device_id, whitespace included', () => {
    expect(evaluateLine(line({ device_id: ' ' }), RULES)).toMatchObject({ outcome: 'processed', unknownDevice: true });
    expect(evaluateLine(line({ device_id: '\u3000' }), RULES)).toMatchObject({ outcome: 'processed', unknownDevice: true });
  });

  it('gives the same output for the same line every time', () => {
    const [first] = SAMPLE_LINES as [string];
    expect(evaluateLine(first, RULES)).toStrictEqual(evaluateLine(first, RULES));
  });
});

describe('evaluateRecord, for writers that take records', () => {
  it('gives every line the outcome, record and device flag evaluateLine gives it, without the output line', () => {
    const lines = [
      ...SAMPLE_LINES,
      line({ temperature: 5 }),
      line({ humidity: 101 }),
      '{"device_id":',
      line({ device_id: 'sensor-zeta' }),
      '{"location_id":"mine","device_id":"sensor-alpha","temperature":20,"humidity":50,"temp_fahrenheit":0}',
    ];

    const records = lines.map((text) => evaluateRecord(text, RULES));

    expect(records).toStrictEqual(
      lines.map((text) => {
        const result = evaluateLine(text, RULES);
        if (result.outcome !== 'processed') return result;
        const { output, ...withoutOutput } = result;
        expect(output).toContain('"temp_fahrenheit":');
        return withoutOutput;
      }),
    );
    expect(records.map((result) => result.outcome)).toStrictEqual(['processed', 'processed', 'processed', 'processed', 'processed', 'filtered', 'rejected', 'rejected', 'processed', 'processed']);
  });
});

describe('evaluateLine rejections', () => {
  it.each([
    ['invalid_json', undefined, '{"device_id": "x",'],
    ['invalid_json', undefined, 'not json at all'],
    ['not_an_object', undefined, '[1, 2]'],
    ['not_an_object', undefined, '42'],
    ['not_an_object', undefined, 'null'],
    ['not_an_object', undefined, '"text"'],
    ['missing_field', 'device_id', line({ device_id: undefined })],
    ['missing_field', 'device_id', line({ device_id: null })],
    ['missing_field', 'temperature', line({ temperature: undefined })],
    ['missing_field', 'temperature', line({ temperature: null })],
    ['missing_field', 'humidity', line({ humidity: undefined })],
    ['missing_field', 'humidity', line({ humidity: null })],
    ['invalid_type', 'temperature', line({ temperature: '20.5' })],
    ['invalid_type', 'temperature', line({ temperature: true })],
    ['invalid_type', 'humidity', line({ humidity: false })],
    ['invalid_type', 'device_id', line({ device_id: '' })],
    ['invalid_type', 'device_id', line({ device_id: 42 })],
    ['out_of_range', 'humidity', line({ humidity: -0.1 })],
    ['out_of_range', 'humidity', line({ humidity: 100.1 })],
    ['out_of_range', 'temperature', '{"device_id":"sensor-alpha","temperature":1e999,"humidity":50}'],
    ['out_of_range', 'humidity', '{"device_id":"sensor-alpha","temperature":20,"humidity":-1e999}'],
  ])('rejects with %s (field %s): %s', (reason, field, text) => {
    const result = evaluateLine(text, RULES);
    expect(result.outcome).toBe('rejected');
    expect(result).toMatchObject({ reason });
    expect('field' in result ? result.field : undefined).toBe(field);
  });

  it('checks device_id before temperature and humidity', () => {
    expect(evaluateLine('{"temperature":"hot"}', RULES)).toStrictEqual({
      outcome: 'rejected',
      reason: 'missing_field',
      field: 'device_id',
      message: 'device_id is missing',
    });
  });
});

describe('evaluateLine ranges and threshold', () => {
  it.each([0, 100])('accepts humidity %d', (humidity) => {
    expect(evaluateLine(line({ humidity }), RULES).outcome).toBe('processed');
  });

  it('filters a temperature exactly at the threshold and processes one just above', () => {
    expect(evaluateLine(line({ temperature: 10 }), RULES)).toStrictEqual({ outcome: 'filtered' });
    expect(evaluateLine(line({ temperature: 10.01 }), RULES).outcome).toBe('processed');
  });

  it('applies a negative threshold the same way', () => {
    const rules = { ...RULES, temperatureThresholdCelsius: -5 };
    expect(evaluateLine(line({ temperature: -5 }), rules)).toStrictEqual({ outcome: 'filtered' });
    expect(evaluateLine(line({ temperature: -5.5 }), rules)).toStrictEqual({ outcome: 'filtered' });
    expect(evaluateLine(line({ temperature: -4.99 }), rules)).toMatchObject({
      outcome: 'processed',
      output: '{"device_id":"sensor-alpha","temperature":-4.99,"humidity":50,"location_id":"loc-warehouse-a","temp_fahrenheit":23.02}',
      unknownDevice: false,
    });
  });

  it('gives an unknown device the unknown location id and flags it', () => {
    expect(evaluateLine(line({ device_id: 'sensor-zeta' }), { ...RULES, unknownLocationId: 'loc-unknown' })).toMatchObject({
      outcome: 'processed',
      output: '{"device_id":"sensor-zeta","temperature":20.5,"humidity":50,"location_id":"loc-unknown","temp_fahrenheit":68.9}',
      unknownDevice: true,
    });
  });
});

describe('rejectedLine', () => {
  it('writes line, reason, field, message and the original text, in that order', () => {
    const rejection = { outcome: 'rejected', reason: 'invalid_type', field: 'temperature', message: 'temperature must be a JSON number' } as const;
    expect(rejectedLine(7, rejection, '{"temperature":"x"}')).toBe(
      '{"line":7,"reason":"invalid_type","field":"temperature","message":"temperature must be a JSON number","text":"{\\"temperature\\":\\"x\\"}"}',
    );
  });

  it('leaves out field when the rejection has none', () => {
    expect(rejectedLine(1, { outcome: 'rejected', reason: 'invalid_json', message: 'the line is not valid JSON' }, 'oops')).toBe(
      '{"line":1,"reason":"invalid_json","message":"the line is not valid JSON","text":"oops"}',
    );
  });
});
