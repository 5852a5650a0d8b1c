/**
 * A seeded generator of nasty JSON Lines objects for the differential test of the line path: BOMs and
 * their fragments, CR/LF mixes, every Unicode whitespace, invalid UTF-8, lines at and past the line limits
 * (also blank ones), deep nesting, numbers whose text must survive, near-half temperatures, duplicate,
 * reserved and __proto__ keys, files without a final newline, … mixed with ordinary records so that many
 * lines are processed. Every object-shaped line carries `"seq":<its line number>`, so that an output
 * record can be traced back to its line.
 *
 * The seed: DIFFERENTIAL_SEED when set; otherwise fixed in CI (as test/support/fast-check-seed.ts fixes
 * fast-check's) and drawn anew on developers' machines. The same seed gives the same bytes.
 */
import { randomInt } from 'node:crypto';

export const CI_SEED = 20_261_125;

export interface SeedChoice {
  readonly seed: number;
  readonly source: 'DIFFERENTIAL_SEED' | 'CI' | 'random';
}

export function differentialSeed(env: NodeJS.ProcessEnv = process.env): SeedChoice {
  const given = env['DIFFERENTIAL_SEED'];
  if (given !== undefined && given.trim() !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new Error(`DIFFERENTIAL_SEED must be an integer 0..4294967295, not ${given}`);
    return { seed, source: 'DIFFERENTIAL_SEED' };
  }
  if (env['CI']) return { seed: CI_SEED, source: 'CI' };
  return { seed: randomInt(0, 2 ** 31), source: 'random' };
}

/** mulberry32, with the helpers the generator needs. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in min..max, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index -= 1) {
      const other = Math.floor(this.next() * (index + 1));
      [items[index], items[other]] = [items[other] as T, items[index] as T];
    }
    return items;
  }
}

// ---- bytes -------------------------------------------------------------------------------------------

type Part = string | readonly number[] | Buffer;

function bytes(...parts: Part[]): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));
}

const BOM = [0xef, 0xbb, 0xbf] as const;

/** Not JSON whitespace: each makes a line non-blank. */
export const UNICODE_WHITESPACE = [
  '\u000b', '\u000c', '\u0085', '\u00a0', '\u1680', '\u180e', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006',
  '\u2007', '\u2008', '\u2009', '\u200a', '\u200b', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff',
] as const;

/** Byte sequences that are not UTF-8 (each decodes to one or more U+FFFD). */
export const INVALID_UTF8: ReadonlyArray<readonly number[]> = [
  [0xff], [0xfe], [0x80], [0xbf], [0xc0, 0x80], [0xc0, 0xaf], [0xc1, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb], [0xef], [0xe0, 0x80, 0x80], [0xfe, 0xff],
];

// ---- JSON text ---------------------------------------------------------------------------------------

type Member = readonly [keyText: string, valueText: string];

const key = (name: string) => JSON.stringify(name);
const str = (value: string) => JSON.stringify(value);

/** JSON whitespace between tokens; a lone CR now and then (it does not end a line). */
function ws(r: Random): string {
  const roll = r.next();
  if (roll < 0.8) return '';
  if (roll < 0.9) return ' ';
  if (roll < 0.95) return r.pick(['\t', '  ', ' \t ']);
  return r.pick(['\r', ' \r', '\r\t']);
}

function objectText(r: Random | undefined, members: readonly Member[]): string {
  const space = () => (r ? ws(r) : '');
  return `{${space()}${members.map(([k, v]) => `${k}${space()}:${space()}${v}`).join(`${space()},${space()}`)}${space()}}`;
}

/** The members with `"seq":N` put somewhere among them. */
function withSeq(r: Random, seq: number, members: readonly Member[]): Member[] {
  const out = [...members];
  out.splice(r.chance(0.6) ? 0 : r.int(0, out.length), 0, [key('seq'), String(seq)]);
  return out;
}

const KNOWN_DEVICES = ['sensor-alpha', 'sensor-beta', 'sensor-gamma'] as const;

function device(r: Random): string {
  return r.chance(0.8) ? r.pick(KNOWN_DEVICES) : `sensor-${r.int(1, 40)}`;
}

function decimals(r: Random, min: number, max: number, places: number): string {
  const scale = 10 ** places;
  const value = r.int(min * scale, max * scale) / scale;
  return places === 0 ? String(Math.round(value)) : value.toFixed(places);
}

/** C = (50j + 25)/1000: its °F ends in 5 at the third decimal, exactly half a hundredth. */
function nearHalf(r: Random, minJ = 220, maxJ = 40_000): string {
  const thousandths = 50 * r.int(minJ, maxJ) + 25;
  return `${Math.floor(thousandths / 1000)}.${String(thousandths % 1000).padStart(3, '0')}`;
}

/** The next double up or down from a positive x. */
function adjacentDouble(x: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(direction));
  return view.getFloat64(0);
}

function nearHalfNeighbour(r: Random): string {
  const text = nearHalf(r);
  switch (r.int(0, 5)) {
    case 0:
      return String(adjacentDouble(Number(text), 1));
    case 1:
      return String(adjacentDouble(Number(text), -1));
    case 2:
      return `${text}000000001`;
    case 3:
      return `${text.slice(0, -1)}4999999999`;
    case 4:
      return String(Number(text) - 2.2222e-10);
    default:
      return `${text}0`;
  }
}

