/**
 * The worker's settings, read once from the environment into one typed object. Each variable is
 * declared once in WORKER_SETTINGS (and listed in README.md); `parseConfig` is pure so it can be
 * tested without a process.
 */

import { parseRegistrySource, type RegistrySource } from './records/device-registry.ts';
import { FILES_IN_FLIGHT_MODES, type FilesInFlightMode } from './queue/adaptive-concurrency.ts';
import { DEFAULT_FRESHNESS_OBJECTIVE_SECONDS } from './freshness.ts';
import { parseSources, type Source } from './sources.ts';
import { prefixesOverlap, SOURCE_AFTER_SUCCESS_MODES, type OutputPrefix, type SourceActionSettings } from './after-success/source-action.ts';
import {
  ConfigError,
  finiteNumber,
  httpUrl,
  keyPrefix,
  oneOf,
  portNumber,
  readSettings,
  setting,
  text,
  trueOrFalse,
  wholeNumber,
  type Environment,
  type Setting,
  type SettingKind,
  type SettingValues,
} from './common/settings.ts';

export { ConfigError, type Environment };

export const OUTPUT_FORMATS = ['jsonl', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface WorkerConfig {
  readonly aws: {
    /**
     * AWS_REGION, else AWS_DEFAULT_REGION: the region of the queue and buckets.
     * @default - required
     */
    readonly region: string;
    /**
     * AWS_ENDPOINT_URL: only for emulators.
     * @default - unset, the SDK's own endpoints
     */
    readonly endpoint: string | undefined;
    /**
     * S3_FORCE_PATH_STYLE.
     * @default - true when AWS_ENDPOINT_URL is set, else false
     */
    readonly forcePathStyle: boolean;
    /**
     * AWS_IDLE_TIMEOUT_SECONDS: a request whose connection stays silent this long fails and is retried; more than WAIT_TIME_SECONDS.
     * @default 60
     */
    readonly idleTimeoutSeconds: number;
  };
  /**
   * QUEUE_URL: the ingest queue.
   * @default - required
   */
  readonly queueUrl: string;
  /**
   * DLQ_URL: where poison messages go at once.
   * @default - read from the queue's redrive policy at start
   */
  readonly deadLetterQueueUrl: string | undefined;
  /**
   * SOURCES: a JSON array of {bucket, prefix?, outputPrefix?, expectedBucketOwner?}, the raw buckets and prefixes
   * that feed the queue. An object belongs to the source of its bucket with the longest prefix of its key; its
   * outputs go under outputPrefix (after PROCESSED_PREFIX, REJECTED_PREFIX, or a Parquet object's dt= partition);
   * with expectedBucketOwner every S3 call on its raw objects names that account. An object in no source fails for
   * good as unknown_source.
   * @default - unset: any bucket an event names, outputs at the raw key
   */
  readonly sources: readonly Source[] | undefined;
  readonly output: {
    /**
     * PROCESSED_BUCKET.
     * @default - required
     */
    readonly processedBucket: string;
    /**
     * PROCESSED_PREFIX; empty is the bucket's top level.
     * @default ''
     */
    readonly processedPrefix: string;
    /**
     * REJECTED_BUCKET.
     * @default - PROCESSED_BUCKET
     */
    readonly rejectedBucket: string;
    /**
     * REJECTED_PREFIX; sharing a bucket, not empty and not a prefix of PROCESSED_PREFIX.
     * @default 'rejected/'
     */
    readonly rejectedPrefix: string;
    /**
     * OUTPUT_FORMAT. jsonl: processed records as JSON Lines under PROCESSED_PREFIX; parquet: Parquet under PARQUET_PREFIX/dt=…/.
     * @default 'jsonl'
     */
    readonly format: OutputFormat;
    /**
     * PARQUET_PREFIX, with the parquet format.
     * @default 'parquet/'
     */
    readonly parquetPrefix: string;
  };
  /** What the record rules (records/pipeline.ts) take from the settings. */
  readonly recordRules: {
    /**
     * TEMPERATURE_THRESHOLD_CELSIUS: records at or below it are filtered.
     * @default 10
     */
    readonly temperatureThresholdCelsius: number;
    /**
     * UNKNOWN_LOCATION_ID: the location_id of devices missing from the registry.
     * @default 'unknown'
     */
    readonly unknownLocationId: string;
  };
  /** How much input one line and one file may bring. */
  readonly inputLimits: {
    /**
     * MAX_LINE_BYTES: a longer line is rejected as line_too_long; bounds the memory one line can take.
     * @default 1048576 (1 MiB)
     */
    readonly maxLineBytes: number;
    /**
     * MAX_OBJECT_BYTES: a larger object (stored, or decompressed) fails for good as object_too_large.
     * @default 10737418240 (10 GiB)
     */
    readonly maxObjectBytes: number;
    /**
     * MAX_RECORDS_PER_FILE: a file with more non-blank lines fails for good as too_many_records.
     * @default 100000000
     */
    readonly maxRecordsPerFile: number;
  };
  readonly deviceRegistry: {
    /**
     * DEVICE_REGISTRY: "builtin", a JSON file path or s3://bucket/key.
     * @default - builtin
     */
    readonly source: RegistrySource;
    /**
     * DEVICE_REGISTRY_REFRESH_SECONDS: how often an S3 registry is re-read; 0 = never.
     * @default 300
     */
    readonly refreshSeconds: number;
  };
  readonly consumer: {
    /**
     * MAX_FILES_IN_FLIGHT: the most files processed at once (and messages held): the ceiling of the adaptive bound, or the bound when fixed.
     * @default 128
     */
    readonly maxFilesInFlight: number;
    /**
     * MIN_FILES_IN_FLIGHT: the adaptive bound's floor, where it starts; at most MAX_FILES_IN_FLIGHT.
     * @default - 8, or MAX_FILES_IN_FLIGHT when that is lower
     */
    readonly minFilesInFlight: number;
    /**
     * FILES_IN_FLIGHT_MODE. adaptive: the bound moves between the floor and the ceiling with what the task can do; fixed: MAX_FILES_IN_FLIGHT.
     * @default 'adaptive'
     */
    readonly filesInFlightMode: FilesInFlightMode;
    /**
     * MAX_BYTES_IN_FLIGHT_MIB × 1 MiB: the memory the files in flight may reserve, each what it may hold at most
     * (from its size; a file larger than the whole budget runs alone).
     * @default 67108864 (64 MiB)
     */
    readonly maxBytesInFlight: number;
    /**
     * WAIT_TIME_SECONDS: the SQS long-poll wait.
     * @default 20
     */
    readonly waitTimeSeconds: number;
    /**
     * VISIBILITY_TIMEOUT_SECONDS: set on receive and renewed while a file runs.
     * @default 60
     */
    readonly visibilityTimeoutSeconds: number;
    /**
     * HEARTBEAT_INTERVAL_SECONDS: how often the visibility is renewed; below the visibility timeout.
     * @default - a third of the visibility timeout, at least 1
     */
    readonly heartbeatIntervalSeconds: number;
    /**
     * RETRY_BACKOFF_BASE_SECONDS: after a transient failure the message returns after base × 2^(receives − 1) s.
     * @default 10
     */
    readonly retryBackoffBaseSeconds: number;
    /**
     * RETRY_BACKOFF_MAX_SECONDS: the cap of that backoff; at least the base.
     * @default - 300, or the base when it is larger
     */
    readonly retryBackoffMaxSeconds: number;
    /**
     * QUEUE_METRICS_INTERVAL_SECONDS: how often the queue and DLQ depth gauges are refreshed; 0 turns them off.
     * @default 30
     */
    readonly queueMetricsIntervalSeconds: number;
  };
  readonly upload: {
    /**
     * UPLOAD_PART_SIZE_MIB × 1 MiB: the multipart part size of the outputs.
     * @default 5242880 (5 MiB)
     */
    readonly partSizeBytes: number;
    /**
     * UPLOAD_QUEUE_SIZE: parts uploaded at once per output.
     * @default 2
     */
    readonly queueSize: number;
  };
  /** What follows a file's success, before its message is deleted (after-success/). */
  readonly afterSuccess: {
    /**
     * SOURCE_AFTER_SUCCESS: what happens to the raw object. keep; tag (iot-ingest=processed and the line counts, its
     * own tags kept); delete (exactly the version processed); move (copied to the archive, then that version deleted).
     * SOURCE_ARCHIVE_BUCKET (@default - the raw object's own bucket) and SOURCE_ARCHIVE_PREFIX (@default 'archive/';
     * not empty with move, and apart from the outputs) say where move puts it; events for keys there are acknowledged without work.
     * @default keep
     */
    readonly source: SourceActionSettings;
    /**
     * FILE_EVENTS_TOPIC_ARN: a standard SNS topic that gets one completion event per file.
     * @default - unset, no events
     */
    readonly fileEventsTopicArn: string | undefined;
  };
  /**
   * SHUTDOWN_GRACE_SECONDS: on SIGTERM, how long files in flight may finish before they are released.
   * @default 25
   */
  readonly shutdownGraceSeconds: number;
  /**
   * FRESHNESS_OBJECTIVE_SECONDS: the promised time from an object's S3 event to its outputs stored; exported as
   * the gauge iot_ingest_freshness_objective_seconds, which the alert IotIngestFreshnessObjectiveMissed compares the p99 with.
   * @default 900
   */
  readonly freshnessObjectiveSeconds: number;
  /** ECS task scale-in protection while messages are held; off outside ECS (no agent URI). */
  readonly taskProtection: {
    /**
     * ECS_AGENT_URI, set by ECS.
     * @default - unset outside ECS
     */
    readonly agentUri: string | undefined;
    /**
     * TASK_PROTECTION_EXPIRES_MINUTES: the protection's expiry, renewed before it.
     * @default 60
     */
    readonly expiresInMinutes: number;
    /**
     * TASK_PROTECTION_RELEASE_DELAY_SECONDS: idle this long, the task removes its protection.
     * @default 10
     */
    readonly releaseDelaySeconds: number;
    /**
     * TASK_PROTECTION_MAX_HOLD_SECONDS: protected this long without a break, the task stops receiving, finishes its
     * files and removes its protection, so that a deployment or scale-in can stop it; 0 = never.
     * @default 1800
     */
    readonly maxHoldSeconds: number;
    /**
     * TASK_PROTECTION_YIELD_IDLE_SECONDS: then it stays idle and unprotected this long before it receives again.
     * @default 60
     */
    readonly yieldIdleSeconds: number;
  };
  readonly http: {
    /**
     * HTTP_HOST: where /healthz, /readyz and /metrics are served.
     * @default '0.0.0.0'
     */
    readonly host: string;
    /**
     * HTTP_PORT.
     * @default 8080
     */
    readonly port: number;
  };
  /**
   * LOG_LEVEL: fatal, error, warn, info, debug, trace or silent.
   * @default 'info'
   */
  readonly logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Sockets, heartbeats and the pool's bookkeeping grow with the bound; past this a task needs more tasks, not more files each. */
const MAX_FILES_IN_FLIGHT_CEILING = 1024;
/** Today's fixed default: where the adaptive bound starts, so a task where requests take no time does as before. */
const DEFAULT_MIN_FILES_IN_FLIGHT = 8;
const MEBIBYTE = 1024 * 1024;
const SECONDS = { unit: 'seconds' } as const;
/** A day: an objective beyond it is not "minutes after upload". */
const MAX_FRESHNESS_OBJECTIVE_SECONDS = 86_400;

const freshnessObjective: SettingKind<number> = {
  expectation: `a number of seconds above 0, at most ${MAX_FRESHNESS_OBJECTIVE_SECONDS}`,
  parse: (value) => {
    const parsed = Number(value);
    return /^\d+(\.\d+)?$/.test(value) && parsed > 0 && parsed <= MAX_FRESHNESS_OBJECTIVE_SECONDS ? parsed : undefined;
  },
};

/** Standard topics only: a FIFO topic wants a message group id with every publish. */
const snsTopicArn: SettingKind<string> = {
  expectation: 'a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)',
  parse: (value) => (/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(value) ? value : undefined),
};

const SOURCES_EXPECTATION = 'a JSON array of {bucket, prefix?, outputPrefix?, expectedBucketOwner?}';

/** Says which entry and which field is wrong, where other kinds only say what the value must be. */
const sourceList: SettingKind<readonly Source[]> = {
  expectation: SOURCES_EXPECTATION,
  parse: (value) => {
    try {
      return parseSources(value);
    } catch (error) {
      throw new ConfigError('SOURCES', `${SOURCES_EXPECTATION} (${(error as Error).message})`, value);
    }
  },
};

const registrySource: SettingKind<RegistrySource> = {
  expectation: '"builtin", a JSON file path or s3://bucket/key',
  parse: (value) => (value.startsWith('s3:') && !/^s3:\/\/[^/]+\/.+$/.test(value) ? undefined : parseRegistrySource(value)),
};

/**
 * Every variable the worker reads, in the shape of WorkerConfig, except those whose default or range
 * follows another one's value (below). The defaults are documented on WorkerConfig.
 */
export const WORKER_SETTINGS = {
  aws: {
    region: setting('AWS_REGION', text('an AWS region such as eu-west-1'), { required: true, fallbackVariable: 'AWS_DEFAULT_REGION' }),
    endpoint: setting('AWS_ENDPOINT_URL', httpUrl('an http(s) URL')),
    forcePathStyle: setting('S3_FORCE_PATH_STYLE', trueOrFalse()),
    idleTimeoutSeconds: setting('AWS_IDLE_TIMEOUT_SECONDS', wholeNumber({ min: 1, max: 3_600, ...SECONDS }), { default: 60 }),
  },
  queueUrl: setting('QUEUE_URL', httpUrl('the ingest queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)'), { required: true }),
  deadLetterQueueUrl: setting('DLQ_URL', httpUrl('the dead-letter queue URL')),
  sources: setting('SOURCES', sourceList),
  output: {
    processedBucket: setting('PROCESSED_BUCKET', text('the name of the bucket for processed output'), { required: true }),
    processedPrefix: setting('PROCESSED_PREFIX', keyPrefix(), { default: '' }),
    rejectedBucket: setting('REJECTED_BUCKET', text('the name of the bucket for rejected lines')),
    rejectedPrefix: setting('REJECTED_PREFIX', keyPrefix(), { default: 'rejected/' }),
    format: setting('OUTPUT_FORMAT', oneOf(OUTPUT_FORMATS), { default: 'jsonl' }),
    parquetPrefix: setting('PARQUET_PREFIX', keyPrefix(), { default: 'parquet/' }),
  },
  recordRules: {
    temperatureThresholdCelsius: setting('TEMPERATURE_THRESHOLD_CELSIUS', finiteNumber(), { default: 10 }),
    unknownLocationId: setting('UNKNOWN_LOCATION_ID', text('a location id'), { default: 'unknown' }),
  },
  inputLimits: {
    // At least the 1 KiB prefix an overlong line keeps in its rejected record.
    maxLineBytes: setting('MAX_LINE_BYTES', wholeNumber({ min: 1024, max: 256 * MEBIBYTE, unit: 'bytes' }), { default: MEBIBYTE }),
    maxObjectBytes: setting('MAX_OBJECT_BYTES', wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'bytes' }), { default: 10 * 1024 * MEBIBYTE }),
    maxRecordsPerFile: setting('MAX_RECORDS_PER_FILE', wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }), { default: 100_000_000 }),
  },
  deviceRegistry: {
    source: setting('DEVICE_REGISTRY', registrySource, { default: { kind: 'builtin' } }),
    refreshSeconds: setting('DEVICE_REGISTRY_REFRESH_SECONDS', wholeNumber({ min: 0, max: 86_400, ...SECONDS, note: '0 = never' }), { default: 300 }),
  },
  consumer: {
    maxFilesInFlight: setting('MAX_FILES_IN_FLIGHT', wholeNumber({ min: 1, max: MAX_FILES_IN_FLIGHT_CEILING }), { default: 128 }),
    filesInFlightMode: setting('FILES_IN_FLIGHT_MODE', oneOf(FILES_IN_FLIGHT_MODES), { default: 'adaptive' }),
    maxBytesInFlightMiB: setting('MAX_BYTES_IN_FLIGHT_MIB', wholeNumber({ min: 1, max: 1_048_576, unit: 'MiB' }), { default: 64 }),
    waitTimeSeconds: setting('WAIT_TIME_SECONDS', wholeNumber({ min: 0, max: 20, ...SECONDS }), { default: 20 }),
    visibilityTimeoutSeconds: setting('VISIBILITY_TIMEOUT_SECONDS', wholeNumber({ min: 2, max: 43_200, ...SECONDS }), { default: 60 }),
    retryBackoffBaseSeconds: setting('RETRY_BACKOFF_BASE_SECONDS', wholeNumber({ min: 0, max: 43_200, ...SECONDS }), { default: 10 }),
    queueMetricsIntervalSeconds: setting('QUEUE_METRICS_INTERVAL_SECONDS', wholeNumber({ min: 0, max: 3_600, ...SECONDS, note: '0 = off' }), { default: 30 }),
  },
  upload: {
    partSizeMiB: setting('UPLOAD_PART_SIZE_MIB', wholeNumber({ min: 5, max: 512, unit: 'MiB' }), { default: 5 }),
    queueSize: setting('UPLOAD_QUEUE_SIZE', wholeNumber({ min: 1, max: 16 }), { default: 2 }),
  },
  afterSuccess: {
    mode: setting('SOURCE_AFTER_SUCCESS', oneOf(SOURCE_AFTER_SUCCESS_MODES), { default: 'keep' }),
    archiveBucket: setting('SOURCE_ARCHIVE_BUCKET', text('the name of the bucket for archived raw objects')),
    archivePrefix: setting('SOURCE_ARCHIVE_PREFIX', keyPrefix(), { default: 'archive/' }),
    fileEventsTopicArn: setting('FILE_EVENTS_TOPIC_ARN', snsTopicArn),
  },
  shutdownGraceSeconds: setting('SHUTDOWN_GRACE_SECONDS', wholeNumber({ min: 0, max: 3_600, ...SECONDS }), { default: 25 }),
  freshnessObjectiveSeconds: setting('FRESHNESS_OBJECTIVE_SECONDS', freshnessObjective, { default: DEFAULT_FRESHNESS_OBJECTIVE_SECONDS }),
  taskProtection: {
    agentUri: setting('ECS_AGENT_URI', httpUrl('the ECS container agent URI (set by ECS)')),
    expiresInMinutes: setting('TASK_PROTECTION_EXPIRES_MINUTES', wholeNumber({ min: 1, max: 2_880, unit: 'minutes' }), { default: 60 }),
    releaseDelaySeconds: setting('TASK_PROTECTION_RELEASE_DELAY_SECONDS', wholeNumber({ min: 0, max: 3_600, ...SECONDS }), { default: 10 }),
    maxHoldSeconds: setting('TASK_PROTECTION_MAX_HOLD_SECONDS', wholeNumber({ min: 0, max: 172_800, ...SECONDS, note: '0 = never' }), { default: 1_800 }),
    yieldIdleSeconds: setting('TASK_PROTECTION_YIELD_IDLE_SECONDS', wholeNumber({ min: 1, max: 3_600, ...SECONDS }), { default: 60 }),
  },
  http: {
    host: setting('HTTP_HOST', text('a host name or address to listen on'), { default: '0.0.0.0' }),
    port: setting('HTTP_PORT', portNumber(0), { default: 8080 }),
  },
  logLevel: setting('LOG_LEVEL', oneOf(LOG_LEVELS), { default: 'info' }),
} as const;

