/**
 * The record rules of the data contract: validate, filter, enrich, transform.
 * Pure: a line of text in, its outcome out.
 */

export const REJECT_REASONS = {
  invalidJson: 'invalid_json',
  notAnObject: 'not_an_object',
  missingField: 'missing_field',
  invalidType: 'invalid_type',
  outOfRange: 'out_of_range',
  lineTooLong: 'line_too_long',
} as const;

export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];

export const RECORD_OUTCOMES = ['processed', 'filtered', 'rejected'] as const;
export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];

export interface Rejection {
  readonly outcome: 'rejected';
  readonly reason: RejectReason;
  readonly field?: string;
  readonly message: string;
}

export interface ProcessedRecord {
  readonly outcome: 'processed';
  /** The parsed input with location_id and temp_fahrenheit set, for writers other than JSON Lines. */
  readonly record: Readonly<Record<string, unknown>>;
  readonly unknownDevice: boolean;
}

/** The outcome of a line for a writer that takes records (Parquet). */
export type RecordResult = ProcessedRecord | { readonly outcome: 'filtered' } | Rejection;

/** The outcome of a line for the JSON Lines writer: a processed record comes with its output line. */
export type LineResult = (ProcessedRecord & { readonly output: string }) | { readonly outcome: 'filtered' } | Rejection;

export interface RecordRules {
  /** Records at or below this temperature are filtered out. */
  readonly temperatureThresholdCelsius: number;
  readonly locations: ReadonlyMap<string, string>;
  readonly unknownLocationId: string;
}

const HUMIDITY_MIN = 0;
const HUMIDITY_MAX = 100;

function reject(reason: RejectReason, message: string, field?: string): Rejection {
  return field === undefined ? { outcome: 'rejected', reason, message } : { outcome: 'rejected', reason, field, message };
}

function checkFiniteNumber(record: Record<string, unknown>, field: string): Rejection | number {
  const value = record[field];
  if (value === undefined || value === null) return reject(REJECT_REASONS.missingField, `${field} is missing`, field);
  if (typeof value !== 'number') return reject(REJECT_REASONS.invalidType, `${field} must be a JSON number`, field);
  // JSON has no NaN or Infinity literals, but 1e999 parses to Infinity.
  if (!Number.isFinite(value)) return reject(REJECT_REASONS.outOfRange, `${field} must be finite`, field);
  return value;
}

/** °C to °F, rounded half away from zero to 2 decimals, as on paper: 0.995 °F becomes 1. */
export function toFahrenheit(celsius: number): number {
  const hundredths = ((celsius * 9) / 5 + 32) * 100;
  // The binary arithmetic leaves noise around 1e-12 here; rounding it off at 1e-6 first keeps an exact
  // decimal half a half. Past 1e15 every double is a whole number of hundredths and there is nothing to do.
  const denoised = Math.abs(hundredths) < 1e15 ? Math.round(hundredths * 1e6) / 1e6 : hundredths;
  const rounded = (Math.sign(denoised) * Math.round(Math.abs(denoised))) / 100;
  return rounded === 0 ? 0 : rounded;
}

/**
 * The output line: the input line as written, with the two fields appended before its closing brace.
 * Cheaper than serialising the parsed record again (measured: npm run bench, scenario 1), and just as
 * deterministic. When the input already has a field of either name, it is overwritten through a re-serialisation.
 */
function withAddedFields(line: string, record: Record<string, unknown>, locationId: string, tempFahrenheit: number): string {
  if (Object.hasOwn(record, 'location_id') || Object.hasOwn(record, 'temp_fahrenheit')) {
    return JSON.stringify({ ...record, location_id: locationId, temp_fahrenheit: tempFahrenheit });
  }
  const closingBrace = line.lastIndexOf('}');
  return `${line.slice(0, closingBrace)},"location_id":${JSON.stringify(locationId)},"temp_fahrenheit":${tempFahrenheit}}`;
}

/** Applies the contract to one non-blank line; a processed record gets its two fields. */
export function evaluateRecord(line: string, rules: RecordRules): RecordResult {
  return evaluate(line, rules, false);
}

/** As evaluateRecord, with the JSON line the processed output gets. */
export function evaluateLine(line: string, rules: RecordRules): LineResult {
  return evaluate(line, rules, true);
}

// One body for both, so that the JSON Lines path pays for no intermediate object per record.
function evaluate(line: string, rules: RecordRules, withOutput: true): LineResult;
function evaluate(line: string, rules: RecordRules, withOutput: false): RecordResult;
function evaluate(line: string, rules: RecordRules, withOutput: boolean): LineResult | RecordResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return reject(REJECT_REASONS.invalidJson, 'the line is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject(REJECT_REASONS.notAnObject, 'the line is JSON but not an object');
  }
  const record = parsed as Record<string, unknown>;

  const deviceId = record.device_id;
  if (deviceId === undefined || deviceId === null) return reject(REJECT_REASONS.missingField, 'device_id is missing', 'device_id');
  if (typeof deviceId !== 'string' || deviceId.trim() === '') {
    return reject(REJECT_REASONS.invalidType, 'device_id must be a non-empty string', 'device_id');
  }
  const temperature = checkFiniteNumber(record, 'temperature');
  if (typeof temperature !== 'number') return temperature;
  const humidity = checkFiniteNumber(record, 'humidity');
  if (typeof humidity !== 'number') return humidity;
  if (humidity < HUMIDITY_MIN || humidity > HUMIDITY_MAX) {
    return reject(REJECT_REASONS.outOfRange, `humidity must be within ${HUMIDITY_MIN}..${HUMIDITY_MAX}`, 'humidity');
  }

  if (!(temperature > rules.temperatureThresholdCelsius)) return { outcome: 'filtered' };

  const tempFahrenheit = toFahrenheit(temperature);
  if (!Number.isFinite(tempFahrenheit)) {
    return reject(REJECT_REASONS.outOfRange, 'temperature is too large to convert to °F', 'temperature');
  }
  const knownLocation = rules.locations.get(deviceId);
  const locationId = knownLocation ?? rules.unknownLocationId;
  const unknownDevice = knownLocation === undefined;
  // Before the fields are set: the output line depends on whether the input already had them.
  const output = withOutput ? withAddedFields(line, record, locationId, tempFahrenheit) : undefined;
  record.location_id = locationId;
  record.temp_fahrenheit = tempFahrenheit;
  return output === undefined ? { outcome: 'processed', record, unknownDevice } : { outcome: 'processed', output, record, unknownDevice };
}

/** The JSON line written to the rejected output for one bad input line. */
export function rejectedLine(lineNumber: number, rejection: Rejection, text: string): string {
  return JSON.stringify({
    line: lineNumber,
    reason: rejection.reason,
    ...(rejection.field === undefined ? {} : { field: rejection.field }),
    message: rejection.message,
    text,
  });
}
