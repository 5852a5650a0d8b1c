import { describe, expect, it } from '@jest/globals';
import { BUILT_IN_PROFILES, DEFAULT_DRAIN_MINUTES, DEFAULT_FILE_BYTES, loadProfile, ProfileError } from '../../../../ops/simulate/profiles.ts';

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

describe('the built-in profiles', () => {
  it('are named as their keys, with files of a few hundred KB', () => {
    for (const [key, profile] of Object.entries(BUILT_IN_PROFILES)) {
      expect(profile.name).toBe(key);
      expect(profile.fileBytes).toBeGreaterThan(100_000);
      expect(profile.fileBytes).toBeLessThan(1_000_000);
    }
  });

  it('put a backfill of a million objects in minute 0 and a trickle at one a minute for 12 hours', () => {
    expect(BUILT_IN_PROFILES.backfill.arrivalsPerMinute).toEqual([1_000_000]);
    expect(BUILT_IN_PROFILES.trickle.arrivalsPerMinute).toHaveLength(12 * 60);
    expect(new Set(BUILT_IN_PROFILES.trickle.arrivalsPerMinute)).toEqual(new Set([1]));
  });

  it('burst: 1,000 sites × 30 files more in the first minute of 09:00 than the background around it', () => {
    const arrivals = BUILT_IN_PROFILES.burst.arrivalsPerMinute;
    expect(arrivals[60]! - arrivals[59]!).toBe(30_000);
    expect(sum(arrivals)).toBe(30_000 + arrivals[0]! * arrivals.length);
  });

  it('diurnal: quiet at night, peaking at noon', () => {
    const arrivals = BUILT_IN_PROFILES.diurnal.arrivalsPerMinute;
    expect(arrivals).toHaveLength(24 * 60);
    expect(Math.max(...arrivals)).toBe(arrivals[12 * 60]);
    expect(arrivals[0]! * 10).toBeLessThan(arrivals[12 * 60]!);
  });

  it('poison: steady traffic with 1 % of the files failing', () => {
    expect(BUILT_IN_PROFILES.poison.arrivalsPerMinute).toEqual(BUILT_IN_PROFILES.steady.arrivalsPerMinute);
    expect(BUILT_IN_PROFILES.poison.poisonShare).toBe(0.01);
    expect(BUILT_IN_PROFILES.steady.poisonShare).toBe(0);
  });
});

describe('loadProfile', () => {
  it('reads JSON with defaults for what it leaves out', () => {
    expect(loadProfile('dir/peak.json', '{"arrivalsPerMinute": [1, 2, 3]}')).toEqual({
      name: 'peak',
      description: 'arrivals per minute from dir/peak.json',
      arrivalsPerMinute: [1, 2, 3],
      fileBytes: DEFAULT_FILE_BYTES,
      poisonShare: 0,
      drainMinutes: DEFAULT_DRAIN_MINUTES,
    });
    expect(loadProfile('p.json', '{"name": "mine", "arrivalsPerMinute": [5], "fileBytes": 1000, "poisonShare": 0.5, "drainMinutes": 3}')).toMatchObject({
      name: 'mine',
      fileBytes: 1000,
      poisonShare: 0.5,
      drainMinutes: 3,
    });
  });

  it('reads a one-column CSV, with or without a header', () => {
    expect(loadProfile('a.csv', '3\n4\n\n5\n').arrivalsPerMinute).toEqual([3, 4, 5]);
    expect(loadProfile('a.csv', 'arrivals\r\n3\r\n4\r\n').arrivalsPerMinute).toEqual([3, 4]);
  });

  it('reads minute,arrivals, with the minutes it leaves out at 0', () => {
    expect(loadProfile('b.csv', 'minute,arrivals\n0,10\n3,7\n1,2\n').arrivalsPerMinute).toEqual([10, 2, 0, 7]);
  });

  it.each([
    ['bad.json', '{"arrivalsPerMinute": [1, -2]}', 'bad.json: arrivalsPerMinute[1]'],
    ['bad.json', '{"arrivalsPerMinute": []}', 'bad.json: arrivalsPerMinute must be a non-empty array'],
    ['bad.json', '{"arrivals": [1]}', 'bad.json: unknown field arrivals'],
    ['bad.json', '{"arrivalsPerMinute": [1], "poisonShare": 2}', 'bad.json: poisonShare must be between 0 and 1'],
    ['bad.json', '{not json', 'bad.json: not valid JSON'],
    ['bad.csv', 'arrivals\n1\nten\n', 'bad.csv:3: "ten" is not a number'],
    ['bad.csv', '1\n2,3\n', 'bad.csv:2: expected 1 column, found 2'],
    ['bad.csv', 'minute,arrivals\n0,1\n0,2\n', 'bad.csv:3: minute 0 appears twice'],
    ['bad.csv', 'minute,arrivals\n1.5,1\n', 'bad.csv:2: minute must be a whole number'],
    ['bad.csv', '\n\n', 'bad.csv: no arrivals'],
  ])('refuses %s %j naming the file and line', (path, text, message) => {
    expect(() => loadProfile(path, text)).toThrow(ProfileError);
    expect(() => loadProfile(path, text)).toThrow(message);
  });
});