function heartbeatIntervalSetting(visibilityTimeoutSeconds: number): Setting<number> {
  const range = { min: 1, max: visibilityTimeoutSeconds - 1, ...SECONDS, note: 'below VISIBILITY_TIMEOUT_SECONDS' };
  return setting('HEARTBEAT_INTERVAL_SECONDS', wholeNumber(range), { default: Math.max(1, Math.floor(visibilityTimeoutSeconds / 3)) });
}

function minFilesInFlightSetting(maxFilesInFlight: number): Setting<number> {
  const range = { min: 1, max: maxFilesInFlight, note: 'at most MAX_FILES_IN_FLIGHT' };
  return setting('MIN_FILES_IN_FLIGHT', wholeNumber(range), { default: Math.min(DEFAULT_MIN_FILES_IN_FLIGHT, maxFilesInFlight) });
}

function retryBackoffMaxSetting(retryBackoffBaseSeconds: number): Setting<number> {
  const range = { min: retryBackoffBaseSeconds, max: 43_200, ...SECONDS, note: 'at least RETRY_BACKOFF_BASE_SECONDS' };
  return setting('RETRY_BACKOFF_MAX_SECONDS', wholeNumber(range), { default: Math.max(300, retryBackoffBaseSeconds) });
}

type OutputSettings = WorkerConfig['output'];

