/**
 * Traffic profiles: the built-in ones the issue names, and users' own from a JSON or CSV file of arrivals per minute.
 */
import { basename, extname } from 'node:path';
import type { TrafficProfile } from './types.ts';

/**
 * The size of a device file: data/sample_data.jsonl holds 5 readings in 765 bytes (153 bytes a reading); a device
 * that buffers 2,000 readings (a reading every second for a little over half an hour) uploads about 300 KB.
 */
export const SAMPLE_READING_BYTES = 765 / 5;
export const READINGS_PER_FILE = 2_000;
export const DEFAULT_FILE_BYTES = Math.round(SAMPLE_READING_BYTES * READINGS_PER_FILE);

/** Time after the last arrival for the backlog to drain and the idle alarm (10 minutes) to shrink the service. */
export const DEFAULT_DRAIN_MINUTES = 60;

const MINUTES_PER_HOUR = 60;
const MINUTES_PER_DAY = 24 * MINUTES_PER_HOUR;

function constant(minutes: number, perMinute: number): number[] {
  return Array.from({ length: minutes }, () => perMinute);
}

/** A day from midnight: `night` files a minute at 00:00, rising as a cosine to `peak` at 12:00 and back. */
function diurnal(night: number, peak: number): number[] {
  return Array.from({ length: MINUTES_PER_DAY }, (_, minute) => Math.round(night + ((peak - night) * (1 - Math.cos((2 * Math.PI * minute) / MINUTES_PER_DAY))) / 2));
}

/** From 08:00 to 11:00: `background` files a minute, and every site's file in the first minute of 09:00. */
function burstAtNine(sites: number, background: number): number[] {
  const arrivals = constant(3 * MINUTES_PER_HOUR, background);
  arrivals[MINUTES_PER_HOUR] = background + sites;
  return arrivals;
}

const STEADY_ARRIVALS = constant(6 * MINUTES_PER_HOUR, 5_000);

export const BUILT_IN_PROFILES = {
  steady: {
    name: 'steady',
    description: '5,000 files a minute for 6 hours',
    arrivalsPerMinute: STEADY_ARRIVALS,
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0,
    drainMinutes: DEFAULT_DRAIN_MINUTES,
  },
  diurnal: {
    name: 'diurnal',
    description: 'a day from midnight: 500 files a minute at night, rising to 20,000 a minute at noon',
    arrivalsPerMinute: diurnal(500, 20_000),
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0,
    drainMinutes: DEFAULT_DRAIN_MINUTES,
  },
  burst: {
    name: 'burst',
    description: '08:00 to 11:00 at 100 files a minute; 1,000 sites upload 30 files each at 09:00',
    arrivalsPerMinute: burstAtNine(30_000, 100),
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0,
    drainMinutes: DEFAULT_DRAIN_MINUTES,
  },
  backfill: {
    name: 'backfill',
    description: '1,000,000 objects put on the queue at once',
    arrivalsPerMinute: [1_000_000],
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0,
    drainMinutes: DEFAULT_DRAIN_MINUTES,
  },
  trickle: {
    name: 'trickle',
    description: 'one file a minute for 12 hours',
    arrivalsPerMinute: constant(12 * MINUTES_PER_HOUR, 1),
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0,
    drainMinutes: DEFAULT_DRAIN_MINUTES,
  },
  poison: {
    name: 'poison',
    description: 'steady (5,000 files a minute for 6 hours), 1 % of the files failing permanently',
    arrivalsPerMinute: STEADY_ARRIVALS,
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0.01,
    // A poison message comes back maxReceiveCount times, a visibility timeout apart, before the DLQ takes it.
    drainMinutes: 2 * MINUTES_PER_HOUR,
  },
} as const satisfies Record<string, TrafficProfile>;

export type BuiltInProfileName = keyof typeof BUILT_IN_PROFILES;

export const BUILT_IN_PROFILE_NAMES = Object.keys(BUILT_IN_PROFILES) as BuiltInProfileName[];

export function isBuiltInProfile(name: string): name is BuiltInProfileName {
  return Object.hasOwn(BUILT_IN_PROFILES, name);
}

export class ProfileError extends Error {
  override name = 'ProfileError';
}

function arrivalCount(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ProfileError(`${where}: arrivals must be a number of files, 0 or more, not ${JSON.stringify(value)}`);
  }
  return value;
}

function profileName(path: string): string {
  return basename(path, extname(path));
}

