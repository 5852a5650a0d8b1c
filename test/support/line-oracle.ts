/**
 * An independent oracle of the data contract (README, "Data contract"), for differential tests of the
 * worker's whole line path. It shares no code with the worker: it imports nothing from worker/, ops/ or
 * trigger/, only what the language gives (TextDecoder, BigInt, JSON.parse as the definition of "is JSON").
 * Its own byte-level line splitter, its own JSON tokenizer (which keeps every member's text as written)
 * and its own exact decimal °F arithmetic say what the worker must write for an object's bytes; and
 * `compareFile` (oracle-compare.ts) holds what the worker wrote against that, line by line; the tokenizer
 * is in oracle-json-tokens.ts.
 *
 * The contract, as encoded here:
 * 1. A BOM is exactly EF BB BF at the very start of the object, and is dropped; nothing else is a BOM.
 * 2. Lines end at LF (0x0A); one CR right before it is dropped (also at the end of an object with no final
 *    LF); a lone CR does not end a line; line numbers are 1-based and count every line; an object ending
 *    with LF has no empty line after it.
 * 3. A line of only space, tab and CR bytes (or nothing) is blank: no outcome, not counted.
 * 4. A non-blank line longer than maxLineBytes (without LF, its one CR, the BOM) is `line_too_long`; its
 *    text is its first 1024 bytes at most, cut back to a UTF-8 character boundary, decoded (see overlongPrefix).
 * 5. Lines decode as UTF-8 with U+FFFD for invalid bytes (a U+FEFF after the start stays).
 * 6. invalid_json, not_an_object, then device_id (missing_field / invalid_type), temperature and humidity
 *    (missing_field / invalid_type / out_of_range when not finite), humidity within 0..100. Last duplicate wins.
 * 7. temperature not above the threshold: filtered.
 * 8. °F from the temperature's shortest decimal (String(number)), exact, rounded half away from zero to
 *    2 decimals, then the nearest double; not finite: out_of_range temperature. No negative zero.
 * 9. Output: every input member but location_id / temp_fahrenheit (by decoded key) with its text as
 *    written, in order, then "location_id":<string>,"temp_fahrenheit":<number>.
 */

import { lastMember, tokenizeJson, type JsonMember, type Tokenized } from './oracle-json-tokens.ts';

// ---- rules -------------------------------------------------------------------------------------------

export interface OracleRules {
  readonly maxLineBytes: number;
  readonly temperatureThresholdCelsius: number;
  readonly locations: ReadonlyMap<string, string>;
  readonly unknownLocationId: string;
}

/** The builtin device registry, written out here (not imported) on purpose. */
export const BUILTIN_LOCATIONS: ReadonlyMap<string, string> = new Map([
  ['sensor-alpha', 'loc-warehouse-a'],
  ['sensor-beta', 'loc-warehouse-b'],
  ['sensor-gamma', 'loc-server-room-1'],
]);

export function oracleRules(maxLineBytes: number): OracleRules {
  return { maxLineBytes, temperatureThresholdCelsius: 10, locations: BUILTIN_LOCATIONS, unknownLocationId: 'unknown' };
}

/** How much of an over-long line its rejected record keeps. */
export const OVERLONG_PREFIX_BYTES = 1024;

/** The oracle found itself inconsistent (its tokenizer and JSON.parse disagree, …): a bug here, not in the worker. */
export class OracleError extends Error {
  override readonly name = 'OracleError';
}

// ---- bytes and lines ---------------------------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

export interface ObjectLine {
  /** 1-based, every line counted. */
  readonly number: number;
  /** Without its LF, without one CR right before it, without the object's BOM. */
  readonly bytes: Uint8Array;
}

/** Whether the object starts with the BOM EF BB BF. */
export function startsWithBom(object: Uint8Array): boolean {
  return object.length >= 3 && object[0] === 0xef && object[1] === 0xbb && object[2] === 0xbf;
}

/** The object's lines (item 1 and 2 of the contract). */
export function splitObject(object: Uint8Array): ObjectLine[] {
  const lines: ObjectLine[] = [];
  let start = startsWithBom(object) ? 3 : 0;
  let number = 0;
  while (start < object.length) {
    let end = start;
    while (end < object.length && object[end] !== LF) end += 1;
    const contentEnd = end > start && object[end - 1] === CR ? end - 1 : end;
    number += 1;
    lines.push({ number, bytes: object.subarray(start, contentEnd) });
    start = end + 1; // past the LF; past the end when there was none
  }
  return lines;
}