/** Sharing a bucket, the outputs need key spaces of their own; raw keys that would still cross are refused one by one (see outputKeys). */
function checkOutputsApart(output: OutputSettings): void {
  if (output.processedBucket !== output.rejectedBucket) return;
  if (output.format === 'parquet' && output.parquetPrefix.startsWith(output.rejectedPrefix)) {
    throw new ConfigError('PARQUET_PREFIX', 'a prefix that does not start with REJECTED_PREFIX when both outputs share a bucket', output.parquetPrefix);
  }
  if (output.processedPrefix.startsWith(output.rejectedPrefix)) {
    throw new ConfigError('REJECTED_PREFIX', 'a non-empty prefix that PROCESSED_PREFIX does not start with, when both outputs share a bucket', output.rejectedPrefix);
  }
}

/** A source whose every processed key would land among the rejected output; a source only some of whose keys would is refused key by key (outputKeys). */
function checkSourcesApartFromRejected(sources: readonly Source[] | undefined, output: OutputSettings): void {
  if (sources === undefined || output.format !== 'jsonl' || output.processedBucket !== output.rejectedBucket) return;
  const inside = sources.find((source) => (output.processedPrefix + source.outputPrefix + source.prefix).startsWith(output.rejectedPrefix));
  if (inside !== undefined) {
    const expectation = `${SOURCES_EXPECTATION} whose processed outputs do not land under REJECTED_PREFIX "${output.rejectedPrefix}" (bucket "${inside.bucket}", prefix "${inside.prefix}", outputPrefix "${inside.outputPrefix}")`;
    throw new ConfigError('SOURCES', expectation, JSON.stringify(sources));
  }
}

