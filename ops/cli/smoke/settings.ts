/**
 * The smoke test's own settings, beside the connection ones of settings.ts: the worker settings that
 * decide its expected outputs, where its metrics are read, which alarm it fires. Pure: the environment
 * is passed in, and a malformed value is a UsageError naming it.
 */
import { WORKER_SETTINGS } from '../../../worker/config.ts';
import { ConfigError, portNumber, readSettings, setting } from '../../../worker/common/settings.ts';
import type { Environment } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { isHttpUrl } from '../settings.ts';
import type { AlarmLocator } from './alarm.ts';
import type { SmokeRules } from './file.ts';
import type { MetricsSource } from './run.ts';
import { DEFAULT_STACK_NAME, STACK_OUTPUTS, type StackOutputs } from './stack-outputs.ts';

/** The worker's HTTP port under npm start (README: Running the worker). */
export const LOCAL_WORKER_PORT = 8080;
/** The npm start worker's /metrics port; 0 (a free port) cannot be scraped from outside. */
const LOCAL_WORKER_PORT_SETTING = setting('HTTP_PORT', portNumber(1), { default: LOCAL_WORKER_PORT });

/** The worker's own declaration of a setting read as the worker reads it; a malformed value is a UsageError. */
function asWorker<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** TEMPERATURE_THRESHOLD_CELSIUS and UNKNOWN_LOCATION_ID as the worker reads them, with its defaults. */
export function smokeRules(env: Environment): SmokeRules {
  return asWorker(() => readSettings(env, WORKER_SETTINGS.recordRules));
}

/** PARQUET_PREFIX as the worker reads it: an empty value is a real choice. */
export function parquetPrefix(env: Environment): string {
  return asWorker(() => WORKER_SETTINGS.output.parquetPrefix.read(env));
}

function httpUrl(text: string, label: string): string {
  if (!isHttpUrl(text)) throw new UsageError(`${label} must be an http(s) URL; got ${JSON.stringify(text)}`);
  return text;
}

/**
 * --metrics-url when given (it must answer); with --local the npm start worker on HTTP_PORT (falling
 * back to the queue when it does not answer); otherwise the ingest queue.
 */
export function metricsSource(metricsUrl: string | undefined, local: boolean, env: Environment): MetricsSource {
  if (metricsUrl !== undefined) return { kind: 'prometheus', url: httpUrl(metricsUrl, '--metrics-url'), explicit: true };
  if (!local) return { kind: 'queue', why: 'no --metrics-url' };
  const port = asWorker(() => LOCAL_WORKER_PORT_SETTING.read(env));
  return { kind: 'prometheus', url: `http://127.0.0.1:${port}/metrics`, explicit: false };
}

export interface AlarmChoice {
  readonly alarm: boolean;
  readonly alarmName?: string | undefined;
  readonly stack?: string | undefined;
  readonly local: boolean;
  /** True when the SDK talks to AWS itself (no endpoint of one's own). */
  readonly onAws: boolean;
}

/** Why the alarm step is skipped, or how to find the alarm: a name (flag, then output), the alarm topic, the stack's name. */
export function alarmLocator(choice: AlarmChoice, outputs: StackOutputs | undefined): { skip: string } | { locator: AlarmLocator } {
  if (!choice.alarm) return { skip: '--no-alarm' };
  if (choice.local) return { skip: '--local: there is no CloudWatch locally' };
  if (!choice.onAws) return { skip: 'an endpoint of its own (--endpoint, AWS_ENDPOINT_URL) has no CloudWatch' };
  const name = choice.alarmName ?? outputs?.values[STACK_OUTPUTS.alarmName];
  if (name !== undefined) return { locator: { kind: 'name', name } };
  const topicArn = outputs?.values[STACK_OUTPUTS.alarmTopicArn];
  if (topicArn !== undefined) return { locator: { kind: 'topic', topicArn } };
  return { locator: { kind: 'stack', stackName: choice.stack ?? outputs?.stackName ?? DEFAULT_STACK_NAME } };
}

