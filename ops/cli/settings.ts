/**
 * Where a command works: endpoint, region, queues and buckets, from flags or the worker's
 * environment variables, or the `npm start` stack with `--local`. Pure: the environment is passed in,
 * and a missing or malformed setting is a `UsageError` naming both the flag and the variable.
 */
import type { AwsClientOptions } from '../../worker/common/aws-clients.ts';
import { ConfigError, portNumber, setting, type Setting } from '../../worker/common/settings.ts';
import { WORKER_SETTINGS } from '../../worker/config.ts';
import type { SourceActionSettings } from '../../worker/after-success/source-action.ts';
import type { OutputLocation } from '../../worker/output/output-keys.ts';
import { ACCOUNT_ID, parseSources, type Source } from '../../worker/sources.ts';
import { DEFAULT_LOCAL_NAMES } from '../local/resources.ts';
import type { Environment } from './context.ts';
import { UsageError } from './exit-codes.ts';
import type { RawSide } from './object-sweep/sweep-plan.ts';

/** Each setting's flag and variable; a flag wins over its variable. */
export const SETTINGS = {
  endpoint: { flag: '--endpoint', variable: 'AWS_ENDPOINT_URL', what: 'endpoint URL' },
  region: { flag: '--region', variable: 'AWS_REGION', what: 'AWS region' },
  queueUrl: { flag: '--queue-url', variable: 'QUEUE_URL', what: 'ingest queue URL' },
  dlqUrl: { flag: '--dlq-url', variable: 'DLQ_URL', what: 'dead-letter queue URL' },
  rawBucket: { flag: '--raw-bucket', variable: 'RAW_BUCKET', what: 'raw bucket' },
  processedBucket: { flag: '--processed-bucket', variable: 'PROCESSED_BUCKET', what: 'processed bucket' },
  processedPrefix: { flag: '--processed-prefix', variable: 'PROCESSED_PREFIX', what: 'processed key prefix' },
  sources: { flag: '--sources', variable: 'SOURCES', what: 'raw sources, a JSON array of {bucket, prefix?, outputPrefix?, expectedBucketOwner?}' },
} as const;

export type SettingName = keyof typeof SETTINGS;

export type ConnectionFlags = { readonly local?: boolean } & { readonly [name in SettingName]?: string };

export const LOCAL_DEFAULTS = { port: 4566, region: 'us-east-1', portVariable: 'LOCAL_EMULATOR_PORT' } as const;

const LOCAL_EMULATOR_PORT = setting(LOCAL_DEFAULTS.portVariable, portNumber(1), { default: LOCAL_DEFAULTS.port });

/** A queue given by URL, or (with --local) by name, to be looked up with GetQueueUrl. */
export type QueueLocator = { readonly url: string } | { readonly name: string };

/** The DLQ named directly, or to be read from the ingest queue's redrive policy. */
export type DeadLetterQueueLocator = QueueLocator | { readonly fromRedrivePolicyOf: QueueLocator };

export interface Connection {
  readonly aws: AwsClientOptions;
  readonly local: boolean;
}

const LOCAL_HINT = ' (or pass --local for the npm start stack)';

function envValue(env: Environment, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === '' ? undefined : value;
}

/**
 * What `npm start` sets for its worker whatever the environment says; the output settings
 * (PROCESSED_BUCKET, the prefixes) it takes from the environment, and so does --local.
 */
const FIXED_BY_LOCAL_STACK: ReadonlySet<SettingName> = new Set(['endpoint', 'region', 'queueUrl', 'dlqUrl', 'rawBucket']);

/** The flag's value, else the variable's (unless --local fixes the setting). */
function lookup(flags: ConnectionFlags, env: Environment, name: SettingName): string | undefined {
  const flagged = flags[name]?.trim();
  if (flagged !== undefined && flagged !== '') return flagged;
  if (flags.local === true && FIXED_BY_LOCAL_STACK.has(name)) return undefined;
  return envValue(env, SETTINGS[name].variable);
}

function missing(name: SettingName, alternative = ''): UsageError {
  const { flag, variable, what } = SETTINGS[name];
  return new UsageError(`no ${what}: pass ${flag} or set ${variable}${alternative}${LOCAL_HINT}`);
}

/** Whether `text` is an absolute http: or https: URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function checkHttpUrl(name: SettingName, value: string): string {
  if (isHttpUrl(value)) return value;
  const { flag, variable, what } = SETTINGS[name];
  throw new UsageError(`${flag} / ${variable} must be an http(s) URL (the ${what}); got ${JSON.stringify(value)}`);
}

/** A setting with no flag, read as the worker or `npm start` reads it; a bad value is a usage error. */
function variableOnly<T>(env: Environment, declared: Setting<T>): T {
  try {
    return declared.read(env);
  } catch (error) {
    throw error instanceof ConfigError ? new UsageError(error.message) : error;
  }
}

function localEndpoint(env: Environment): string {
  return `http://127.0.0.1:${variableOnly(env, LOCAL_EMULATOR_PORT)}`;
}

