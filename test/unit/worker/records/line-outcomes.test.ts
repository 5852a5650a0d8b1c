import { describe, it, expect } from '@jest/globals';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../worker/records/default-device-registry.ts';
import { FileTransformer } from '../../../../worker/records/line-outcomes.ts';
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

/** Runs `text` through a splitter into a transformer, as a file is processed. */
function transform(text: string, maxLineBytes = 1024 * 1024): FileTransformer {
  const transformer = new FileTransformer(RULES);
  const splitter = new LineSplitter(maxLineBytes, transformer);
  splitter.push(Buffer.from(text));
  splitter.end();
  return transformer;
}

describe('FileTransformer', () => {
  it('skips blank and whitespace-only lines without counting them', () => {
    const transformer = transform(`\n   \n\t \r\n${PROCESSED}\n\n`);
    expect(transformer.tally).toStrictEqual({ processed: 1, filtered: 0, rejected: 0, rejectedByReason: {}, unknownDevices: 0 });
    expect(transformer.takeRejected()).toBe('');
  });

  it('counts every non-blank line exactly once, by outcome and reject reason', () => {
    const transformer = transform([PROCESSED, '', UNKNOWN, FILTERED, '  ', BAD_JSON, NO_HUMIDITY, '[1]', PROCESSED].join('\r\n'));
    expect(transformer.tally).toStrictEqual({
      processed: 3,
      filtered: 1,
      rejected: 3,
      rejectedByReason: { invalid_json: 1, missing_field: 1, not_an_object: 1 },
      unknownDevices: 1,
    });
  });

  it('returns the accumulated output once, then an empty string', () => {
    const transformer = transform(`${PROCESSED}\n${UNKNOWN}\n`);
    expect(transformer.takeProcessed()).toBe(
      '{"device_id":"sensor-alpha","temperature":20,"humidity":50,"location_id":"loc-warehouse-a","temp_fahrenheit":68}\n' +
        '{"device_id":"sensor-zeta","temperature":25,"humidity":50,"location_id":"unknown","temp_fahrenheit":77}\n',
    );
    expect(transformer.takeProcessed()).toBe('');
    expect(transformer.takeRejected()).toBe('');
  });

  it('accumulates again after a take', () => {
    const transformer = new FileTransformer(RULES);
    transformer.line(BAD_JSON, 1);
    expect(transformer.takeRejected()).toBe('{"line":1,"reason":"invalid_json","message":"the line is not valid JSON","text":"{\\"device_id\\":"}\n');
    transformer.line('oops', 2);
    expect(transformer.takeRejected()).toBe('{"line":2,"reason":"invalid_json","message":"the line is not valid JSON","text":"oops"}\n');
    expect(transformer.takeRejected()).toBe('');
  });

  it('records the editor line number (blank lines counted) and the original text of a rejected line', () => {
    const transformer = transform(`${PROCESSED}\n\n   \n${NO_HUMIDITY}\n`);
    expect(transformer.takeRejected()).toBe(
      JSON.stringify({ line: 4, reason: 'missing_field', field: 'humidity', message: 'humidity is missing', text: NO_HUMIDITY }) + '\n',
    );
  });

  it('rejects an overlong line as line_too_long with its line number and prefix', () => {
    const transformer = transform(`${PROCESSED}\n${'y'.repeat(200)}\n`, 128);
    expect(transformer.tally).toStrictEqual({ processed: 1, filtered: 0, rejected: 1, rejectedByReason: { line_too_long: 1 }, unknownDevices: 0 });
    expect(JSON.parse(transformer.takeRejected())).toStrictEqual({
      line: 2,
      reason: 'line_too_long',
      message: 'the line is 200 bytes; text holds its first 200',
      text: 'y'.repeat(200),
    });
  });
});
