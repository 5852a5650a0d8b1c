import { describe, it, expect } from '@jest/globals';
import { generateJsonl, generateLines, generateReadings, MALFORMED_KINDS } from '../../../../ops/local/synthetic-data.ts';
import { parseJsonObject } from '../../../../worker/common/json-object.ts';

const base = { records: 500, devices: 12, seed: 7 } as const;


/** The data contract's rules, restated: is this line acceptable input? */
function isWellFormed(line: string): boolean {
  const record = parseJsonObject(line);
  if (record === undefined) return false;
  const { device_id: deviceId, temperature, humidity } = record;
  return (
    typeof deviceId === 'string' &&
    deviceId !== '' &&
    typeof temperature === 'number' &&
    Number.isFinite(temperature) &&
    typeof humidity === 'number' &&
    humidity >= 0 &&
    humidity <= 100
  );
}

describe('generateJsonl', () => {
  it('gives identical bytes for the same options', () => {
    const options = { ...base, malformedRatio: 0.1 };
    expect(generateJsonl(options).equals(generateJsonl(options))).toBe(true);
  });

  it('gives different bytes for a different seed', () => {
    expect(generateJsonl(base).equals(generateJsonl({ ...base, seed: 8 }))).toBe(false);
  });

  it('writes one line per record, each ending in a newline', () => {
    const text = generateJsonl(base).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(base.records + 1);
    expect(text.split('\n').slice(0, -1).every((line) => line.length > 0)).toBe(true);
  });

  it('is empty for no records', () => {
    expect(generateJsonl({ ...base, records: 0 }).length).toBe(0);
  });

  it('holds many records in about 150 bytes each', () => {
    const bytes = generateJsonl({ records: 20_000, devices: 100, seed: 1 }).length;
    expect(bytes / 20_000).toBeGreaterThan(120);
    expect(bytes / 20_000).toBeLessThan(170);
  });
});

describe('generateReadings', () => {
  it('yields exactly `records` lines without newlines', () => {
    const lines = [...generateReadings({ ...base, records: 1234, malformedRatio: 0.2 })];
    expect(lines).toHaveLength(1234);
    expect(lines.some((line) => line.includes('\n'))).toBe(false);
  });

  it('matches generateJsonl line for line', () => {
    const options = { ...base, malformedRatio: 0.05 };
    expect(generateJsonl(options).toString('utf8')).toBe([...generateReadings(options)].map((line) => `${line}\n`).join(''));
  });

  it('yields well-formed records shaped like the sample data', () => {
    const lines = [...generateReadings({ records: 2_000, devices: 25, seed: 99, startTime: '2025-01-01T00:00:00Z' })];
    const devices = new Set<string>();
    lines.forEach((line, index) => {
      const record = parseJsonObject(line);
      expect(record).toBeDefined();
      if (record === undefined) return;
      expect(Object.keys(record)).toStrictEqual(['device_id', 'location', 'temperature', 'humidity', 'pressure', 'timestamp']);
      expect(record.device_id).toMatch(/^sensor-\d{4}$/);
      devices.add(record.device_id as string);
      expect(typeof record.location).toBe('string');
      const temperature = record.temperature as number;
      const humidity = record.humidity as number;
      const pressure = record.pressure as number;
      expect(temperature).toBeGreaterThanOrEqual(-5);
      expect(temperature).toBeLessThanOrEqual(40);
      expect(Math.round(temperature * 10) / 10).toBe(temperature);
      expect(humidity).toBeGreaterThanOrEqual(20);
      expect(humidity).toBeLessThanOrEqual(90);
      expect(pressure).toBeGreaterThan(900);
      expect(pressure).toBeLessThan(1100);
      expect(record.timestamp).toBe(new Date(Date.UTC(2025, 0, 1) + index * 1000).toISOString().replace('.000Z', 'Z'));
      expect(isWellFormed(line)).toBe(true);
    });
    // Every number is written with one decimal, as in the sample ("temperature": 20.0).
    expect(lines.every((line) => /"temperature": -?\d+\.\d, "humidity": \d+\.\d, "pressure": \d+\.\d,/.test(line))).toBe(true);
    expect(devices.size).toBe(25);
  });

  it('keeps each device at one location', () => {
    const locations = new Map<unknown, unknown>();
    for (const line of generateReadings({ records: 1_000, devices: 10, seed: 3 })) {
      const record = parseJsonObject(line);
      if (locations.has(record?.device_id)) expect(locations.get(record?.device_id)).toBe(record?.location);
      locations.set(record?.device_id, record?.location);
    }
    expect(locations.size).toBe(10);
  });

  it('produces no malformed lines by default', () => {
    expect([...generateReadings({ ...base, records: 5_000 })].every(isWellFormed)).toBe(true);
  });

  it('produces malformed lines at about the requested ratio, of every kind, all of them invalid', () => {
    const records = 10_000;
    const ratio = 0.1;
    const lines = [...generateLines({ records, devices: 50, seed: 2024, malformedRatio: ratio })];
    const malformed = lines.filter((entry) => entry.kind !== 'valid');
    // Binomial: sd = sqrt(10000 * 0.1 * 0.9) = 30; allow about 5 sd.
    expect(Math.abs(malformed.length - records * ratio)).toBeLessThan(150);
    expect(new Set(malformed.map((entry) => entry.kind))).toStrictEqual(new Set(MALFORMED_KINDS));
    for (const entry of lines) expect(isWellFormed(entry.line)).toBe(entry.kind === 'valid');
  });

  it('makes every line malformed at ratio 1', () => {
    expect([...generateReadings({ ...base, malformedRatio: 1 })].some(isWellFormed)).toBe(false);
  });

  it('refuses bad options', () => {
    expect(() => [...generateReadings({ ...base, records: -1 })]).toThrow(RangeError);
    expect(() => [...generateReadings({ ...base, devices: 0 })]).toThrow(RangeError);
    expect(() => [...generateReadings({ ...base, malformedRatio: 1.5 })]).toThrow(RangeError);
    expect(() => [...generateReadings({ ...base, startTime: 'yesterday' })]).toThrow(RangeError);
  });
});