type AfterSuccessSettings = SettingValues<typeof WORKER_SETTINGS.afterSuccess>;

/** Where outputs are written: the processed objects (JSON Lines or Parquet) and the rejected lines. */
export function outputPrefixes(output: OutputSettings): OutputPrefix[] {
  const processedPrefix = output.format === 'parquet' ? output.parquetPrefix : output.processedPrefix;
  return [
    { bucket: output.processedBucket, prefix: processedPrefix },
    { bucket: output.rejectedBucket, prefix: output.rejectedPrefix },
  ];
}

/**
 * The move mode's archive: not empty (the whole bucket would be "archive", every event ignored) and apart from the
 * outputs. With the default bucket (the raw object's own) the outputs are checked per object (after-success.ts).
 */
function sourceActionSettings(settings: AfterSuccessSettings, output: OutputSettings): SourceActionSettings {
  const archive = { bucket: settings.archiveBucket, prefix: settings.archivePrefix };
  if (settings.mode === 'move') {
    if (archive.prefix === '') {
      throw new ConfigError('SOURCE_ARCHIVE_PREFIX', 'a non-empty key prefix when SOURCE_AFTER_SUCCESS is move', archive.prefix);
    }
    const { bucket } = archive;
    const overlapped = bucket === undefined ? undefined : outputPrefixes(output).find((candidate) => prefixesOverlap({ bucket, prefix: archive.prefix }, candidate));
    if (overlapped !== undefined) {
      throw new ConfigError(
        'SOURCE_ARCHIVE_PREFIX',
        `a prefix apart from the outputs under "${overlapped.prefix}" in SOURCE_ARCHIVE_BUCKET ${overlapped.bucket} (or another SOURCE_ARCHIVE_BUCKET)`,
        archive.prefix,
      );
    }
  }
  return { mode: settings.mode, archive };
}