/** A temperature above the threshold, in many shapes. */
function warmTemperature(r: Random): string {
  const roll = r.next();
  if (roll < 0.45) return decimals(r, 11, 45, r.int(0, 3));
  if (roll < 0.65) return nearHalf(r);
  if (roll < 0.75) return nearHalfNeighbour(r);
  if (roll < 0.85) return String(10 + r.next() * 990); // 17 significant digits
  if (roll < 0.9) return r.pick(['2.5e1', '25.0', '2500e-2', '0.25E+2', '1e21', '1E+21', '123456789012.345', '4503599627370497.5', '9007199254740993', '1.5e300']);
  if (roll < 0.95) return decimals(r, 11, 99_999, r.int(3, 6));
  return r.pick(['10.000000000000002', '10.01', '10.005', '10.015', '1e2', '100']);
}

/** A temperature at or below the threshold. */
function coldTemperature(r: Random): string {
  if (r.chance(0.8)) return decimals(r, -40, 10, r.int(0, 2));
  return r.pick(['10', '10.0', '1e1', '1.0e1', '9.999999999999998', '10.000000000000001', '-0', '0', '-0.0', '5e-324', '-5e-324', '1e-7', '-17.78', '-1.7e308', '2.2250738585072014e-308']);
}

function humidity(r: Random): string {
  return decimals(r, 0, 100, r.int(0, 2));
}

interface RecordOptions {
  readonly device?: string | undefined;
  readonly temperature?: string | undefined;
  readonly humidity?: string | undefined;
  /** Members put after the usual ones. */
  readonly extra?: readonly Member[];
  /** Replace the usual members (seq is still added). */
  readonly members?: readonly Member[];
  /** No random whitespace. */
  readonly compact?: boolean;
}

/** A sensor record text with `"seq":seq`. */
function record(r: Random, seq: number, options: RecordOptions = {}): string {
  let members: Member[];
  if (options.members) {
    members = [...options.members];
  } else {
    members = [[key('device_id'), options.device ?? str(device(r))]];
    if (r.chance(0.5)) members.push([key('location'), str(r.pick(['warehouse-A', 'warehouse-B', 'server-room-1', 'dock 7']))]);
    members.push([key('temperature'), options.temperature ?? warmTemperature(r)], [key('humidity'), options.humidity ?? humidity(r)]);
    if (r.chance(0.5)) members.push([key('pressure'), decimals(r, 950, 1050, 1)]);
    if (r.chance(0.6)) members.push([key('timestamp'), str(`2025-07-${String(r.int(1, 28)).padStart(2, '0')}T${String(r.int(0, 23)).padStart(2, '0')}:00:00Z`)]);
    if (r.chance(0.1)) r.shuffle(members);
  }
  members.push(...(options.extra ?? []));
  return objectText(options.compact ? undefined : r, withSeq(r, seq, members));
}

// ---- line makers ------------------------------------------------------------------------------------

type Terminator = 'LF' | 'CRLF';

export interface GeneratedLine {
  /** Without the terminator; never contains LF. */
  readonly content: Buffer;
  readonly terminator: Terminator;
  readonly kind: string;
}

interface MakerContext {
  readonly r: Random;
  readonly seq: number;
}

type MadeLine = Part | { readonly content: Part; readonly terminator: Terminator };

interface Maker {
  readonly kind: string;
  /** Many kilobytes: placed once per file set, never drawn as an extra. */
  readonly heavy?: boolean;
  make(context: MakerContext): MadeLine;
}

/** A record of exactly `length` bytes (compact, padded by a "pad" member of ASCII). */
function recordOfLength(r: Random, seq: number, length: number, options: RecordOptions = {}): string {
  // Built twice from the same sub-seed, so that only the pad differs.
  const shape = r.int(0, 2 ** 31);
  const build = (pad: number) =>
    record(new Random(shape), seq, { ...options, compact: true, extra: [...(options.extra ?? []), [key('pad'), str('p'.repeat(pad))]] });
  const base = Buffer.byteLength(build(0));
  if (base > length) throw new Error(`a record of ${length} bytes cannot hold its ${base} bytes of fields`);
  return build(length - base);
}

/** A compact record whose last member is a string left open: `{"seq":N,…,"note":"`. */
function openStringRecord(r: Random, seq: number, name: string): string {
  const members: Member[] = [[key('seq'), String(seq)], [key('device_id'), str(device(r))], [key('temperature'), warmTemperature(r)], [key('humidity'), humidity(r)], [key(name), '""']];
  return objectText(undefined, members).slice(0, -2);
}

/**
 * Over-long for `limit` (limit + 1 .. limit + 64 bytes), with a character or invalid bytes set across byte
 * 1024, where the rejected text is cut.
 */
