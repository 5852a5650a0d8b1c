/** The smoke file and its expected outputs agree with the worker's own record rules, for any settings. */
import { describe, expect, it } from '@jest/globals';
import { buildSmokeFile, DEFAULT_SMOKE_RULES, SMOKE_DEVICE_ID, smokeKey, type SmokeRules } from '../../../../../ops/cli/smoke/file.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../../worker/records/device-registry.ts';
import { evaluateLine, rejectedLine, type RecordRules } from '../../../../../worker/records/pipeline.ts';

const NOW = new Date('2026-12-02T06:30:05.123Z');

function workerRules(rules: SmokeRules): RecordRules {
  return {
    temperatureThresholdCelsius: rules.temperatureThresholdCelsius,
    locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)),
    unknownLocationId: rules.unknownLocationId,
  };
}

/** What the worker writes for the file, line by line, with the same rules. */
function workerOutputs(body: string, rules: SmokeRules): { processed: string; rejected: Array<Record<string, unknown>>; filtered: number } {
  let processed = '';
  let filtered = 0;
  const rejected: Array<Record<string, unknown>> = [];
  for (const [index, line] of body.split('\n').filter(Boolean).entries()) {
    const result = evaluateLine(line, workerRules(rules));
    if (result.outcome === 'processed') processed += `${result.output}\n`;
    else if (result.outcome === 'filtered') filtered += 1;
    else rejected.push(JSON.parse(rejectedLine(index + 1, result, line)) as Record<string, unknown>);
  }
  return { processed, rejected, filtered };
}

describe('smokeKey', () => {
  it('is smoke/<UTC time>-<random>.jsonl, so that runs sort by time and never share a key', () => {
    expect(smokeKey(NOW, '3f9a0c1d')).toBe('smoke/20261202T063005Z-3f9a0c1d.jsonl');
  });

  it('refuses a random part that could not be part of a plain key', () => {
    expect(() => smokeKey(NOW, 'a/b')).toThrow(RangeError);
    expect(() => smokeKey(NOW, 'ab')).toThrow(RangeError);
  });
});

describe('buildSmokeFile', () => {
  const key = smokeKey(NOW, '3f9a0c1d');

  it('holds one processed, one filtered and one rejected line, each the outcome the worker gives it', () => {
    const file = buildSmokeFile(key, NOW);

    const outputs = workerOutputs(file.body, DEFAULT_SMOKE_RULES);

    expect(file.body.split('\n')).toHaveLength(4);
    expect(file.body.endsWith('\n')).toBe(true);
    expect(outputs.processed).toBe(file.processedOutput);
    expect(outputs.filtered).toBe(1);
    expect(outputs.rejected).toHaveLength(1);
    expect(outputs.rejected[0]).toMatchObject({ ...file.rejectedOutput[0] });
  });

  it('expects the input line as written with location_id and temp_fahrenheit appended', () => {
    const file = buildSmokeFile(key, NOW);

    expect(file.lines.processed).toBe(
      `{"device_id":"${SMOKE_DEVICE_ID}","location":"smoke-test","temperature":21.5,"humidity":40.5,"pressure":1013.25,` +
        `"timestamp":"2026-12-02T06:30:05Z","smoke_run":"20261202T063005Z-3f9a0c1d"}`,
    );
    expect(file.processedOutput).toBe(`${file.lines.processed.slice(0, -1)},"location_id":"unknown","temp_fahrenheit":70.7}\n`);
    expect(file.rejectedOutput).toEqual([{ line: 3, reason: 'missing_field', field: 'humidity', text: file.lines.rejected }]);
  });

  it.each([
    { temperatureThresholdCelsius: 25.3, unknownLocationId: 'loc-unassigned' },
    { temperatureThresholdCelsius: -40, unknownLocationId: 'unknown' },
    { temperatureThresholdCelsius: 0.1, unknownLocationId: 'ünïcode "quoted"' },
  ])('follows the worker settings %j', (rules) => {
    const file = buildSmokeFile(key, NOW, rules);

    const outputs = workerOutputs(file.body, rules);

    expect(outputs.processed).toBe(file.processedOutput);
    expect(outputs.filtered).toBe(1);
    expect(outputs.rejected[0]).toMatchObject({ ...file.rejectedOutput[0] });
  });

  it('knows where OUTPUT_FORMAT=parquet puts the processed record: the UTC day of its timestamp', () => {
    expect(buildSmokeFile(key, NOW).parquetKeyWithoutPrefix).toBe('dt=2026-12-02/smoke/20261202T063005Z-3f9a0c1d.parquet');
  });
});