/** Reads and validates every setting, each on its own and then how they agree; throws `ConfigError` on the first bad one. */
export function parseConfig(env: Environment): WorkerConfig {
  const { aws, output, consumer, upload, afterSuccess, sources, ...rest } = readSettings(env, WORKER_SETTINGS);
  const heartbeatIntervalSeconds = heartbeatIntervalSetting(consumer.visibilityTimeoutSeconds).read(env);
  const retryBackoffMaxSeconds = retryBackoffMaxSetting(consumer.retryBackoffBaseSeconds).read(env);
  const minFilesInFlight = minFilesInFlightSetting(consumer.maxFilesInFlight).read(env);

  const outputs = { ...output, rejectedBucket: output.rejectedBucket ?? output.processedBucket };
  checkOutputsApart(outputs);
  checkSourcesApartFromRejected(sources, outputs);
  const source = sourceActionSettings(afterSuccess, outputs);
  if (aws.idleTimeoutSeconds <= consumer.waitTimeSeconds) {
    const expectation = `more seconds than WAIT_TIME_SECONDS (${consumer.waitTimeSeconds}), or long polls would time out`;
    throw new ConfigError('AWS_IDLE_TIMEOUT_SECONDS', expectation, String(aws.idleTimeoutSeconds));
  }

  const { maxBytesInFlightMiB, ...consumerRest } = consumer;
  return {
    ...rest,
    sources,
    aws: { ...aws, forcePathStyle: aws.forcePathStyle ?? aws.endpoint !== undefined },
    output: outputs,
    consumer: { ...consumerRest, maxBytesInFlight: maxBytesInFlightMiB * MEBIBYTE, minFilesInFlight, heartbeatIntervalSeconds, retryBackoffMaxSeconds },
    upload: { partSizeBytes: upload.partSizeMiB * MEBIBYTE, queueSize: upload.queueSize },
    afterSuccess: { source, fileEventsTopicArn: afterSuccess.fileEventsTopicArn },
  };
}
