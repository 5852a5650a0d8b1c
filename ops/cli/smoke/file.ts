/**
 * The smoke test's input: one processed, one filtered and one rejected line under a key of its own,
 * and the outputs the data contract says they produce (README "Data contract"), byte for byte. Pure:
 * the time, the random part of the key and the worker's settings are passed in.
 */
import { readSettings } from '../../../worker/common/settings.ts';
import { WORKER_SETTINGS } from '../../../worker/config.ts';
import { toFahrenheit } from '../../../worker/records/fahrenheit.ts';
import { parquetObjectKey, partitionOf } from '../../../worker/output/parquet/partition.ts';

export const SMOKE_KEY_PREFIX = 'smoke/';
/** A device no registry should know, so its location_id is the worker's UNKNOWN_LOCATION_ID. */
export const SMOKE_DEVICE_ID = 'iot-ingest-smoke-test';

/** The worker settings that decide the outputs, with the worker's defaults (README: Running the worker). */
export interface SmokeRules {
  /** @default 10 (TEMPERATURE_THRESHOLD_CELSIUS) */
  readonly temperatureThresholdCelsius: number;
  /** @default 'unknown' (UNKNOWN_LOCATION_ID) */
  readonly unknownLocationId: string;
}

/** The worker's defaults, from its own declarations. */
export const DEFAULT_SMOKE_RULES: SmokeRules = readSettings({}, WORKER_SETTINGS.recordRules);

/** One line of the rejected output, as far as the contract fixes it (the message is free text). */
export interface ExpectedRejection {
  readonly line: number;
  readonly reason: string;
  readonly field: string;
  readonly text: string;
}

export interface SmokeFile {
  readonly key: string;
  /** The object put into the raw bucket: three lines, LF-terminated. */
  readonly body: string;
  readonly lines: { readonly processed: string; readonly filtered: string; readonly rejected: string };
  /** The processed JSON Lines object, exactly. */
  readonly processedOutput: string;
  readonly rejectedOutput: readonly ExpectedRejection[];
  /** Where OUTPUT_FORMAT=parquet puts the processed record, under PARQUET_PREFIX. */
  readonly parquetKeyWithoutPrefix: string;
}

// Away from the threshold on both sides, and with one decimal, so that °F has an exact decimal form.
const PROCESSED_ABOVE_THRESHOLD = 11.5;
const FILTERED_BELOW_THRESHOLD = 5.5;

/** smoke/20261202T063005Z-3f9a0c1d.jsonl: sorts by time, and two runs never share a key. */
export function smokeKey(now: Date, random: string): string {
  if (!/^[0-9a-z]{4,}$/.test(random)) throw new RangeError(`the random part of the key must be 4 or more of [0-9a-z]; got ${JSON.stringify(random)}`);
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${SMOKE_KEY_PREFIX}${stamp}-${random}.jsonl`;
}

function reading(runId: string, timestamp: string, temperature: number, humidity: number | undefined): string {
  // Written by hand, not JSON.stringify of an object, so that the member order and text are fixed here.
  const members = [
    `"device_id":${JSON.stringify(SMOKE_DEVICE_ID)}`,
    `"location":"smoke-test"`,
    `"temperature":${JSON.stringify(temperature)}`,
    ...(humidity === undefined ? [] : [`"humidity":${JSON.stringify(humidity)}`]),
    `"pressure":1013.25`,
    `"timestamp":${JSON.stringify(timestamp)}`,
    `"smoke_run":${JSON.stringify(runId)}`,
  ];
  return `{${members.join(',')}}`;
}

export function buildSmokeFile(key: string, now: Date, rules: SmokeRules = DEFAULT_SMOKE_RULES): SmokeFile {
  const runId = key.slice(key.lastIndexOf('/') + 1).replace(/\.jsonl$/, '');
  const timestamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const processedCelsius = rules.temperatureThresholdCelsius + PROCESSED_ABOVE_THRESHOLD;
  const lines = {
    processed: reading(runId, timestamp, processedCelsius, 40.5),
    filtered: reading(runId, timestamp, rules.temperatureThresholdCelsius - FILTERED_BELOW_THRESHOLD, 40.5),
    // humidity left out: rejected as missing_field, after device_id and temperature passed.
    rejected: reading(runId, timestamp, processedCelsius, undefined),
  };
  const added = `"location_id":${JSON.stringify(rules.unknownLocationId)},"temp_fahrenheit":${toFahrenheit(processedCelsius)}`;
  return {
    key,
    body: `${lines.processed}\n${lines.filtered}\n${lines.rejected}\n`,
    lines,
    processedOutput: `${lines.processed.slice(0, -1)},${added}}\n`,
    rejectedOutput: [{ line: 3, reason: 'missing_field', field: 'humidity', text: lines.rejected }],
    parquetKeyWithoutPrefix: parquetObjectKey({ prefix: '', partition: partitionOf(Date.parse(timestamp)), inputKey: key, part: 1 }),
  };
}