/** Endpoint and region; on AWS the endpoint stays unset so the SDK picks the real ones. */
export function resolveConnection(flags: ConnectionFlags, env: Environment): Connection {
  const local = flags.local === true;
  const flaggedEndpoint = lookup(flags, env, 'endpoint');
  const endpoint = flaggedEndpoint !== undefined ? checkHttpUrl('endpoint', flaggedEndpoint) : local ? localEndpoint(env) : undefined;
  const region = lookup(flags, env, 'region') ?? (local ? LOCAL_DEFAULTS.region : envValue(env, 'AWS_DEFAULT_REGION'));
  if (region === undefined) throw missing('region');
  const forcePathStyle = variableOnly(env, WORKER_SETTINGS.aws.forcePathStyle) ?? endpoint !== undefined;
  return { aws: { region, endpoint, forcePathStyle }, local };
}

export function resolveQueue(flags: ConnectionFlags, env: Environment): QueueLocator {
  const url = lookup(flags, env, 'queueUrl');
  if (url !== undefined) return { url: checkHttpUrl('queueUrl', url) };
  if (flags.local === true) return { name: DEFAULT_LOCAL_NAMES.queueName };
  throw missing('queueUrl');
}

/** The DLQ by URL; else found through the ingest queue's redrive policy, as the worker does. */
export function resolveDeadLetterQueue(flags: ConnectionFlags, env: Environment): DeadLetterQueueLocator {
  const url = lookup(flags, env, 'dlqUrl');
  if (url !== undefined) return { url: checkHttpUrl('dlqUrl', url) };
  if (flags.local === true) return { name: DEFAULT_LOCAL_NAMES.dlqName };
  const queueUrl = lookup(flags, env, 'queueUrl');
  if (queueUrl !== undefined) return { fromRedrivePolicyOf: { url: checkHttpUrl('queueUrl', queueUrl) } };
  throw missing('dlqUrl', ', or give the ingest queue (--queue-url or QUEUE_URL) to find it from its redrive policy');
}

export function resolveBucket(flags: ConnectionFlags, env: Environment, name: 'rawBucket' | 'processedBucket'): string {
  const bucket = lookup(flags, env, name);
  if (bucket !== undefined) return bucket;
  if (flags.local === true) return DEFAULT_LOCAL_NAMES[name];
  throw missing(name);
}

function prefixSetting(value: string | undefined, label: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (value.startsWith('/')) throw new UsageError(`${label} must be an S3 key prefix that does not start with "/"; got ${JSON.stringify(value)}`);
  return value;
}

/** SOURCES (or --sources) as the worker reads it; undefined when unset. */
export function resolveSources(flags: ConnectionFlags, env: Environment): readonly Source[] | undefined {
  const json = lookup(flags, env, 'sources');
  if (json === undefined) return undefined;
  try {
    return parseSources(json);
  } catch (error) {
    throw new UsageError(`${SETTINGS.sources.flag} / ${SETTINGS.sources.variable}: ${(error as Error).message}`);
  }
}

/**
 * The raw side of a sweep: SOURCES, and the bucket named for this run with its owner. With SOURCES only
 * --raw-bucket names a bucket (RAW_BUCKET is the single-bucket setting SOURCES replaces); without, the raw bucket as always.
 */
export function resolveRawSide(flags: ConnectionFlags & { readonly expectedBucketOwner?: string }, env: Environment): RawSide {
  const sources = resolveSources(flags, env);
  const owner = flags.expectedBucketOwner?.trim();
  if (owner !== undefined && !ACCOUNT_ID.test(owner)) throw new UsageError(`--expected-bucket-owner must be a 12-digit AWS account id; got ${JSON.stringify(owner)}`);
  const flagged = flags.rawBucket?.trim();
  const bucket = sources === undefined ? resolveBucket(flags, env, 'rawBucket') : flagged === '' ? undefined : flagged;
  return { sources, bucket, expectedBucketOwner: owner };
}

/** Where the worker writes a raw key's outputs, with the worker's defaults (README: Running the worker). */
export function resolveOutputLocation(flags: ConnectionFlags, env: Environment): OutputLocation {
  const processedBucket = resolveBucket(flags, env, 'processedBucket');
  // Unlike other settings an empty prefix is a real choice, so only an absent one takes the default.
  const processedPrefix = flags.processedPrefix ?? env[SETTINGS.processedPrefix.variable];
  return {
    processedBucket,
    processedPrefix: prefixSetting(processedPrefix, `${SETTINGS.processedPrefix.flag} / PROCESSED_PREFIX`, ''),
    rejectedBucket: variableOnly(env, WORKER_SETTINGS.output.rejectedBucket) ?? processedBucket,
    rejectedPrefix: variableOnly(env, WORKER_SETTINGS.output.rejectedPrefix),
  };
}

/** OUTPUT_FORMAT as the worker reads it (default jsonl): which outputs a raw object has. */
export function resolveOutputFormat(env: Environment): 'jsonl' | 'parquet' {
  return variableOnly(env, WORKER_SETTINGS.output.format);
}

/**
 * SOURCE_AFTER_SUCCESS and the archive as the worker reads them: with `move`, the copies it puts under
 * SOURCE_ARCHIVE_PREFIX (in the raw bucket, unless SOURCE_ARCHIVE_BUCKET names another) are not raw objects to process.
 */
export function resolveSourceAction(env: Environment): SourceActionSettings {
  return {
    mode: variableOnly(env, WORKER_SETTINGS.afterSuccess.mode),
    archive: { bucket: variableOnly(env, WORKER_SETTINGS.afterSuccess.archiveBucket), prefix: variableOnly(env, WORKER_SETTINGS.afterSuccess.archivePrefix) },
  };
}