function straddlingLine(r: Random, seq: number, limit: number, across: readonly number[]): Buffer {
  const head = bytes(openStringRecord(r, seq, 'note'));
  const offset = 1024 - r.int(1, Math.max(1, across.length - 1));
  if (head.length > offset) throw new Error('straddlingLine: the head is too long');
  const line = bytes(head, 'a'.repeat(offset - head.length), across);
  const fill: Part[] = [];
  let length = line.length + 2;
  const target = limit + r.int(1, 64);
  while (length < target) {
    const piece = r.pick(['a', 'é', '€', '😀', 'z']);
    fill.push(piece);
    length += Buffer.byteLength(piece);
  }
  return bytes(line, ...fill, '"}');
}

function makers(limits: readonly number[]): Maker[] {
  const list: Maker[] = [];
  const add = (kind: string, make: Maker['make'], heavy = false) => list.push({ kind, make, ...(heavy ? { heavy } : {}) });
  const rec = (c: MakerContext, options?: RecordOptions) => record(c.r, c.seq, options);

  // blank lines
  add('blank:empty', () => '');
  add('blank:spaces-tabs-cr', ({ r }) => Array.from({ length: r.int(1, 12) }, () => r.pick([' ', '\t', '\r'])).join(''));
  add('blank:cr-before-crlf', () => ({ content: '\r', terminator: 'CRLF' }));
  add('blank:3000-spaces', () => ' '.repeat(3000));

  // whitespace that is not JSON's
  add('ws:unicode-only', ({ r }) => `${r.pick(['', ' ', '\t'])}${r.pick(UNICODE_WHITESPACE)}${r.pick(['', ' '])}`);
  add('ws:every-unicode-space', () => UNICODE_WHITESPACE.join(''));
  add('ws:nul', () => '\u0000');
  add('ws:record-then-unicode-space', (c) => rec(c) + c.r.pick(UNICODE_WHITESPACE));
  add('ws:unicode-space-then-record', (c) => c.r.pick(UNICODE_WHITESPACE) + rec(c));
  add('ws:json-whitespace-around', (c) => `${c.r.pick([' ', '\t', ' \t', '\r '])}${rec(c)}${c.r.pick([' ', '\t', '\t \t'])}`);
  add('ws:bom-later-line', (c) => `\ufeff${rec(c)}`);
  add('ws:bom-alone-later-line', () => BOM);
  add('ws:partial-bom-later-line', (c) => bytes(c.r.pick([[0xef, 0xbb], [0xef], [0xbb, 0xbf]]), rec(c)));
  add('ws:bom-inside-string', (c) => rec(c, { extra: [[key('note'), str('\ufeffx\ufeff')]] }));
  add('ws:bom-between-tokens', (c) => rec(c).replace(',', ',\ufeff'));

  // invalid UTF-8
  add('utf8:bad-in-device-id', (c) => bytes(`{"seq":${c.seq},"device_id":"sensor-`, c.r.pick(INVALID_UTF8), `","temperature":${warmTemperature(c.r)},"humidity":50}`));
  add('utf8:bad-in-other-string', (c) => bytes(openStringRecord(c.r, c.seq, 'note'), c.r.pick(INVALID_UTF8), c.r.pick(INVALID_UTF8), '"}'));
  add('utf8:bad-between-tokens', (c) => bytes(rec(c).slice(0, -1), c.r.pick(INVALID_UTF8), '}'));
  add('utf8:bad-alone', (c) => bytes(c.r.pick(INVALID_UTF8), c.r.pick(INVALID_UTF8)));
  add('utf8:bad-in-key', (c) => bytes(`{"seq":${c.seq},"device_id":"sensor-alpha","temp`, c.r.pick(INVALID_UTF8), `erature":20,"humidity":50}`));
  add('utf8:every-bad-sequence-in-a-string', (c) => bytes(openStringRecord(c.r, c.seq, 'bad'), ...INVALID_UTF8.flatMap((sequence) => [sequence, 'x']), '"}'));
  add('utf8:truncated-after-record', (c) => bytes(rec(c), [0xe2, 0x82]));

  // CR and LF
  add('crlf:record-cr-crlf', (c) => ({ content: `${rec(c)}\r`, terminator: 'CRLF' }));
  add('crlf:record-cr-cr-crlf', (c) => ({ content: `${rec(c)}\r\r`, terminator: 'CRLF' }));
  add('crlf:lone-cr-joins-two-records', (c) => `${rec(c)}\r${rec(c)}`);
  add('crlf:lone-cr-as-whitespace', (c) => rec(c).replace(/,/g, ',\r'));
  add('crlf:cr-before-record', (c) => `\r${rec(c)}`);

  // numbers whose text must survive
  add('num:texts-kept', (c) =>
    rec(c, {
      extra: [
        [key('big'), '12345678901234567890'], [key('one'), '1.0'], [key('e'), '1E2'], [key('ep'), '1e+2'], [key('neg0'), '-0'],
        [key('negzero'), '-0.0'], [key('huge'), '1e400'], [key('tiny'), '5e-324'], [key('under'), '1e-400'], [key('frac'), '0.1e1'],
        [key('pi'), '3.141592653589793238462643383279'], [key('nested'), '{ "a" : [ 1.0 , 2E0 , { "b" : null } ] , "c":{}}'],
      ],
    }));
  add('num:temperature-forms', (c) => rec(c, { temperature: c.r.pick(['2.5e1', '25.0', '2500e-2', '0.25E+2', '25.000000000000000001', '250E-1']) }));
  add('num:exponent-temperatures', (c) => rec(c, { temperature: c.r.pick(['1e21', '1E+21', '1.5e300', '12345678901234567890', '123456789012345678901234567890', '1e16', '1e15', '9007199254740993']) }));
  add('num:near-half', (c) => rec(c, { temperature: nearHalf(c.r) }));
  add('num:near-half-small', (c) => rec(c, { temperature: nearHalf(c.r, 220, 400) }));
  add('num:near-half-large', (c) => rec(c, { temperature: nearHalf(c.r, 19_000_000, 21_000_000) }));
  add('num:near-half-large-neighbour', (c) => {
    const text = nearHalf(c.r, 19_000_000, 21_000_000);
    return rec(c, { temperature: c.r.pick([String(adjacentDouble(Number(text), 1)), String(adjacentDouble(Number(text), -1)), `${text}1`, `${text.slice(0, -1)}49`]) });
  });
  add('num:many-decimals', (c) => rec(c, { temperature: c.r.pick(['12.345675', '12.3456785', '999999.999995', '999999.995', '1000000.005', '999999.9999995', '10.0000005', '11.1111111', '27.7775', '27.77775']) }));
  add('num:near-half-neighbour', (c) => rec(c, { temperature: nearHalfNeighbour(c.r) }));
  add('num:near-half-documented', (c) => rec(c, { temperature: c.r.pick(['20.025', '20.02499999977778', '20.0250000001', '1e307', '10.005', '37.775']) }));
  add('num:fahrenheit-overflow-edge', (c) =>
    rec(c, { temperature: c.r.pick(['9.9e307', '9.98e307', '9.987e307', '9.9871e307', '9.98718e307', '9.987184e307', '9.9871840825e307', '9.98718408256842e307', '9.9871840825684e307']) }));
  add('num:threshold-edges', (c) => rec(c, { temperature: c.r.pick(['10', '10.0', '1e1', '1.0e1', '100e-1', '9.999999999999998', '10.000000000000002', '10.000000000000001']) }));
  add('num:tiny-temperatures', (c) => rec(c, { temperature: c.r.pick(['5e-324', '-5e-324', '-0', '0', '-0.0', '0e0', '1e-7', '2.2250738585072014e-308']) }));
  add('num:cold', (c) => rec(c, { temperature: coldTemperature(c.r) }));
  add('num:invalid-number-literals', (c) => rec(c, { temperature: c.r.pick(['NaN', 'Infinity', '-Infinity', '01', '1.', '.5', '+1', '0x10', '1e', '-', '1e+', '--1', '1_000']) }));
  add('num:temperature-not-finite', (c) => rec(c, { temperature: c.r.pick(['1e999', '-1e999', '1e400', '-1e400']) }));
  add('num:fahrenheit-not-finite', (c) => rec(c, { temperature: c.r.pick(['1.7e308', '1e308', '1.7976931348623157e308', '9.99e307']) }));

  // strings and keys
  add('str:escapes-kept', (c) =>
    rec(c, {
      extra: [
        [key('a'), '"\\u0041"'], [key('slash'), '"\\/"'], [key('pair'), '"\\ud83d\\ude00"'], [key('lone'), '"\\udc00"'], [key('quote'), '"\\"\\\\"'],
        [key('ctl'), '"\\u0000\\u001f\\b\\f\\n\\r\\t"'], [key('raw'), '"😀é\u2028\u2029\u007f"'], ['"\\u006eote"', '1'], ['"k\\u00e9y"', '"v"'],
      ],
    }));
  add('str:escaped-device-id-key', (c) => rec(c, { members: [['"\\u0064evice_id"', str('sensor-beta')], [key('temperature'), warmTemperature(c.r)], ['"humidit\\u0079"', '40']] }));
  add('str:raw-control-in-string', (c) => rec(c, { extra: [[key('note'), `"a${c.r.pick(['\t', '\u0001', '\u001f', '\u0000'])}b"`]] }));
  add('str:bad-escape', (c) => rec(c, { extra: [[key('note'), c.r.pick(['"\\x41"', '"\\u12"', '"\\U0041"', '"\\\'"'])]] }));

  // device_id
  add('dev:missing', (c) => rec(c, { members: [[key('temperature'), '20'], [key('humidity'), '50']] }));
  add('dev:null', (c) => rec(c, { device: 'null' }));
  add('dev:empty', (c) => rec(c, { device: '""' }));
  add('dev:whitespace-only', (c) => rec(c, { device: c.r.pick(['" "', '"\\t"', '"   "', '"\u00a0"', '"\\n"']) }));
  add('dev:not-a-string', (c) => rec(c, { device: c.r.pick(['42', 'true', 'false', '{}', '[]', '["sensor-alpha"]', '{"id":"sensor-alpha"}', '0']) }));
  add('dev:escaped-known', (c) => rec(c, { device: c.r.pick(['"sensor\\u002dalpha"', '"\\u0073ensor-beta"', '"sensor-gamm\\u0061"']) }));
  add('dev:prototype-names', (c) => rec(c, { device: str(c.r.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])) }));
  add('dev:near-known', (c) => rec(c, { device: c.r.pick(['"sensor-alpha "', '" sensor-alpha"', '"Sensor-Alpha"', '"sensor-alpha\\u0000"', '"sensor\u2010alpha"']) }));

  // temperature and humidity
  add('temp:string', (c) => rec(c, { temperature: c.r.pick(['"20.5"', '"20"', '""']) }));
  add('temp:null', (c) => rec(c, { temperature: 'null' }));
  add('temp:absent', (c) => rec(c, { members: [[key('device_id'), str(device(c.r))], [key('humidity'), '50']] }));
  add('temp:not-a-number', (c) => rec(c, { temperature: c.r.pick(['true', 'false', '{}', '[20]', '{"value":20,"unit":"C"}']) }));
  add('hum:string', (c) => rec(c, { humidity: '"50"' }));
  add('hum:null', (c) => rec(c, { humidity: 'null' }));
  add('hum:absent', (c) => rec(c, { members: [[key('device_id'), str(device(c.r))], [key('temperature'), warmTemperature(c.r)]] }));
  add('hum:not-a-number', (c) => rec(c, { humidity: c.r.pick(['true', '[]', '{}']) }));
  add('hum:edges-valid', (c) => rec(c, { humidity: c.r.pick(['0', '100', '-0', '100.0', '1e2', '100.00000000000001', '0.0', '5e-324', '-0.0']) }));
  add('hum:out-of-range', (c) => rec(c, { humidity: c.r.pick(['-1', '101', '-1e-300', '100.0000000000001', '-5e-324', '1e3']) }));
  add('hum:not-finite', (c) => rec(c, { humidity: c.r.pick(['1e999', '-1e999']) }));

  // which failure wins
  add('order:device-before-temperature', (c) => rec(c, { device: 'null', temperature: '"x"' }));
  add('order:temperature-before-humidity', (c) => rec(c, { temperature: '"x"', humidity: '200' }));
  add('order:temperature-not-finite-before-humidity-missing', (c) => rec(c, { members: [[key('device_id'), str('sensor-alpha')], [key('temperature'), '1e999']] }));
  add('order:humidity-range-before-filter', (c) => rec(c, { temperature: '5', humidity: '150' }));
  add('order:humidity-range-before-fahrenheit', (c) => rec(c, { temperature: '1.7e308', humidity: '150' }));
  add('order:filter-before-fahrenheit', (c) => rec(c, { temperature: '-1.7e308' }));

  // duplicate keys: the last wins
  add('dup:device-null-then-valid', (c) => rec(c, { members: [[key('device_id'), 'null'], [key('temperature'), '21'], [key('humidity'), '50'], [key('device_id'), str('sensor-gamma')]] }));
  add('dup:device-valid-then-null', (c) => rec(c, { members: [[key('device_id'), str('sensor-alpha')], [key('temperature'), '21'], [key('humidity'), '50'], [key('device_id'), 'null']] }));
  add('dup:temperature-low-then-high', (c) => rec(c, { members: [[key('device_id'), str('sensor-alpha')], [key('temperature'), '5'], [key('humidity'), '50'], [key('temperature'), warmTemperature(c.r)]] }));
  add('dup:temperature-high-then-low', (c) => rec(c, { members: [[key('device_id'), str('sensor-alpha')], [key('temperature'), '25'], [key('humidity'), '50'], [key('temperature'), '5']] }));
  add('dup:temperature-string-then-number', (c) => rec(c, { members: [[key('device_id'), str('sensor-alpha')], [key('temperature'), '"x"'], [key('humidity'), '50'], [key('temperature'), '30.125']] }));
  add('dup:humidity-bad-then-good', (c) => rec(c, { members: [[key('device_id'), str('sensor-beta')], [key('temperature'), '22'], [key('humidity'), '150'], [key('humidity'), '50']] }));
  add('dup:device-known-then-unknown', (c) => rec(c, { members: [[key('device_id'), str('sensor-alpha')], [key('temperature'), '22'], [key('humidity'), '50'], ['"device\\u005fid"', str('sensor-zeta')]] }));

  // reserved keys: dropped and replaced
  add('reserved:location-id', (c) => rec(c, { extra: [[key('location_id'), c.r.pick(['"elsewhere"', '42', 'null', '{"a":1}'])]] }));
  add('reserved:temp-fahrenheit', (c) => rec(c, { extra: [[key('temp_fahrenheit'), c.r.pick(['0', '"hot"', 'null', '1e400', '-0'])]] }));
  add('reserved:escaped', (c) => rec(c, { extra: [['"location\\u005fid"', '1'], ['"temp\\u005ffahrenheit"', '2'], [key('after'), '1.0']] }));
  add('reserved:first-and-duplicated', (c) =>
    rec(c, { members: [[key('location_id'), '"x"'], [key('device_id'), str('sensor-alpha')], [key('temperature'), '23.5'], [key('location_id'), '"y"'], [key('humidity'), '50'], [key('temp_fahrenheit'), '1'], ['"\\u006cocation_id"', '3']] }));
  add('reserved:look-alikes-kept', (c) => rec(c, { extra: [[key('location_id '), '1'], [key('Location_id'), '2'], [key('temp_fahrenheit2'), '3'], [key('location_id\u0000'), '4']] }));
  add('reserved:with-tricky-values', (c) =>
    rec(c, {
      extra: [
        [key('location_id'), '"x"'],
        [key('s'), str('}]{[,:"\\\u0041 "}')],
        [key('k"ey'), '[ "]" , { "}" : "{" } , -0 , 1E+2 ]'],
        [key(''), '""'],
        [key('esc'), '"\\\\"'],
        [key('n'), '-0.0e-0'],
        [key('t'), 'true'],
        [key('nested'), `${'['.repeat(50)}"]}"${']'.repeat(50)}`],
      ],
    }));
  add('reserved:with-deep-nesting', (c) => rec(c, { extra: [[key('temp_fahrenheit'), '0'], [key('deep'), `${'{"a":['.repeat(2500)}"}]"${']}'.repeat(2500)}`], [key('last'), '12345678901234567890']] }), true);
  add('reserved:in-a-filtered-line', (c) => rec(c, { temperature: '5', extra: [[key('location_id'), '"x"'], [key('temp_fahrenheit'), '41']] }));

  // __proto__ and friends
  add('proto:holds-the-fields', (c) => rec(c, { members: [[key('__proto__'), '{"device_id":"sensor-alpha","temperature":20,"humidity":50}']] }));
  add('proto:kept-in-a-record', (c) => rec(c, { extra: [[key('__proto__'), c.r.pick(['null', '[]', '1', '{"polluted":true}', '"x"'])]] }));
  add('proto:escaped', (c) => rec(c, { extra: [['"\\u005f_proto__"', '{"a":1}'], [key('constructor'), '{"prototype":{"polluted":true}}']] }));

  // JSON, not an object
  add('notobj:json-values', (c) => c.r.pick(['[]', '[1,2]', '"text"', '42', 'null', 'true', 'false', ' -0 ', '"{\\"device_id\\":1}"', '1e999', '[{"device_id":"sensor-alpha","temperature":20,"humidity":50}]']));

  // not JSON
  add('json:truncated', (c) => rec(c).slice(0, -1));
  add('json:trailing-comma', (c) => `${rec(c).slice(0, -1)},}`);
  add('json:single-quotes', (c) => rec(c).replace(/"/g, "'"));
  add('json:comment', (c) => `${rec(c)} // note`);
  add('json:two-records', (c) => rec(c) + rec(c));
  add('json:trailing-garbage', (c) => `${rec(c)} ${c.r.pick(['x', ',', '0', 'null', '}'])}`);
  add('json:unquoted-key', (c) => `{seq:${c.seq},device_id:"sensor-alpha",temperature:20,humidity:50}`);
  add('json:fragments', (c) => c.r.pick(['{', '}', '[', '{"a"', '{"a":}', '{"a" 1}', '{"a":1 "b":2}', 'hello', '{"device_id":"sensor-alpha"}}', '\u0000{}']));
  add('json:empty-objects', (c) => c.r.pick(['{}', '{ }', '{\t\r}', ' {} ']));
  add('str:closing-brace-in-last-string', (c) => rec(c, { extra: [[key('note'), str(c.r.pick(['}', ' } ', '{"a":1}', '\\}', '"}']))]] }));

  // deep nesting (5,000 levels)
  add('deep:array-member', (c) => rec(c, { extra: [[key('deep'), `${'['.repeat(5000)}${']'.repeat(5000)}`]] }), true);
  add('deep:object-member', (c) => rec(c, { extra: [[key('deep'), `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`]] }), true);
  add('deep:array-line', () => `${'['.repeat(5000)}${']'.repeat(5000)}`, true);
  add('deep:unbalanced', (c) => rec(c, { extra: [[key('deep'), `${'['.repeat(5000)}${']'.repeat(4999)}`]] }), true);
  add('deep:as-temperature', (c) => rec(c, { temperature: `${'['.repeat(3000)}20${']'.repeat(3000)}` }), true);
  add('deep:in-a-filtered-line', (c) => rec(c, { temperature: '3', extra: [[key('deep'), `${'[{"a":'.repeat(2500)}0${'}]'.repeat(2500)}`]] }), true);

  // at and past each line limit
  for (const limit of limits) {
    const heavy = limit > 4096;
    const at = `@${limit}`;
    add(`long:exact${at}`, (c) => recordOfLength(c.r, c.seq, limit), heavy);
    add(`long:exact-filtered${at}`, (c) => recordOfLength(c.r, c.seq, limit, { temperature: '4' }), heavy);
    add(`long:minus-one${at}`, (c) => recordOfLength(c.r, c.seq, limit - 1), heavy);
    add(`long:plus-one${at}`, (c) => recordOfLength(c.r, c.seq, limit + 1), heavy);
    add(`long:exact-then-crlf${at}`, (c) => ({ content: recordOfLength(c.r, c.seq, limit), terminator: 'CRLF' }), heavy);
    add(`long:exact-then-cr-crlf${at}`, (c) => ({ content: `${recordOfLength(c.r, c.seq, limit)}\r`, terminator: 'CRLF' }), heavy);
    add(`long:multibyte-across-1024${at}`, (c) => straddlingLine(c.r, c.seq, limit, [...Buffer.from(c.r.pick(['é', '€', '😀', '𝄞', '温']))]), heavy);
    add(`long:truncated-utf8-across-1024${at}`, (c) => straddlingLine(c.r, c.seq, limit, c.r.pick([[0xe2, 0x82, 0x61], [0xf0, 0x9f, 0x98, 0x61], [0xe2, 0x82, 0x22]])), heavy);
    add(`long:invalid-utf8-across-1024${at}`, (c) => straddlingLine(c.r, c.seq, limit, c.r.pick([[0x80, 0x80, 0x80], [0xc0, 0x80], [0xff, 0x80], [0xed, 0xa0, 0x80]])), heavy);
    add(`long:spaces-then-nbsp${at}`, (c) => `${' '.repeat(limit - 2 + c.r.int(0, 1))}\u00a0`, heavy);
    add(`long:blank${at}`, (c) => Array.from({ length: limit + c.r.int(1, 64) }, () => c.r.pick([' ', ' ', '\t', '\r'])).join(''), heavy);
  }
  return list;
}

/** A plain ordinary line: most are processed, some filtered. */
function ordinaryLine(r: Random, seq: number): string {
  return r.chance(0.8) ? record(r, seq) : record(r, seq, { temperature: coldTemperature(r) });
}

// ---- files --------------------------------------------------------------------------------------------

export interface NastyFile {
  readonly name: string;
  /** The object, uncompressed. */
  readonly bytes: Buffer;
  /** The kinds of lines, starts and ends it holds. */
  readonly kinds: readonly string[];
}

interface Start {
  readonly kind: string;
  /** Bytes before line 1's content. */
  readonly prefix: Part;
  /** Replaces line 1's content. */
  readonly firstLine?: (r: Random) => Part;
}

interface End {
  readonly kind: string;
  /** What the last line's content gets, and whether an LF (CRLF) follows. */
  readonly apply: (r: Random, lastSeq: number) => { readonly lastContent?: Part; readonly append: Part; readonly extraLines?: readonly Part[] };
}

function starts(limits: readonly number[]): Start[] {
  const list: Start[] = [
    { kind: 'start:none', prefix: '' },
    { kind: 'start:bom', prefix: BOM },
    { kind: 'start:ef', prefix: [0xef] },
    { kind: 'start:ef-bb', prefix: [0xef, 0xbb] },
    { kind: 'start:bom-bom', prefix: [...BOM, ...BOM] },
    { kind: 'start:bom-then-blank', prefix: BOM, firstLine: () => '' },
    { kind: 'start:bom-then-spaces', prefix: BOM, firstLine: () => ' \t ' },
    { kind: 'start:bom-then-not-an-object', prefix: BOM, firstLine: () => '[1]' },
    { kind: 'start:bom-then-invalid-utf8', prefix: BOM, firstLine: () => [0xff, 0xbb, 0xbf] },
    { kind: 'start:bom-then-nbsp', prefix: BOM, firstLine: () => '\u00a0' },
    { kind: 'start:ef-space-bb-bf', prefix: [0xef, 0x20, 0xbb, 0xbf] },
  ];
  for (const limit of limits) {
    list.push(
      { kind: `start:bom-then-exact@${limit}`, prefix: BOM, firstLine: (r) => recordOfLength(r, 1, limit) },
      { kind: `start:bom-then-plus-one@${limit}`, prefix: BOM, firstLine: (r) => recordOfLength(r, 1, limit + 1) },
    );
  }
  return list;
}

function ends(limits: readonly number[]): End[] {
  const list: End[] = [
    { kind: 'end:lf', apply: () => ({ append: '\n' }) },
    { kind: 'end:crlf', apply: () => ({ append: '\r\n' }) },
    { kind: 'end:no-newline', apply: () => ({ append: '' }) },
    { kind: 'end:cr-no-lf', apply: () => ({ append: '\r' }) },
    { kind: 'end:cr-cr-no-lf', apply: () => ({ append: '\r\r' }) },
    { kind: 'end:blank-lines', apply: () => ({ append: '\n', extraLines: ['', '   ', '\t\r'] }) },
    { kind: 'end:blank-no-lf', apply: () => ({ append: '\n   ' }) },
    { kind: 'end:lone-cr-line', apply: () => ({ append: '\n\r' }) },
  ];
  for (const limit of limits) {
    list.push(
      { kind: `end:plus-one-no-lf@${limit}`, apply: (r, seq) => ({ lastContent: recordOfLength(r, seq, limit + 1), append: '' }) },
      { kind: `end:exact-cr-no-lf@${limit}`, apply: (r, seq) => ({ lastContent: recordOfLength(r, seq, limit), append: '\r' }) },
    );
  }
  return list;
}

/** Objects that are all edge: nothing, a BOM alone, newlines alone, … */
const TINY_FILES: ReadonlyArray<readonly [string, Part]> = [
  ['empty', ''],
  ['bom-only', BOM],
  ['bom-lf', [...BOM, 0x0a]],
  ['lf-only', '\n'],
  ['cr-only', '\r'],
  ['crlf-crlf', '\r\n\r\n'],
  ['ef-only', [0xef]],
  ['ef-bb-only', [0xef, 0xbb]],
  ['spaces-no-lf', '   '],
  ['long-blank-no-lf', ' '.repeat(3000)],
  ['record-no-lf', '{"seq":1,"device_id":"sensor-alpha","temperature":20.025,"humidity":50}'],
  ['bom-record-cr-no-lf', bytes(BOM, '{"seq":1,"device_id":"sensor-beta","temperature":37.775,"humidity":50}\r')],
  ['lf-lf-lf', '\n\n\n'],
];

export interface GenerateOptions {
  /** The MAX_LINE_BYTES values the files will meet: lines are made at, below and past each. */
  readonly lineLimits: readonly number[];
  /** Large mixed files (default 3). */
  readonly mainFiles?: number;
  /** Ordinary records per large file (default 150). */
  readonly ordinaryLines?: number;
}

function assemble(r: Random, lines: ReadonlyArray<{ content: Buffer; terminator: Terminator }>, start: Start, end: End): Buffer {
  const parts: Buffer[] = [bytes(start.prefix)];
  const all = [...lines];
  const first = all[0];
  if (first !== undefined && start.firstLine) all[0] = { ...first, content: bytes(start.firstLine(r)) };
  const tail = end.apply(r, all.length);
  const last = all[all.length - 1];
  if (last !== undefined && tail.lastContent !== undefined) all[all.length - 1] = { ...last, content: bytes(tail.lastContent) };
  all.forEach((line, index) => {
    if (line.content.includes(0x0a)) throw new Error(`line ${index + 1} contains an LF`);
    parts.push(line.content);
    if (index < all.length - 1) parts.push(bytes(line.terminator === 'CRLF' ? '\r\n' : '\n'));
  });
  parts.push(bytes(tail.append));
  for (const extra of tail.extraLines ?? []) parts.push(bytes(extra, '\n'));
  return Buffer.concat(parts);
}

function madeLine(made: MadeLine, kind: string): GeneratedLine {
  if (typeof made === 'string' || Buffer.isBuffer(made) || Array.isArray(made)) return { content: bytes(made as Part), terminator: 'LF', kind };
  const { content, terminator } = made as { readonly content: Part; readonly terminator: Terminator };
  return { content: bytes(content), terminator, kind };
}

/**
 * The file set for `seed`: large mixed files (every line maker placed in one of them, cheap ones also
 * drawn again at random, among ordinary records), small files pairing each way a file can start with
 * each way it can end, and tiny edge objects.
 */
export function generateNastyFiles(seed: number, options: GenerateOptions): NastyFile[] {
  const r = new Random(seed);
  const lineMakers = makers(options.lineLimits);
  const mainCount = options.mainFiles ?? 3;
  const ordinary = options.ordinaryLines ?? 150;
  const startList = starts(options.lineLimits);
  const endList = ends(options.lineLimits);
  const files: NastyFile[] = [];

  const placed = r.shuffle([...lineMakers]);
  for (let fileIndex = 0; fileIndex < mainCount; fileIndex += 1) {
    const slots: Array<Maker | undefined> = placed.filter((_, index) => index % mainCount === fileIndex);
    const cheap = lineMakers.filter((maker) => !maker.heavy);
    for (let extra = 0; extra < 25; extra += 1) slots.push(r.pick(cheap));
    for (let index = 0; index < ordinary; index += 1) slots.push(undefined);
    r.shuffle(slots);
    const lines = slots.map((maker, index): GeneratedLine => {
      const seq = index + 1;
      if (maker === undefined) return { content: bytes(ordinaryLine(r, seq)), terminator: r.chance(0.15) ? 'CRLF' : 'LF', kind: 'ordinary' };
      const line = madeLine(maker.make({ r, seq }), maker.kind);
      return line.terminator === 'LF' && r.chance(0.15) ? { ...line, terminator: 'CRLF' } : line;
    });
    const start = r.pick(startList.filter((candidate) => candidate.firstLine === undefined));
    const end = r.pick(endList.filter((candidate) => !candidate.kind.includes('@')));
    files.push({
      name: `mixed-${fileIndex + 1}`,
      bytes: assemble(r, lines, start, end),
      kinds: [...new Set([start.kind, end.kind, ...lines.map((line) => line.kind)])],
    });
  }

  const pairs = Math.max(startList.length, endList.length);
  for (let index = 0; index < pairs; index += 1) {
    const start = startList[index % startList.length] as Start;
    const end = endList[index % endList.length] as End;
    const count = r.int(2, 6);
    const lines = Array.from({ length: count }, (_, line): { content: Buffer; terminator: Terminator } => ({ content: bytes(ordinaryLine(r, line + 1)), terminator: r.chance(0.3) ? 'CRLF' : 'LF' }));
    files.push({ name: `edges-${String(index + 1).padStart(2, '0')}`, bytes: assemble(r, lines, start, end), kinds: [start.kind, end.kind] });
  }

  for (const [name, content] of TINY_FILES) files.push({ name: `tiny-${name}`, bytes: bytes(content), kinds: [`tiny:${name}`] });
  return files;
}

/** Every kind the generator can place, for a coverage check. */
export function allKinds(lineLimits: readonly number[]): string[] {
  return [
    ...makers(lineLimits).map((maker) => maker.kind),
    ...starts(lineLimits).map((start) => start.kind),
    ...ends(lineLimits).map((end) => end.kind),
    ...TINY_FILES.map(([name]) => `tiny:${name}`),
  ];
}
