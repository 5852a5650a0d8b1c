/**
 * The worker's settings, read once from the environment into one typed object.
 * Every variable is listed in README.md; `parseConfig` is pure so it can be tested without a process.
 */

import { parseRegistrySource, type RegistrySource } from './records/device-registry.ts';
import { redactForLog } from './common/redact.ts';

export const OUTPUT_FORMATS = ['jsonl', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Environment = Readonly<Record<string, string | undefined>>;

export interface WorkerConfig {
  readonly aws: {
    readonly region: string;
    /** Only for emulators; unset on AWS. */
    readonly endpoint: string | undefined;
    readonly forcePathStyle: boolean;
    readonly idleTimeoutSeconds: number;
  };
  readonly queueUrl: string;
  /** Where poison messages go at once; when unset, read from the queue's redrive policy at start. */
  readonly deadLetterQueueUrl: string | undefined;
  readonly output: {
    readonly processedBucket: string;
    readonly processedPrefix: string;
    readonly rejectedBucket: string;
    readonly rejectedPrefix: string;
    /** jsonl: processed records as JSON Lines under PROCESSED_PREFIX; parquet: Parquet under PARQUET_PREFIX/dt=…/. */
    readonly format: OutputFormat;
    readonly parquetPrefix: string;
  };
  readonly pipeline: {
    readonly temperatureThresholdCelsius: number;
    readonly unknownLocationId: string;
    /** A longer line is rejected as line_too_long; bounds the memory one line can take. */
    readonly maxLineBytes: number;
    /** A larger object (stored, or decompressed) fails for good as object_too_large. */
    readonly maxObjectBytes: number;
    /** A file with more non-blank lines fails for good as too_many_records. */
    readonly maxRecordsPerFile: number;
  };
  readonly deviceRegistry: {
    readonly source: RegistrySource;
    readonly refreshSeconds: number;
  };
  readonly consumer: {
    readonly maxFilesInFlight: number;
    readonly waitTimeSeconds: number;
    readonly visibilityTimeoutSeconds: number;
    readonly heartbeatIntervalSeconds: number;
    readonly retryBackoffBaseSeconds: number;
    readonly retryBackoffMaxSeconds: number;
    /** How often the queue and DLQ depth gauges are refreshed; 0 turns them off. */
    readonly queueMetricsIntervalSeconds: number;
  };
  readonly upload: {
    readonly partSizeBytes: number;
    readonly queueSize: number;
  };
  readonly shutdownGraceSeconds: number;
  /** ECS task scale-in protection while messages are held; off outside ECS (no agent URI). */
  readonly taskProtection: {
    readonly agentUri: string | undefined;
    /** @default 60 */
    readonly expiresInMinutes: number;
    /** @default 10 */
    readonly releaseDelaySeconds: number;
    /**
     * Protected this long without a break, the task stops receiving, finishes its files and removes
     * its protection, so that a deployment or scale-in can stop it; 0 = never. @default 1800
     */
    readonly maxHoldSeconds: number;
    /** Then it stays idle and unprotected this long before it receives again. @default 60 */
    readonly yieldIdleSeconds: number;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
  };
  readonly logLevel: string;
}

/** A setting that is missing or malformed; its message is the one line the process prints before it exits. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, expectation: string, value: string | undefined) {
    const got = value === undefined ? 'it is not set' : `got ${JSON.stringify(redactForLog(value))}`;
    super(`${variable} must be ${expectation}; ${got}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const MEBIBYTE = 1024 * 1024;

function checkHttpUrl(name: string, expectation: string, value: string): string {
  try {
    const { protocol } = new URL(value);
    if (protocol === 'http:' || protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new ConfigError(name, expectation, value);
}

class EnvironmentReader {
  private readonly env: Environment;

  constructor(env: Environment) {
    this.env = env;
  }

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  required(name: string, expectation: string): string {
    const value = this.raw(name);
    if (value === undefined) throw new ConfigError(name, expectation, undefined);
    return value;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** Unlike `string`, keeps an explicitly empty value: an empty prefix is a real choice. */
  prefix(name: string, fallback: string): string {
    const value = this.env[name];
    if (value === undefined) return fallback;
    if (value.startsWith('/')) throw new ConfigError(name, 'an S3 key prefix that does not start with "/"', value);
    return value;
  }

  requiredUrl(name: string, expectation: string): string {
    return checkHttpUrl(name, expectation, this.required(name, expectation));
  }

  optionalUrl(name: string, expectation: string): string | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : checkHttpUrl(name, expectation, value);
  }

  integer(name: string, fallback: number, min: number, max: number, unit = ''): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      throw new ConfigError(name, `a whole number${unit} from ${min} to ${max}`, value);
    }
    return parsed;
  }

  number(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new ConfigError(name, 'a finite number', value);
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(name, '"true" or "false"', this.raw(name));
  }

  registrySource(name: string): RegistrySource {
    const value = this.string(name, 'builtin');
    if (value.startsWith('s3:') && !/^s3:\/\/[^/]+\/.+$/.test(value)) {
      throw new ConfigError(name, '"builtin", a JSON file path or s3://bucket/key', value);
    }
    return parseRegistrySource(value);
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) throw new ConfigError(name, `one of ${allowed.join(', ')}`, value);
    return match;
  }
}

