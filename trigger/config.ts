/**
 * The trigger's settings, read from the Lambda environment. Pure: tests pass a plain object.
 * (The worker's config module is not reused so the bundle stays free of the S3 client.)
 */

export type Environment = Readonly<Record<string, string | undefined>>;

export interface TriggerSettings {
  readonly queueUrl: string;
  /** Case-sensitive, like S3's own suffix filter rules. */
  readonly suffixes: readonly string[];
}

export const DEFAULT_SUFFIXES = ['.jsonl', '.jsonl.gz'] as const;

/** A missing or malformed variable; the message names it, as the worker's does. */
export class TriggerConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, expectation: string, value: string | undefined) {
    const got = value === undefined ? 'it is not set' : `got ${JSON.stringify(value)}`;
    super(`${variable} must be ${expectation}; ${got}`);
    this.name = 'TriggerConfigError';
    this.variable = variable;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function parseQueueUrl(value: string | undefined): string {
  const expectation = 'the ingest queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)';
  const trimmed = value?.trim();
  if (!trimmed) throw new TriggerConfigError('QUEUE_URL', expectation, undefined);
  if (!isHttpUrl(trimmed)) throw new TriggerConfigError('QUEUE_URL', expectation, value);
  return trimmed;
}

function parseSuffixes(value: string | undefined): readonly string[] {
  if (value === undefined || value.trim() === '') return DEFAULT_SUFFIXES;
  const suffixes = value.split(',').map((suffix) => suffix.trim());
  if (suffixes.some((suffix) => suffix === '' || /\s/.test(suffix))) {
    throw new TriggerConfigError('SUFFIXES', 'comma-separated key suffixes such as ".jsonl,.jsonl.gz", none empty or with spaces', value);
  }
  return [...new Set(suffixes)];
}

/** Whether the SDK will send to an endpoint named in the environment (an emulator) rather than AWS's own. */
export function hasEndpointOverride(env: Environment): boolean {
  const configured = (env['AWS_ENDPOINT_URL_SQS'] || env['AWS_ENDPOINT_URL'])?.trim();
  const ignored = env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.trim().toLowerCase() === 'true';
  return Boolean(configured) && !ignored;
}

/** Reads and validates every setting; throws `TriggerConfigError` on the first bad one. */
export function parseTriggerConfig(env: Environment): TriggerSettings {
  return {
    queueUrl: parseQueueUrl(env['QUEUE_URL']),
    suffixes: parseSuffixes(env['SUFFIXES']),
  };
}
