import { describe, it, expect } from '@jest/globals';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../worker/records/device-registry.ts';
import { LineOutcomeRouter, TextLines, type ProcessedRecordSink } from '../../../../worker/records/line-outcomes.ts';
import { LineSplitter } from '../../../../worker/records/line-splitter.ts';
import type { RecordRules } from '../../../../worker/records/pipeline.ts';

const RULES: RecordRules = {
  temperatureThresholdCelsius: 10,
  locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)),
  unknownLocationId: 'unknown',
};

const PROCESSED = '{"device_id":"sensor-alpha","temperature":20,"humidity":50}';
const UNKNOWN = '{"device_id":"sensor-zeta","temperature":25,"humidity":50}';
const FILTERED = '{"device_id":"sensor-beta","temperature":5,"humidity":50}';
const BAD_JSON = '{"device_id":';
const NO_HUMIDITY = '{"device_id":"sensor-gamma","temperature":30}';

/** Runs `text` through a splitter into a router with text sinks, as a file is processed. */
function route(text: string, maxLineBytes = 1024 * 1024) {
  const outputs = { processed: new TextLines(), rejected: new TextLines() };
  const router = new LineOutcomeRouter(RULES, outputs);
  const splitter = new LineSplitter(maxLineBytes, router);
  splitter.push(Buffer.from(text));
  splitter.end();
  return { tally: router.tally, processed: outputs.processed.take(), rejected: outputs.rejected.take() };
}

describe('LineOutcomeRouter', () => {
  it('skips blank and whitespace-only lines without counting them', () => {
    const { tally, rejected } = route(`\n   \n\t \r\n${PROCESSED}\n\n`);
    expect(tally).toStrictEqual({ processed: 1, filtered: 0, rejected: 0, rejectedByReason: {}, unknownDevices: 0 });
    expect(rejected).toBe('');
  });

  it('counts every non-blank line exactly once, by outcome and reject reason', () => {
    const { tally } = route([PROCESSED, '', UNKNOWN, FILTERED, '  ', BAD_JSON, NO_HUMIDITY, '[1]', PROCESSED].join('\r\n'));
    expect(tally).toStrictEqual({
      processed: 3,
      filtered: 1,
      rejected: 3,
      rejectedByReason: { invalid_json: 1, missing_field: 1, not_an_object: 1 },
      unknownDevices: 1,
    });
  });

  it('hands a line sink each processed record as its output line with the two added fields', () => {
    const { processed, rejected } = route(`${PROCESSED}\n${UNKNOWN}\n${FILTERED}\n`);
    expect(processed).toBe(
      '{"device_id":"sensor-alpha","temperature":20,"humidity":50,"location_id":"loc-warehouse-a","temp_fahrenheit":68}\n' +
        '{"device_id":"sensor-zeta","temperature":25,"humidity":50,"location_id":"unknown","temp_fahrenheit":77}\n',
    );
    expect(rejected).toBe('');
  });

  it('hands a record sink each processed record as an object, and the rejected lines as text', () => {
    const records: Array<Readonly<Record<string, unknown>>> = [];
    const processed: ProcessedRecordSink = { takes: 'record', add: (record) => records.push(record) };
    const rejected = new TextLines();
    const router = new LineOutcomeRouter(RULES, { processed, rejected });
    router.line(PROCESSED, 1);
    router.line(FILTERED, 2);
    router.line(BAD_JSON, 3);
    expect(records).toStrictEqual([{ device_id: 'sensor-alpha', temperature: 20, humidity: 50, location_id: 'loc-warehouse-a', temp_fahrenheit: 68 }]);
    expect(rejected.take()).toBe('{"line":3,"reason":"invalid_json","message":"the line is not valid JSON","text":"{\\"device_id\\":"}\n');
    expect(router.tally).toMatchObject({ processed: 1, filtered: 1, rejected: 1 });
  });

  it('adds each rejected line to the rejected sink as it is routed', () => {
    const rejected = new TextLines();
    const router = new LineOutcomeRouter(RULES, { processed: new TextLines(), rejected });
    router.line(BAD_JSON, 1);
    expect(rejected.take()).toBe('{"line":1,"reason":"invalid_json","message":"the line is not valid JSON","text":"{\\"device_id\\":"}\n');
    router.line('oops', 2);
    expect(rejected.take()).toBe('{"line":2,"reason":"invalid_json","message":"the line is not valid JSON","text":"oops"}\n');
    expect(rejected.take()).toBe('');
  });

  it('records the editor line number (blank lines counted) and the original text of a rejected line', () => {
    const { rejected } = route(`${PROCESSED}\n\n   \n${NO_HUMIDITY}\n`);
    expect(rejected).toBe(
      JSON.stringify({ line: 4, reason: 'missing_field', field: 'humidity', message: 'humidity is missing', text: NO_HUMIDITY }) + '\n',
    );
  });

  it('rejects an overlong line as line_too_long with its line number and prefix', () => {
    const { tally, rejected } = route(`${PROCESSED}\n${'y'.repeat(200)}\n`, 128);
    expect(tally).toStrictEqual({ processed: 1, filtered: 0, rejected: 1, rejectedByReason: { line_too_long: 1 }, unknownDevices: 0 });
    expect(JSON.parse(rejected)).toStrictEqual({
      line: 2,
      reason: 'line_too_long',
      message: 'the line is 200 bytes; text holds its first 200',
      text: 'y'.repeat(200),
    });
  });
});

describe('TextLines', () => {
  it('returns the lines added since the last take, each ending in a newline', () => {
    const lines = new TextLines();
    lines.add('a');
    lines.add('b');
    expect(lines.take()).toBe('a\nb\n');
    expect(lines.take()).toBe('');
  });
});