/** Blank: empty, or only the bytes space, tab and CR. */
export function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== SPACE && byte !== TAB && byte !== CR) return false;
  return true;
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 with U+FFFD for invalid bytes; a leading U+FEFF is kept (the object's BOM is gone before this). */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * The first OVERLONG_PREFIX_BYTES bytes at most, cut back to a UTF-8 character boundary: a cut never
 * leaves a continuation byte (10xxxxxx) first in the part cut off. (The byte-level definition. Where the
 * bytes around the cut are not UTF-8, e.g. a run of stray continuation bytes, it cuts before the run, where
 * a definition by decoded units could keep up to 3 bytes more: the generator places such lines, so a
 * worker that reads the contract the other way shows up as a rejected-record mismatch.)
 */
export function overlongPrefix(bytes: Uint8Array): Uint8Array {
  let cut = Math.min(OVERLONG_PREFIX_BYTES, bytes.length);
  while (cut > 0 && cut < bytes.length && ((bytes[cut] as number) & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut);
}

// ---- °F ----------------------------------------------------------------------------------------------

export interface Fahrenheit {
  /** The exact °F rounded half away from zero to 2 decimals, e.g. "68.05", "-0.41", "0.00". */
  readonly decimal: string;
  /** The double nearest to `decimal`; 0, never -0; may be ±Infinity. */
  readonly value: number;
}

/** The shortest decimal of a finite double (String(x)) as mantissa × 10^exponent. */
export function decimalOf(x: number): { readonly mantissa: bigint; readonly exponent: number } {
  const text = String(x);
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:e([+-][0-9]+))?$/.exec(text);
  if (match === null) throw new OracleError(`String(${text}) is not a finite decimal`);
  const [, sign = '', whole = '', fraction = '', exponent = '+0'] = match;
  return { mantissa: BigInt(sign + whole + fraction), exponent: Number(exponent) - fraction.length };
}

/** F = C × 9/5 + 32, computed exactly on C's shortest decimal; in hundredths: (9·C·100 + 16000) / 5. */
export function fahrenheitOf(celsius: number): Fahrenheit {
  const { mantissa, exponent } = decimalOf(celsius);
  const shift = exponent + 2; // C·100 = mantissa · 10^shift
  let numerator: bigint;
  let denominator: bigint;
  if (shift >= 0) {
    numerator = 9n * mantissa * 10n ** BigInt(shift) + 16_000n;
    denominator = 5n;
  } else {
    const scale = 10n ** BigInt(-shift);
    numerator = 9n * mantissa + 16_000n * scale;
    denominator = 5n * scale;
  }
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let hundredths = magnitude / denominator;
  if ((magnitude % denominator) * 2n >= denominator) hundredths += 1n; // half away from zero
  const digits = hundredths.toString().padStart(3, '0');
  const decimal = `${negative && hundredths !== 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
  const value = Number(decimal);
  return { decimal, value: value === 0 ? 0 : value };
}

// ---- one line's expected outcome ---------------------------------------------------------------------

export const FIELD_REASONS = ['missing_field', 'invalid_type', 'out_of_range'] as const;
export type Reason = 'invalid_json' | 'not_an_object' | (typeof FIELD_REASONS)[number] | 'line_too_long';
export type Field = 'device_id' | 'temperature' | 'humidity';

export type Expected =
  | { readonly kind: 'blank' }
  | { readonly kind: 'rejected'; readonly reason: Reason; readonly field?: Field; readonly text: string }
  | { readonly kind: 'filtered'; readonly text: string }
  | {
      readonly kind: 'processed';
      readonly text: string;
      /** Every member of the input, in order. */
      readonly members: readonly JsonMember[];
      readonly locationId: string;
      readonly unknownDevice: boolean;
      readonly fahrenheit: Fahrenheit;
    };

export interface ExpectedLine extends ObjectLine {
  readonly expected: Expected;
}

const RESERVED_KEYS = new Set(['location_id', 'temp_fahrenheit']);

export function isReservedKey(key: string): boolean {
  return RESERVED_KEYS.has(key);
}

function rejected(reason: Reason, text: string, field?: Field): Expected {
  return field === undefined ? { kind: 'rejected', reason, text } : { kind: 'rejected', reason, field, text };
}

/** What the contract says one line ends in. */
export function expectLine(bytes: Uint8Array, rules: OracleRules): Expected {
  if (isBlank(bytes)) return { kind: 'blank' };
  if (bytes.length > rules.maxLineBytes) return rejected('line_too_long', decodeUtf8(overlongPrefix(bytes)));
  const text = decodeUtf8(bytes);
  const tokens = tokenizeJson(text);
  crossCheckWithJsonParse(text, tokens);
  if (!tokens.ok) return rejected('invalid_json', text);
  if (tokens.kind !== 'object') return rejected('not_an_object', text);
  const { members } = tokens;

  const device = lastMember(members, 'device_id');
  if (device === undefined || device.kind === 'null') return rejected('missing_field', text, 'device_id');
  if (device.kind !== 'string' || device.stringValue === '') return rejected('invalid_type', text, 'device_id');
  const deviceId = device.stringValue ?? '';

  const numbers: Partial<Record<Field, number>> = {};
  for (const field of ['temperature', 'humidity'] as const) {
    const member = lastMember(members, field);
    if (member === undefined || member.kind === 'null') return rejected('missing_field', text, field);
    if (member.kind !== 'number') return rejected('invalid_type', text, field);
    const value = Number(member.valueText);
    if (!Number.isFinite(value)) return rejected('out_of_range', text, field);
    numbers[field] = value;
  }
  const temperature = numbers.temperature as number;
  const humidity = numbers.humidity as number;
  if (humidity < 0 || humidity > 100) return rejected('out_of_range', text, 'humidity');

  if (!(temperature > rules.temperatureThresholdCelsius)) return { kind: 'filtered', text };

  const fahrenheit = fahrenheitOf(temperature);
  if (!Number.isFinite(fahrenheit.value)) return rejected('out_of_range', text, 'temperature');
  const known = rules.locations.get(deviceId);
  return {
    kind: 'processed',
    text,
    members,
    locationId: known ?? rules.unknownLocationId,
    unknownDevice: known === undefined,
    fahrenheit,
  };
}

/** Every line of the object with what it must end in. */
export function expectObject(object: Uint8Array, rules: OracleRules): ExpectedLine[] {
  return splitObject(object).map((line) => ({ ...line, expected: expectLine(line.bytes, rules) }));
}

/** The tokenizer must agree with JSON.parse about validity, kind and the fields the rules read. */
function crossCheckWithJsonParse(text: string, tokens: Tokenized): void {
  let parsed: unknown;
  let parses = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    parses = false;
  }
  if (parses !== tokens.ok) {
    throw new OracleError(`tokenizer says ${tokens.ok ? 'JSON' : `not JSON (${tokens.error})`}, JSON.parse says ${parses ? 'JSON' : 'not JSON'}: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!tokens.ok || tokens.kind !== 'object') return;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OracleError(`tokenizer saw an object where JSON.parse did not: ${text.slice(0, 200)}`);
  const record = parsed as Record<string, unknown>;
  for (const field of ['device_id', 'temperature', 'humidity', 'seq']) {
    const member = lastMember(tokens.members, field);
    const own = Object.hasOwn(record, field);
    if (own !== (member !== undefined)) throw new OracleError(`tokenizer and JSON.parse disagree whether ${field} is present: ${text.slice(0, 200)}`);
    if (member === undefined) continue;
    const value = record[field];
    const mine = member.kind === 'string' ? member.stringValue : member.kind === 'number' ? Number(member.valueText) : undefined;
    if ((member.kind === 'string' || member.kind === 'number') && !Object.is(mine, value)) {
      throw new OracleError(`tokenizer reads ${field} as ${String(mine)}, JSON.parse as ${String(value)}: ${text.slice(0, 200)}`);
    }
  }
  if (new Set(tokens.members.map((member) => member.key)).size !== Object.keys(record).length) {
    throw new OracleError(`tokenizer and JSON.parse disagree on the keys of ${text.slice(0, 200)}`);
  }
}