/** Reads and validates every setting; throws `ConfigError` on the first bad one. */
export function parseConfig(env: Environment): WorkerConfig {
  const read = new EnvironmentReader(env);

  const region = read.optional('AWS_REGION') ?? read.optional('AWS_DEFAULT_REGION');
  if (region === undefined) throw new ConfigError('AWS_REGION', 'an AWS region such as eu-west-1', undefined);
  const endpoint = read.optionalUrl('AWS_ENDPOINT_URL', 'an http(s) URL');
  const queueUrl = read.requiredUrl('QUEUE_URL', 'the ingest queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)');
  const deadLetterQueueUrl = read.optionalUrl('DLQ_URL', 'the dead-letter queue URL');

  const processedBucket = read.required('PROCESSED_BUCKET', 'the name of the bucket for processed output');
  const output = {
    processedBucket,
    processedPrefix: read.prefix('PROCESSED_PREFIX', ''),
    rejectedBucket: read.string('REJECTED_BUCKET', processedBucket),
    rejectedPrefix: read.prefix('REJECTED_PREFIX', 'rejected/'),
    format: read.oneOf('OUTPUT_FORMAT', 'jsonl', OUTPUT_FORMATS),
    parquetPrefix: read.prefix('PARQUET_PREFIX', 'parquet/'),
  };
  if (output.format === 'parquet' && output.processedBucket === output.rejectedBucket && output.parquetPrefix.startsWith(output.rejectedPrefix)) {
    throw new ConfigError('PARQUET_PREFIX', 'a prefix that does not start with REJECTED_PREFIX when both outputs share a bucket', output.parquetPrefix);
  }
  // Sharing a bucket, rejected output needs a key space of its own; raw keys that would still
  // land in it are refused one by one (see outputKeys).
  if (output.processedBucket === output.rejectedBucket && output.processedPrefix.startsWith(output.rejectedPrefix)) {
    throw new ConfigError(
      'REJECTED_PREFIX',
      'a non-empty prefix that PROCESSED_PREFIX does not start with, when both outputs share a bucket',
      output.rejectedPrefix,
    );
  }

  const visibilityTimeoutSeconds = read.integer('VISIBILITY_TIMEOUT_SECONDS', 60, 2, 43_200, ' of seconds');
  const heartbeatIntervalSeconds = read.integer(
    'HEARTBEAT_INTERVAL_SECONDS',
    Math.max(1, Math.floor(visibilityTimeoutSeconds / 3)),
    1,
    visibilityTimeoutSeconds - 1,
    ' of seconds (below VISIBILITY_TIMEOUT_SECONDS)',
  );
  const retryBackoffBaseSeconds = read.integer('RETRY_BACKOFF_BASE_SECONDS', 10, 0, 43_200, ' of seconds');

  const waitTimeSeconds = read.integer('WAIT_TIME_SECONDS', 20, 0, 20, ' of seconds');
  const idleTimeoutSeconds = read.integer('AWS_IDLE_TIMEOUT_SECONDS', 60, 1, 3_600, ' of seconds');
  if (idleTimeoutSeconds <= waitTimeSeconds) {
    throw new ConfigError('AWS_IDLE_TIMEOUT_SECONDS', `more seconds than WAIT_TIME_SECONDS (${waitTimeSeconds}), or long polls would time out`, String(idleTimeoutSeconds));
  }

  return {
    aws: {
      region,
      endpoint,
      forcePathStyle: read.boolean('S3_FORCE_PATH_STYLE', endpoint !== undefined),
      idleTimeoutSeconds,
    },
    queueUrl,
    deadLetterQueueUrl,
    output,
    pipeline: {
      temperatureThresholdCelsius: read.number('TEMPERATURE_THRESHOLD_CELSIUS', 10),
      unknownLocationId: read.string('UNKNOWN_LOCATION_ID', 'unknown'),
      // At least the 1 KiB prefix an overlong line keeps in its rejected record.
      maxLineBytes: read.integer('MAX_LINE_BYTES', MEBIBYTE, 1024, 256 * MEBIBYTE, ' of bytes'),
      maxObjectBytes: read.integer('MAX_OBJECT_BYTES', 10 * 1024 * MEBIBYTE, 1, Number.MAX_SAFE_INTEGER, ' of bytes'),
      maxRecordsPerFile: read.integer('MAX_RECORDS_PER_FILE', 100_000_000, 1, Number.MAX_SAFE_INTEGER),
    },
    deviceRegistry: {
      source: read.registrySource('DEVICE_REGISTRY'),
      refreshSeconds: read.integer('DEVICE_REGISTRY_REFRESH_SECONDS', 300, 0, 86_400, ' of seconds (0 = never)'),
    },
    consumer: {
      maxFilesInFlight: read.integer('MAX_FILES_IN_FLIGHT', 8, 1, 256),
      waitTimeSeconds,
      visibilityTimeoutSeconds,
      heartbeatIntervalSeconds,
      retryBackoffBaseSeconds,
      retryBackoffMaxSeconds: read.integer(
        'RETRY_BACKOFF_MAX_SECONDS',
        Math.max(300, retryBackoffBaseSeconds),
        retryBackoffBaseSeconds,
        43_200,
        ' of seconds (at least RETRY_BACKOFF_BASE_SECONDS)',
      ),
      queueMetricsIntervalSeconds: read.integer('QUEUE_METRICS_INTERVAL_SECONDS', 30, 0, 3_600, ' of seconds (0 = off)'),
    },
    upload: {
      partSizeBytes: read.integer('UPLOAD_PART_SIZE_MIB', 5, 5, 512, ' of MiB') * MEBIBYTE,
      queueSize: read.integer('UPLOAD_QUEUE_SIZE', 2, 1, 16),
    },
    shutdownGraceSeconds: read.integer('SHUTDOWN_GRACE_SECONDS', 25, 0, 3_600, ' of seconds'),
    taskProtection: {
      agentUri: read.optionalUrl('ECS_AGENT_URI', 'the ECS container agent URI (set by ECS)'),
      expiresInMinutes: read.integer('TASK_PROTECTION_EXPIRES_MINUTES', 60, 1, 2_880, ' of minutes'),
      releaseDelaySeconds: read.integer('TASK_PROTECTION_RELEASE_DELAY_SECONDS', 10, 0, 3_600, ' of seconds'),
      maxHoldSeconds: read.integer('TASK_PROTECTION_MAX_HOLD_SECONDS', 1_800, 0, 172_800, ' of seconds (0 = never)'),
      yieldIdleSeconds: read.integer('TASK_PROTECTION_YIELD_IDLE_SECONDS', 60, 1, 3_600, ' of seconds'),
    },
    http: {
      host: read.string('HTTP_HOST', '0.0.0.0'),
      port: read.integer('HTTP_PORT', 8080, 0, 65_535),
    },
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
  };
}
