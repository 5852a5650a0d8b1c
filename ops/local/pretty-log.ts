/**
 * The worker's pino JSON lines as one readable line each, for a person at a terminal:
 *
 *   12:03:04.123 INFO  file processed  s3://iot-raw/samples/sample_data.jsonl  5 processed, 0 filtered, 0 rejected  14 ms
 *
 * JSON stays the format wherever a program reads the output (a pipe, a file, a log collector).
 */

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `auto`: pretty on a terminal, JSON otherwise. */
export function resolveLogFormat(setting: LogFormat, stdoutIsTerminal: boolean): 'pretty' | 'json' {
  if (setting !== 'auto') return setting;
  return stdoutIsTerminal ? 'pretty' : 'json';
}

/** Colour on a terminal unless NO_COLOR (https://no-color.org) is set to anything. */
export function useColor(stdoutIsTerminal: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return stdoutIsTerminal && (env['NO_COLOR'] ?? '') === '';
}

export interface PrettyOptions {
  readonly color: boolean;
}

const LEVELS: Readonly<Record<number, { readonly label: string; readonly color: string }>> = {
  10: { label: 'TRACE', color: '90' },
  20: { label: 'DEBUG', color: '36' },
  30: { label: 'INFO ', color: '32' },
  40: { label: 'WARN ', color: '33' },
  50: { label: 'ERROR', color: '31' },
  60: { label: 'FATAL', color: '1;31' },
};

/** On every line, or only for a machine: the JSON output keeps them. */
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'outputs', 'bytesRead', 'bytesWritten', 'gzip', 'stack']);
/** Shown only when not zero: a zero says nothing here. */
const SHOWN_WHEN_NOT_ZERO = new Set(['unknownDevices']);
/** Rendered by their own rule, in this order, before the other fields. */
const LEADING_FIELDS = new Set(['bucket', 'key', 'records', 'rejectedByReason', 'durationMs', 'outcome']);

type Fields = Readonly<Record<string, unknown>>;

const isPlainObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

function paint(color: boolean, code: string, text: string): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Local wall-clock time, HH:MM:SS.mmm. */
function clockTime(epochMs: number): string {
  const time = new Date(epochMs);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, '0')}`;
}

/** A value as a reader wants it: plain text when it has no spaces, quotes or '=', else JSON. */
function scalar(value: unknown): string {
  if (typeof value === 'string') return value !== '' && !/[\s"=]/.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)) return value.map(scalar).join(',');
  return JSON.stringify(value) ?? String(value);
}

function errorText(error: unknown): string {
  if (isPlainObject(error) && typeof error['message'] === 'string') return error['message'];
  return typeof error === 'string' ? error : scalar(error);
}

/** The fields that tell what happened to a file: where, the three counts, the reject reasons, how long. */
function leadingParts(fields: Fields): string[] {
  const parts: string[] = [];
  const { bucket, key, records, rejectedByReason, durationMs, outcome } = fields;
  if (typeof key === 'string') parts.push(typeof bucket === 'string' ? `s3://${bucket}/${key}` : `key=${scalar(key)}`);
  else if (bucket !== undefined) parts.push(`bucket=${scalar(bucket)}`);
  if (outcome !== undefined && outcome !== 'succeeded') parts.push(`outcome=${scalar(outcome)}`);
  if (isPlainObject(records)) parts.push(Object.entries(records).map(([name, count]) => `${scalar(count)} ${name}`).join(', '));
  if (isPlainObject(rejectedByReason) && Object.keys(rejectedByReason).length > 0) {
    parts.push(`(${Object.entries(rejectedByReason).map(([reason, count]) => `${reason} ${scalar(count)}`).join(', ')})`);
  }
  if (typeof durationMs === 'number') parts.push(`${durationMs} ms`);
  return parts;
}

function otherParts(fields: Fields, color: boolean): string[] {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (HIDDEN_FIELDS.has(name) || LEADING_FIELDS.has(name) || name === 'err' || value === undefined) continue;
    if (SHOWN_WHEN_NOT_ZERO.has(name) && value === 0) continue;
    if ((isPlainObject(value) && Object.keys(value).length === 0) || (Array.isArray(value) && value.length === 0)) continue;
    parts.push(`${paint(color, '2', `${name}=`)}${scalar(value)}`);
  }
  if (fields['err'] !== undefined) parts.push(`${paint(color, '2', 'error:')} ${errorText(fields['err'])}`);
  return parts;
}

/** One pino JSON line (without its newline) as one readable line; a line that is not a JSON object is kept as it is. */
export function formatLogLine(line: string, options: PrettyOptions): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  if (!isPlainObject(parsed)) return line;
  const { color } = options;
  const level = typeof parsed['level'] === 'number' ? LEVELS[parsed['level']] : undefined;
  const time = typeof parsed['time'] === 'number' ? clockTime(parsed['time']) : undefined;
  const message = typeof parsed['msg'] === 'string' ? parsed['msg'] : '';
  const head = [
    ...(time === undefined ? [] : [paint(color, '2', time)]),
    level === undefined ? scalar(parsed['level'] ?? '') : paint(color, level.color, level.label),
    message,
  ].join(' ');
  const parts = [...leadingParts(parsed), ...otherParts(parsed, color)];
  return parts.length === 0 ? head : `${head}  ${parts.join('  ')}`;
}

/** A pino destination that writes each JSON line it gets to `out` as a readable line. */
export function prettyDestination(out: { write(text: string): unknown }, options: PrettyOptions): { write(chunk: string): void } {
  return {
    write(chunk: string): void {
      const lines = chunk.split('\n');
      if (lines.at(-1) === '') lines.pop();
      out.write(lines.map((line) => `${formatLogLine(line, options)}\n`).join(''));
    },
  };
}
