/**
 * The trigger's settings, read from the Lambda environment with the worker's settings reader
 * (worker/common/settings.ts, free of the S3 client). Pure: tests pass a plain object.
 */
import { httpUrl, itemList, readSettings, setting, type Environment } from '../worker/common/settings.ts';

export interface TriggerSettings {
  /**
   * QUEUE_URL: the ingest queue.
   * @default - required
   */
  readonly queueUrl: string;
  /**
   * SUFFIXES: the keys forwarded, comma-separated; case-sensitive, like S3's own suffix filter rules.
   * @default DEFAULT_SUFFIXES
   */
  readonly suffixes: readonly string[];
}

export const DEFAULT_SUFFIXES = ['.jsonl', '.jsonl.gz', '.jsonl.zst'] as const;

const TRIGGER_SETTINGS = {
  queueUrl: setting('QUEUE_URL', httpUrl('the ingest queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)'), { required: true }),
  suffixes: setting('SUFFIXES', itemList('comma-separated key suffixes such as ".jsonl,.jsonl.gz,.jsonl.zst", none empty or with spaces'), { default: DEFAULT_SUFFIXES }),
} as const;

/** Whether the SDK will send to an endpoint named in the environment (an emulator) rather than AWS's own. */
export function hasEndpointOverride(env: Environment): boolean {
  // Read as the SDK reads them, not as settings of ours: an unknown value is the SDK's to judge.
  const configured = (env['AWS_ENDPOINT_URL_SQS'] || env['AWS_ENDPOINT_URL'])?.trim();
  const ignored = env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.trim().toLowerCase() === 'true';
  return Boolean(configured) && !ignored;
}

/** Reads and validates every setting; throws `ConfigError` on the first bad one. */
export function parseTriggerConfig(env: Environment): TriggerSettings {
  return readSettings(env, TRIGGER_SETTINGS);
}
