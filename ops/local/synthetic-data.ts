/**
 * Seeded synthetic sensor data: JSON Lines shaped like data/sample_data.jsonl
 * (the Python json.dumps spacing of the original system), with an optional share of malformed
 * lines. Pure and deterministic: the same options always give the same bytes. No dependencies.
 *
 *   {"device_id": "sensor-0001", "location": "warehouse-A", "temperature": 20.0, "humidity": 55.5, "pressure": 1012.3, "timestamp": "2025-07-11T11:00:00Z"}
 *
 * Values: temperature -5.0..40.0 °C, humidity 20.0..90.0 %, pressure 980.0..1040.0 hPa, all with
 * one decimal; the timestamp advances by one second per record. A device keeps its location.
 */

export interface ReadingsOptions {
  /** Lines to produce (a whole number, 0 or more). */
  readonly records: number;
  /** Distinct devices, `sensor-0001` upwards (a whole number, 1 or more). */
  readonly devices: number;
  /** Any integer; only its low 32 bits matter. */
  readonly seed: number;
  /** Share of malformed lines, 0..1; default 0. */
  readonly malformedRatio?: number;
  /** ISO 8601 time of the first record; default 2025-07-11T11:00:00Z. */
  readonly startTime?: string;
}

/**
 * The ways a line is made malformed. Each one is rejected by the data contract, and each kind
 * is named after the reject reason the worker gives it.
 */
export const MALFORMED_KINDS = ['invalid_json', 'missing_field', 'out_of_range', 'invalid_type'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];
export type LineKind = 'valid' | MalformedKind;

export interface GeneratedLine {
  /** The line, without its newline. */
  readonly line: string;
  readonly kind: LineKind;
}

export const DEFAULT_START_TIME = '2025-07-11T11:00:00Z';

const LOCATIONS = [
  'warehouse-A',
  'warehouse-B',
  'server-room-1',
  'server-room-2',
  'cold-storage-1',
  'loading-dock',
  'office-floor-3',
  'greenhouse-east',
] as const;

/** Fields a missing_field line may lack: the critical ones, so that the line is always rejected. */
const CRITICAL_FIELDS = ['device_id', 'temperature', 'humidity'] as const;

/** mulberry32: a tiny 32-bit PRNG, good enough for test data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number of tenths as a decimal with exactly one fraction digit: -47 → "-4.7", 200 → "20.0". */
function tenths(value: number): string {
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  return `${sign}${Math.floor(magnitude / 10)}.${magnitude % 10}`;
}

function checkOptions(options: ReadingsOptions): { malformedRatio: number; startMs: number } {
  const { records, devices, seed } = options;
  if (!Number.isSafeInteger(records) || records < 0) throw new RangeError(`records must be a whole number >= 0, got ${records}`);
  if (!Number.isSafeInteger(devices) || devices < 1) throw new RangeError(`devices must be a whole number >= 1, got ${devices}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const malformedRatio = options.malformedRatio ?? 0;
  if (!(malformedRatio >= 0 && malformedRatio <= 1)) throw new RangeError(`malformedRatio must be within 0..1, got ${malformedRatio}`);
  const startTime = options.startTime ?? DEFAULT_START_TIME;
  const startMs = Date.parse(startTime);
  if (Number.isNaN(startMs)) throw new RangeError(`startTime must be an ISO 8601 time, got ${JSON.stringify(startTime)}`);
  return { malformedRatio, startMs };
}

/** "2025-07-11T11:00:00Z": seconds precision unless the start time had milliseconds. */
function isoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Every line with what it is: valid, or which kind of malformed. */
export function* generateLines(options: ReadingsOptions): Generator<GeneratedLine> {
  const { malformedRatio, startMs } = checkOptions(options);
  const { records, devices } = options;
  const random = mulberry32(options.seed);
  const pick = (count: number) => Math.floor(random() * count);
  const idWidth = Math.max(4, String(devices).length);

  for (let index = 0; index < records; index += 1) {
    // A fixed number of draws per record keeps each record's values independent of the ratio.
    const device = 1 + pick(devices);
    const temperature = tenths(-50 + pick(451));
    const humidity = tenths(200 + pick(701));
    const pressure = tenths(9800 + pick(601));
    const malformedDraw = random();
    const kindDraw = random();
    const detailDraw = random();

    const fields: Array<[string, string]> = [
      ['device_id', `"sensor-${String(device).padStart(idWidth, '0')}"`],
      ['location', `"${LOCATIONS[(device - 1) % LOCATIONS.length]}"`],
      ['temperature', temperature],
      ['humidity', humidity],
      ['pressure', pressure],
      ['timestamp', `"${isoTime(startMs + index * 1000)}"`],
    ];
    const kind: LineKind =
      malformedDraw < malformedRatio ? (MALFORMED_KINDS[Math.floor(kindDraw * MALFORMED_KINDS.length)] ?? 'invalid_json') : 'valid';

    let line: string;
    switch (kind) {
      case 'valid':
        line = render(fields);
        break;
      case 'invalid_json': {
        // Any proper prefix of a JSON object is invalid JSON: cut 1..40 characters off the end.
        const whole = render(fields);
        line = whole.slice(0, whole.length - 1 - Math.floor(detailDraw * 40));
        break;
      }
      case 'missing_field': {
        const missing = CRITICAL_FIELDS[Math.floor(detailDraw * CRITICAL_FIELDS.length)];
        line = render(fields.filter(([name]) => name !== missing));
        break;
      }
      case 'out_of_range': {
        // Above 100 or below 0: 100.1..150.0 or -50.0..-0.1.
        const value = detailDraw < 0.5 ? 1001 + Math.floor(detailDraw * 2 * 500) : -1 - Math.floor((detailDraw - 0.5) * 2 * 500);
        line = render(fields.map(([name, text]) => [name, name === 'humidity' ? tenths(value) : text]));
        break;
      }
      case 'invalid_type':
        line = render(fields.map(([name, text]) => [name, name === 'temperature' ? `"${text}"` : text]));
        break;
    }
    yield { line, kind };
  }
}

function render(fields: ReadonlyArray<readonly [string, string]>): string {
  return `{${fields.map(([name, text]) => `"${name}": ${text}`).join(', ')}}`;
}

/** One line (without its newline) per record. */
export function* generateReadings(options: ReadingsOptions): Generator<string> {
  for (const { line } of generateLines(options)) yield line;
}

const BATCH_LINES = 16_384;

/** The whole file: every line followed by '\n' (empty for 0 records). Built in batches, never as one giant string. */
export function generateJsonl(options: ReadingsOptions): Buffer {
  const buffers: Buffer[] = [];
  let batch: string[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    batch.push('');
    buffers.push(Buffer.from(batch.join('\n'), 'utf8'));
    batch = [];
  };
  for (const line of generateReadings(options)) {
    batch.push(line);
    if (batch.length >= BATCH_LINES) flush();
  }
  flush();
  return Buffer.concat(buffers);
}
