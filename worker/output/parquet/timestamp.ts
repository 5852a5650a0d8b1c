/**
 * The record's `timestamp` as an instant. The data contract does not validate `timestamp`, so this
 * is the one place that decides what counts as a time: an RFC 3339 date-time with an explicit zone,
 * e.g. `2025-07-11T11:00:00Z` or `2025-07-11T13:00:00.250+02:00`. Pure (it keeps the last day it
 * read, which changes no answer).
 */

const MILLIS_PER_MINUTE = 60_000;
const LAST_YEAR = 9999;

// A zone is required: "2025-07-11T11:00:00" names a different instant in every time zone.
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC reads the years 0..99 as 1900..1999; setting the year apart keeps them literal.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  return date.getTime();
}

/**
 * Milliseconds since the epoch (UTC) of an RFC 3339 timestamp string; null for anything else: not a
 * string, no zone, an impossible date (`2025-02-30`), a leap second (`:60`), or an instant outside
 * the years 0000..9999 UTC. Fractions finer than a millisecond are truncated.
 */
export function parseTimestampMillis(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const common = parseCommonShape(value);
  return common === undefined ? parseRfc3339(value) : common;
}

const ZERO = 0x30;
const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** The last day read by parseCommonShape and its midnight: the readings of one file share a few days. */
let lastDay = '';
let lastDayMillis: number | null = null;

function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const ones = text.charCodeAt(at + 1) - ZERO;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

/**
 * `YYYY-MM-DDTHH:MM:SSZ`, the shape devices mostly send, read without the regular expression (a real
 * share of the Parquet writer's CPU went there): the day through parseRfc3339 once, the time of day by hand.
 * Undefined for any other shape, which parseRfc3339 reads.
 */
function parseCommonShape(value: string): number | null | undefined {
  if (value.length !== 20 || value.charCodeAt(10) !== 0x54 || value.charCodeAt(13) !== 0x3a || value.charCodeAt(16) !== 0x3a || value.charCodeAt(19) !== 0x5a) {
    return undefined;
  }
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  if (hour < 0 || minute < 0 || second < 0) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const day = value.slice(0, 10);
  if (day !== lastDay) {
    lastDayMillis = parseRfc3339(`${day}T00:00:00Z`);
    lastDay = day;
  }
  return lastDayMillis === null ? null : lastDayMillis + hour * HOUR_MS + minute * MINUTE_MS + second * SECOND_MS;
}

function parseRfc3339(value: string): number | null {
  const match = RFC_3339.exec(value);
  if (match === null) return null;
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fraction, utc, sign, offsetHourText, offsetMinuteText] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;

  let offsetMinutes = 0;
  if (utc === undefined) {
    const offsetHour = Number(offsetHourText);
    const offsetMinute = Number(offsetMinuteText);
    if (offsetHour > 23 || offsetMinute > 59) return null;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));

  const instant = utcMillis(year, month, day, hour, minute, second, millis) - offsetMinutes * MILLIS_PER_MINUTE;
  // An offset is under a day, so only the first and the last year can be pushed out of range.
  if (year > 0 && year < LAST_YEAR) return instant;
  const utcYear = new Date(instant).getUTCFullYear();
  return utcYear < 0 || utcYear > LAST_YEAR ? null : instant;
}