function fromJson(path: string, text: string): TrafficProfile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProfileError(`${path}: expected an object {name?, arrivalsPerMinute: number[], fileBytes?, poisonShare?, drainMinutes?}`);
  }
  const json = parsed as Record<string, unknown>;
  const known = new Set(['name', 'description', 'arrivalsPerMinute', 'fileBytes', 'poisonShare', 'drainMinutes']);
  const unknown = Object.keys(json).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new ProfileError(`${path}: unknown field ${unknown.join(', ')} (expected ${[...known].join(', ')})`);
  if (!Array.isArray(json['arrivalsPerMinute']) || json['arrivalsPerMinute'].length === 0) {
    throw new ProfileError(`${path}: arrivalsPerMinute must be a non-empty array of numbers`);
  }
  const arrivalsPerMinute = json['arrivalsPerMinute'].map((value, minute) => arrivalCount(value, `${path}: arrivalsPerMinute[${minute}]`));
  return validated(path, {
    name: optionalString(json['name'], `${path}: name`) ?? profileName(path),
    description: optionalString(json['description'], `${path}: description`) ?? `arrivals per minute from ${path}`,
    arrivalsPerMinute,
    fileBytes: optionalNumber(json['fileBytes'], `${path}: fileBytes`) ?? DEFAULT_FILE_BYTES,
    poisonShare: optionalNumber(json['poisonShare'], `${path}: poisonShare`) ?? 0,
    drainMinutes: optionalNumber(json['drainMinutes'], `${path}: drainMinutes`) ?? DEFAULT_DRAIN_MINUTES,
  });
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new ProfileError(`${where} must be a non-empty string`);
  return value;
}

function optionalNumber(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ProfileError(`${where} must be a number, not ${JSON.stringify(value)}`);
  return value;
}

function validated(path: string, profile: TrafficProfile): TrafficProfile {
  if (!(profile.fileBytes > 0)) throw new ProfileError(`${path}: fileBytes must be more than 0`);
  if (!(profile.poisonShare >= 0 && profile.poisonShare <= 1)) throw new ProfileError(`${path}: poisonShare must be between 0 and 1`);
  if (!(Number.isInteger(profile.drainMinutes) && profile.drainMinutes >= 0)) throw new ProfileError(`${path}: drainMinutes must be a whole number of minutes, 0 or more`);
  return profile;
}

const NUMBER = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** One column of arrivals (a minute a line), or `minute,arrivals`; a header line and blank lines are allowed. */
function fromCsv(path: string, text: string): TrafficProfile {
  const rows = text
    .split(/\r?\n/)
    .map((line, index) => ({ line: index + 1, cells: line.split(',').map((cell) => cell.trim()) }))
    .filter((row) => row.cells.some((cell) => cell !== ''));
  const first = rows[0];
  if (first === undefined) throw new ProfileError(`${path}: no arrivals (expected a number per line, or minute,arrivals)`);
  const header = !first.cells.every((cell) => NUMBER.test(cell));
  const data = header ? rows.slice(1) : rows;
  const columns = first.cells.length;
  if (columns > 2) throw new ProfileError(`${path}:${first.line}: expected one column (arrivals) or two (minute,arrivals), found ${columns}`);
  if (data.length === 0) throw new ProfileError(`${path}: no arrivals after the header line`);
  const arrivals: number[] = [];
  for (const { line, cells } of data) {
    const where = `${path}:${line}`;
    if (cells.length !== columns) throw new ProfileError(`${where}: expected ${columns} column${columns === 1 ? '' : 's'}, found ${cells.length}`);
    const numbers = cells.map((cell) => {
      if (!NUMBER.test(cell)) throw new ProfileError(`${where}: ${JSON.stringify(cell)} is not a number`);
      return Number(cell);
    });
    if (columns === 1) {
      arrivals.push(arrivalCount(numbers[0], where));
      continue;
    }
    const minute = numbers[0]!;
    if (!Number.isInteger(minute) || minute < 0 || minute > 10 * 366 * MINUTES_PER_DAY) throw new ProfileError(`${where}: minute must be a whole number from 0, not ${cells[0]}`);
    if (arrivals[minute] !== undefined) throw new ProfileError(`${where}: minute ${minute} appears twice`);
    arrivals[minute] = arrivalCount(numbers[1], where);
  }
  return validated(path, {
    name: profileName(path),
    description: `arrivals per minute from ${path}`,
    arrivalsPerMinute: Array.from(arrivals, (value) => value ?? 0),
    fileBytes: DEFAULT_FILE_BYTES,
    poisonShare: 0,
    drainMinutes: DEFAULT_DRAIN_MINUTES,
  });
}

/**
 * A user's profile from its file's text: JSON `{name?, arrivalsPerMinute, fileBytes?, poisonShare?, drainMinutes?}`
 * (a .json file, or text starting with `{`) or CSV. Throws ProfileError naming the file, and the line for CSV.
 */
export function loadProfile(path: string, text: string): TrafficProfile {
  const extension = extname(path).toLowerCase();
  if (extension === '.json' || (extension !== '.csv' && text.trimStart().startsWith('{'))) return fromJson(path, text);
  return fromCsv(path, text);
}
