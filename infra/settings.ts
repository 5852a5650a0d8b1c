/**
 * What a deployment can choose, with its defaults, read from CDK context (`cdk.json` or `-c key=value`).
 * Pure: context values in, validated settings out; a bad value throws naming the key.
 */
import { DEFAULT_FRESHNESS_OBJECTIVE_SECONDS } from '../worker/freshness.ts';
import { isJsonObject } from '../worker/common/json-object.ts';
import { ACCOUNT_ID, BUCKET_NAME_PATTERN, isSourcePrefix, outputsMayMeet } from '../worker/sources.ts';
import { FILES_IN_FLIGHT_MODES, type FilesInFlightMode } from '../worker/queue/adaptive-concurrency.ts';

export const NOTIFICATION_MODES = ['direct', 'trigger', 'eventbridge'] as const;
export type NotificationMode = (typeof NOTIFICATION_MODES)[number];

export const ARCHITECTURES = ['arm64', 'x86_64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const OUTPUT_FORMATS = ['jsonl', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The worker's SOURCE_AFTER_SUCCESS: what happens to a raw object once its outputs are stored. */
import { SOURCE_AFTER_SUCCESS_MODES, type SourceAfterSuccess } from '../worker/after-success/source-action.ts';

export { SOURCE_AFTER_SUCCESS_MODES, type SourceAfterSuccess };

/** An EventBridge Scheduler expression for `ops reconcile`, with the time between runs when it is a rate. */
export interface ReconcileSchedule {
  readonly expression: string;
  /** Seconds between runs of a rate(...) expression; undefined for a cron(...) one. */
  readonly intervalSeconds: number | undefined;
}

/**
 * One place raw objects come from (context `sources`): a bucket, or a key prefix in it, with the prefix its outputs
 * take. Sources never overlap: an object belongs to one source, and S3 refuses overlapping notification filters.
 */
export interface SourceSetting {
  /** Bucket name or ARN; undefined: the stack's raw bucket (created, or existingRawBucket). */
  readonly bucket: string | undefined;
  /** Raw key prefix, '' or ending with "/"; '' is the whole bucket. */
  readonly prefix: string;
  /** Put before the raw key in every output key, '' or ending with "/". */
  readonly outputPrefix: string;
  /** The account that owns the bucket when it is not the stack's: it sends the bucket's notifications itself. */
  readonly account: string | undefined;
  /** The KMS key that encrypts the source's objects (SSE-KMS). */
  readonly kmsKeyArn: string | undefined;
}

/** What the buckets the stack creates and its queues are encrypted with: AWS managed keys, a key the stack creates, or this key ARN. */
export type EncryptionKeySetting = 'aws-managed' | 'create' | `arn:${string}`;

export interface IngestSettings {
  /**
   * direct: S3 → SQS; trigger: S3 → Lambda → SQS; eventbridge: S3 → EventBridge rule → SQS.
   * @default direct, or eventbridge with existingRawBucket (the only mode that leaves its notification configuration alone)
   */
  readonly notificationMode: NotificationMode;
  /** Name or ARN of an existing raw bucket, used instead of creating one and never reconfigured (existing-buckets.ts). */
  readonly existingRawBucket: string | undefined;
  /** Name or ARN of an existing processed bucket, used instead of creating one and never reconfigured. */
  readonly existingProcessedBucket: string | undefined;
  readonly suffixes: readonly string[];
  /**
   * Where raw objects come from; one queue and one worker service for all of them.
   * @default one source: the stack's raw bucket, whole, with no output prefix
   */
  readonly sources: readonly SourceSetting[];
  /** @default aws-managed */
  readonly encryptionKey: EncryptionKeySetting;
  /** The KMS key of an existing processed bucket's default encryption (only with existingProcessedBucket). */
  readonly existingProcessedBucketKmsKeyArn: string | undefined;
  readonly architecture: Architecture;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  /** The worker's MAX_FILES_IN_FLIGHT: the ceiling of each task's adaptive bound on files in flight, or the bound when fixed. */
  readonly maxFilesInFlight: number;
  /** The worker's MIN_FILES_IN_FLIGHT: the adaptive bound's floor; at most maxFilesInFlight. */
  readonly minFilesInFlight: number;
  /** The worker's FILES_IN_FLIGHT_MODE. */
  readonly filesInFlightMode: FilesInFlightMode;
  /** Target tracking keeps (visible messages ÷ running tasks) near this. */
  readonly backlogPerTaskTarget: number;
  /** The longest a file is expected to take; the queue's visibility timeout is at least this. */
  readonly longestFileSeconds: number;
  readonly maxReceiveCount: number;
  readonly shutdownGraceSeconds: number;
  readonly rejectedRetentionDays: number;
  readonly logRetentionDays: number;
  readonly oldestMessageAlarmSeconds: number;
  readonly noProgressAlarmMinutes: number;
  /**
   * The worker's FRESHNESS_OBJECTIVE_SECONDS: the promised time from an object's S3 event to its outputs stored,
   * which the Prometheus alert on the p99 of iot_ingest_freshness_seconds compares with.
   * @default 900
   */
  readonly freshnessObjectiveSeconds: number;
  readonly alarmEmail: string | undefined;
  /** Scrape /metrics with an ADOT collector sidecar into a new Amazon Managed Service for Prometheus workspace. */
  readonly managedPrometheus: boolean;
  /** S3 URI of a device registry JSON object, or unset for the built-in one. */
  readonly deviceRegistryUri: string | undefined;
  /** ARN of the KMS key that encrypts the device registry object (SSE-KMS), or unset for SSE-S3 or none. */
  readonly deviceRegistryKmsKeyArn: string | undefined;
  readonly natGateways: number;
  /** What the worker writes for processed records; rejected lines stay JSON Lines. */
  readonly outputFormat: OutputFormat;
  /** A Glue database and tables over the Parquet output, and an Athena workgroup; needs outputFormat parquet. */
  readonly dataLake: boolean;
  /** The worker's SOURCE_AFTER_SUCCESS; the task role gets what this mode needs on the raw bucket, and no more. */
  readonly sourceAfterSuccess: SourceAfterSuccess;
  /** The worker's SOURCE_ARCHIVE_PREFIX in the raw bucket (move mode); ends with "/". */
  readonly sourceArchivePrefix: string;
  /** Expire tagged (tag mode) or archived (move mode) raw objects this many days after they were written; unset: never. */
  readonly sourceExpireDays: number | undefined;
  /** When `ops reconcile` runs as a scheduled ECS task; undefined when off. */
  readonly reconcileSchedule: ReconcileSchedule | undefined;
  /** Each scheduled reconcile looks at raw objects written in the last this many hours (--since). */
  readonly reconcileWindowHours: number;
}

export const DEFAULT_SETTINGS: IngestSettings = {
  notificationMode: 'direct',
  existingRawBucket: undefined,
  existingProcessedBucket: undefined,
  suffixes: ['.jsonl', '.jsonl.gz', '.jsonl.zst'],
  sources: [{ bucket: undefined, prefix: '', outputPrefix: '', account: undefined, kmsKeyArn: undefined }],
  encryptionKey: 'aws-managed',
  existingProcessedBucketKmsKeyArn: undefined,
  architecture: 'arm64',
  cpu: 1024,
  memoryMiB: 2048,
  minTasks: 1,
  maxTasks: 15,
  maxFilesInFlight: 128,
  minFilesInFlight: 8,
  filesInFlightMode: 'adaptive',
  backlogPerTaskTarget: 10_000,
  longestFileSeconds: 900,
  maxReceiveCount: 5,
  shutdownGraceSeconds: 25,
  rejectedRetentionDays: 30,
  logRetentionDays: 30,
  oldestMessageAlarmSeconds: 900,
  noProgressAlarmMinutes: 15,
  freshnessObjectiveSeconds: DEFAULT_FRESHNESS_OBJECTIVE_SECONDS,
  alarmEmail: undefined,
  managedPrometheus: false,
  deviceRegistryUri: undefined,
  deviceRegistryKmsKeyArn: undefined,
  natGateways: 1,
  outputFormat: 'jsonl',
  dataLake: false,
  sourceAfterSuccess: 'keep',
  sourceArchivePrefix: 'archive/',
  sourceExpireDays: undefined,
  reconcileSchedule: { expression: 'rate(1 day)', intervalSeconds: 86_400 },
  reconcileWindowHours: 48,
};

function sizes(smallest: number, largest: number, step: number): readonly number[] {
  return Array.from({ length: (largest - smallest) / step + 1 }, (_, index) => smallest + index * step);
}

/**
 * Fargate's CPU units and, for each, the task memory sizes it accepts in MiB (the ECS task definition
 * reference; 8192 and 16384 need Linux platform 1.4.0, which LATEST is).
 */
const FARGATE_MEMORY_MIB: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: sizes(1024, 4096, 1024),
  1024: sizes(2048, 8192, 1024),
  2048: sizes(4096, 16384, 1024),
  4096: sizes(8192, 30720, 1024),
  8192: sizes(16384, 61440, 4096),
  16384: sizes(32768, 122880, 8192),
};

/**
 * The files a task works on at once whatever its bound reads: the floor of the adaptive bound (the
 * ceiling is reached only where requests are slow and the task has CPU to spare), or the fixed bound.
 */
export function filesInFlightEveryTaskTakes(settings: Pick<IngestSettings, 'filesInFlightMode' | 'minFilesInFlight' | 'maxFilesInFlight'>): number {
  return settings.filesInFlightMode === 'fixed' ? settings.maxFilesInFlight : settings.minFilesInFlight;
}

/** The task memory sizes Fargate accepts with `cpu` units, in MiB; empty for a CPU value it does not offer. */
export function fargateMemoryMiB(cpu: number): readonly number[] {
  return FARGATE_MEMORY_MIB[cpu] ?? [];
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';

  constructor(key: string, expectation: string, value: unknown) {
    super(`context value ${key} must be ${expectation}; got ${JSON.stringify(value)}`);
  }
}

type Context = (key: string) => unknown;

function integer(context: Context, key: string, fallback: number, min: number, max: number): number {
  const value = context(key);
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new SettingsError(key, `a whole number from ${min} to ${max}`, value);
  }
  return parsed;
}

function oneOf<T extends string>(context: Context, key: string, fallback: T, allowed: readonly T[]): T {
  const value = context(key);
  if (value === undefined) return fallback;
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw new SettingsError(key, `one of ${allowed.join(', ')}`, value);
  return match;
}

function flag(context: Context, key: string, fallback: boolean): boolean {
  const value = context(key);
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new SettingsError(key, 'true or false', value);
}

function optionalString(context: Context, key: string, pattern: RegExp, expectation: string): string | undefined {
  const value = context(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw new SettingsError(key, expectation, value);
  return value;
}

function suffixes(context: Context): readonly string[] {
  const value = context('suffixes');
  if (value === undefined) return DEFAULT_SETTINGS.suffixes;
  const list = typeof value === 'string' ? value.split(',').map((suffix) => suffix.trim()) : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((suffix) => typeof suffix === 'string' && suffix.length > 0)) {
    throw new SettingsError('suffixes', 'a non-empty list of key suffixes such as .jsonl,.jsonl.gz', value);
  }
  const sorted = [...(list as string[])].sort((a, b) => a.length - b.length);
  // S3 refuses overlapping filter rules for the same event, and `.gz` would overlap `.jsonl.gz`.
  sorted.forEach((suffix, index) => {
    if (sorted.slice(index + 1).some((longer) => longer.endsWith(suffix))) {
      throw new SettingsError('suffixes', `suffixes that do not end one another (${suffix} overlaps)`, value);
    }
  });
  return list as string[];
}

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

function logRetention(context: Context): number {
  const value = integer(context, 'logRetentionDays', DEFAULT_SETTINGS.logRetentionDays, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(value)) {
    throw new SettingsError('logRetentionDays', `one of ${LOG_RETENTION_DAYS.join(', ')}`, value);
  }
  return value;
}

/** Fargate refuses any other pair, but only at deploy time: refuse it here, naming the sizes that fit. */
function fargateMemory(context: Context, cpu: number, choices: readonly number[]): number {
  const value = context('memoryMiB');
  if (value === undefined) return choices.find((size) => size >= DEFAULT_SETTINGS.memoryMiB) ?? choices.at(-1)!;
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const match = choices.find((size) => size === parsed);
  if (match === undefined) throw new SettingsError('memoryMiB', `one of ${choices.join(', ')} (what Fargate accepts with cpu ${cpu})`, value);
  return match;
}

function archivePrefix(context: Context): string {
  const value = context('sourceArchivePrefix');
  if (value === undefined) return DEFAULT_SETTINGS.sourceArchivePrefix;
  // IAM resources and lifecycle filters match the prefix literally: no wildcards, and a "/" at the end so that
  // `archive` cannot also cover raw keys such as `archive-2026.jsonl`.
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || !/^[^/*?\u0000-\u001f\u007f][^*?\u0000-\u001f\u007f]{0,510}\/$/.test(value)) {
    throw new SettingsError('sourceArchivePrefix', 'a key prefix ending with "/" (not starting with it; no * or ?), such as archive/', value);
  }
  return value;
}

const RATE_UNIT_SECONDS: Readonly<Record<string, number>> = { minute: 60, hour: 3600, day: 86_400 };
/** The alarm compares one period per run, and a CloudWatch period longer than a day cannot hold two runs' evaluation. */
const LONGEST_RECONCILE_INTERVAL_SECONDS = 86_400;

/** EventBridge Scheduler's rate(value unit), singular for 1 and plural otherwise, or cron(six fields); `off` disables. */
function reconcileSchedule(context: Context): ReconcileSchedule | undefined {
  const value = context('reconcileSchedule');
  if (value === undefined) return DEFAULT_SETTINGS.reconcileSchedule;
  const expectation = 'off, rate(N minutes|hours|days) from 1 minute to 1 day, or cron(minutes hours day-of-month month day-of-week year)';
  if (typeof value !== 'string') throw new SettingsError('reconcileSchedule', expectation, value);
  if (value === 'off') return undefined;
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(value);
  if (rate) {
    const count = Number(rate[1]);
    const plural = rate[3] === 's';
    const intervalSeconds = count * RATE_UNIT_SECONDS[rate[2]!]!;
    if (count < 1 || plural !== (count !== 1) || intervalSeconds > LONGEST_RECONCILE_INTERVAL_SECONDS) {
      throw new SettingsError('reconcileSchedule', expectation, value);
    }
    return { expression: value, intervalSeconds };
  }
  if (/^cron\(\S+( \S+){5}\)$/.test(value)) return { expression: value, intervalSeconds: undefined };
  throw new SettingsError('reconcileSchedule', expectation, value);
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const KMS_KEY_ARN_EXPECTATION = 'a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/ID; IAM does not match alias ARNs)';
const BUCKET_REFERENCE = new RegExp(`^(arn:aws[a-z-]*:s3:::)?${BUCKET_NAME_PATTERN}$`);

function existingBucket(context: Context, key: string): string | undefined {
  return optionalString(context, key, BUCKET_REFERENCE, 'an S3 bucket name or ARN (arn:PARTITION:s3:::NAME)');
}

/** The bucket name in a bucket reference as existingBucket accepts it: the name itself, or an ARN's last field. */
export function bucketNameOf(reference: string): string {
  return reference.slice(reference.lastIndexOf(':') + 1);
}

/** An existing raw bucket's notifications may belong to something else: the stack only reads S3's EventBridge events. */
function notificationMode(context: Context, existingRawBucket: string | undefined): NotificationMode {
  if (existingRawBucket === undefined) return oneOf(context, 'notificationMode', DEFAULT_SETTINGS.notificationMode, NOTIFICATION_MODES);
  const mode = oneOf(context, 'notificationMode', 'eventbridge', NOTIFICATION_MODES);
  if (mode !== 'eventbridge') {
    throw new SettingsError('notificationMode', "eventbridge when existingRawBucket is set (the stack never writes an existing bucket's notification configuration)", context('notificationMode'));
  }
  return mode;
}

const SOURCE_FIELDS = ['bucket', 'prefix', 'outputPrefix', 'account', 'kmsKeyArn'] as const;
const SOURCES_EXPECTATION =
  'a non-empty JSON array of {"bucket"?: name or ARN, "prefix"?: "p/", "outputPrefix"?: "o/", "account"?: "123456789012", "kmsKeyArn"?: "arn:aws:kms:…:key/…"}';

/** A source's key prefix, by the worker's rule (worker/sources.ts), and short enough for an IAM resource. */
function keyPrefix(entry: Readonly<Record<string, unknown>>, field: 'prefix' | 'outputPrefix', at: string): string {
  const value = entry[field] ?? '';
  if (typeof value !== 'string' || value.length > 512 || !isSourcePrefix(value)) {
    throw new SettingsError('sources', `${at}: ${field} empty or ending with "/", with no * ? or control characters`, value);
  }
  return value;
}

function optionalField(entry: Readonly<Record<string, unknown>>, field: 'bucket' | 'account' | 'kmsKeyArn', pattern: RegExp, expectation: string, at: string): string | undefined {
  const value = entry[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw new SettingsError('sources', `${at}: ${field} ${expectation}`, value);
  return value;
}

function sourceSetting(entry: unknown, at: string, existingRawBucket: string | undefined): SourceSetting {
  if (!isJsonObject(entry)) throw new SettingsError('sources', `${at}: an object`, entry);
  const unknown = Object.keys(entry).filter((field) => !(SOURCE_FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) throw new SettingsError('sources', `${at}: an object with only the fields ${SOURCE_FIELDS.join(', ')} (not ${unknown.join(', ')})`, entry);
  const bucket = optionalField(entry, 'bucket', BUCKET_REFERENCE, 'an S3 bucket name or ARN (arn:PARTITION:s3:::NAME)', at);
  const account = optionalField(entry, 'account', ACCOUNT_ID, 'a 12-digit account id', at);
  if (account !== undefined && bucket === undefined) {
    throw new SettingsError('sources', `${at}: account only with a bucket (the stack's raw bucket is in the stack's account)`, entry);
  }
  const sameAsRaw = bucket !== undefined && account === undefined && existingRawBucket !== undefined && bucketNameOf(bucket) === bucketNameOf(existingRawBucket);
  return {
    // existingRawBucket named again is the stack's raw bucket: one bucket, one set of notifications and grants.
    bucket: sameAsRaw ? undefined : bucket,
    prefix: keyPrefix(entry, 'prefix', at),
    outputPrefix: keyPrefix(entry, 'outputPrefix', at),
    account,
    kmsKeyArn: optionalField(entry, 'kmsKeyArn', KMS_KEY_ARN, KMS_KEY_ARN_EXPECTATION, at),
  };
}

/** Which bucket a source reads: one name for the stack's raw bucket however it is written. */
function sourceBucketName(source: SourceSetting): string {
  return source.bucket === undefined ? "the stack's raw bucket" : bucketNameOf(source.bucket);
}

function nested(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Sources that could share an object, or an output key by the worker's own rule (worker/sources.ts). */
function checkApart(sources: readonly SourceSetting[], value: unknown): void {
  sources.forEach((a, i) => {
    sources.slice(0, i).forEach((b, j) => {
      const pair = `sources ${j + 1} and ${i + 1}`;
      const sameBucket = sourceBucketName(a) === sourceBucketName(b);
      if (sameBucket && nested(a.prefix, b.prefix)) {
        throw new SettingsError('sources', `sources with prefixes apart in one bucket (${pair} overlap in ${sourceBucketName(a)}: S3 refuses overlapping notification filters)`, value);
      }
      if (outputsMayMeet({ ...a, bucket: sourceBucketName(a) }, { ...b, bucket: sourceBucketName(b) })) {
        throw new SettingsError('sources', `sources whose outputs cannot meet (${pair} could write the same output key: give them outputPrefixes apart)`, value);
      }
      if (sameBucket && a.account !== b.account) throw new SettingsError('sources', `one account per bucket (${pair} disagree)`, value);
    });
  });
}

function sources(context: Context, existingRawBucket: string | undefined, existingProcessedBucket: string | undefined): readonly SourceSetting[] {
  const value = context('sources');
  if (value === undefined || value === '') return DEFAULT_SETTINGS.sources;
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      throw new SettingsError('sources', SOURCES_EXPECTATION, value);
    }
  }
  if (!Array.isArray(list) || list.length === 0) throw new SettingsError('sources', SOURCES_EXPECTATION, value);
  const parsed = list.map((entry: unknown, index) => sourceSetting(entry, `source ${index + 1}`, existingRawBucket));
  const processed = existingProcessedBucket === undefined ? undefined : bucketNameOf(existingProcessedBucket);
  const readsProcessed = parsed.findIndex((source) => source.bucket !== undefined && bucketNameOf(source.bucket) === processed);
  if (readsProcessed >= 0) {
    // Outputs mirror the raw keys, suffix included: each output would be announced as a new raw object, without end.
    throw new SettingsError('sources', `sources other than existingProcessedBucket (source ${readsProcessed + 1} reads it)`, value);
  }
  checkApart(parsed, value);
  return parsed;
}

function encryptionKey(context: Context): EncryptionKeySetting {
  const value = context('encryptionKey');
  if (value === undefined || value === '') return DEFAULT_SETTINGS.encryptionKey;
  if (value === 'aws-managed' || value === 'create') return value;
  if (typeof value === 'string' && KMS_KEY_ARN.test(value)) return value as `arn:${string}`;
  throw new SettingsError('encryptionKey', `aws-managed, create, or ${KMS_KEY_ARN_EXPECTATION}`, value);
}

export function readSettings(context: Context): IngestSettings {
  const cpu = integer(context, 'cpu', DEFAULT_SETTINGS.cpu, 0, Number.MAX_SAFE_INTEGER);
  const memoryChoices = fargateMemoryMiB(cpu);
  if (memoryChoices.length === 0) throw new SettingsError('cpu', `one of ${Object.keys(FARGATE_MEMORY_MIB).join(', ')}`, cpu);
  const memoryMiB = fargateMemory(context, cpu, memoryChoices);
  const minTasks = integer(context, 'minTasks', DEFAULT_SETTINGS.minTasks, 0, 1000);
  const maxFilesInFlight = integer(context, 'maxFilesInFlight', DEFAULT_SETTINGS.maxFilesInFlight, 1, 1024);
  const shutdownGraceSeconds = integer(context, 'shutdownGraceSeconds', DEFAULT_SETTINGS.shutdownGraceSeconds, 0, 110);
  const outputFormat = oneOf(context, 'outputFormat', DEFAULT_SETTINGS.outputFormat, OUTPUT_FORMATS);
  const dataLake = flag(context, 'dataLake', DEFAULT_SETTINGS.dataLake);
  const deviceRegistryUri = optionalString(context, 'deviceRegistryUri', /^s3:\/\/[^/]+\/.+$/, 's3://bucket/key');
  const deviceRegistryKmsKeyArn = optionalString(context, 'deviceRegistryKmsKeyArn', KMS_KEY_ARN, KMS_KEY_ARN_EXPECTATION);
  if (deviceRegistryKmsKeyArn !== undefined && deviceRegistryUri === undefined) {
    throw new SettingsError('deviceRegistryKmsKeyArn', 'unset unless deviceRegistryUri is set (it decrypts that object)', deviceRegistryKmsKeyArn);
  }
  if (dataLake && outputFormat !== 'parquet') {
    throw new SettingsError('dataLake', 'false unless outputFormat is parquet (the tables read the Parquet output)', context('dataLake'));
  }
  const sourceAfterSuccess = oneOf(context, 'sourceAfterSuccess', DEFAULT_SETTINGS.sourceAfterSuccess, SOURCE_AFTER_SUCCESS_MODES);
  const sourceExpireDays = context('sourceExpireDays') === undefined ? undefined : integer(context, 'sourceExpireDays', 0, 1, 36_500);
  if (sourceExpireDays !== undefined && sourceAfterSuccess !== 'tag' && sourceAfterSuccess !== 'move') {
    throw new SettingsError('sourceExpireDays', 'unset unless sourceAfterSuccess is tag or move (it expires tagged or archived raw objects)', context('sourceExpireDays'));
  }
  const existingRawBucket = existingBucket(context, 'existingRawBucket');
  const existingProcessedBucket = existingBucket(context, 'existingProcessedBucket');
  if (existingRawBucket !== undefined && existingProcessedBucket !== undefined && bucketNameOf(existingRawBucket) === bucketNameOf(existingProcessedBucket)) {
    // Outputs mirror the raw keys, suffix included: each output would be announced as a new raw object, without end.
    throw new SettingsError('existingProcessedBucket', 'a bucket other than existingRawBucket (outputs keep the raw keys and suffixes)', existingProcessedBucket);
  }
  const existingProcessedBucketKmsKeyArn = optionalString(context, 'existingProcessedBucketKmsKeyArn', KMS_KEY_ARN, KMS_KEY_ARN_EXPECTATION);
  if (existingProcessedBucketKmsKeyArn !== undefined && existingProcessedBucket === undefined) {
    throw new SettingsError('existingProcessedBucketKmsKeyArn', 'unset unless existingProcessedBucket is set (the stack creates its own processed bucket)', existingProcessedBucketKmsKeyArn);
  }
  const schedule = reconcileSchedule(context);
  const reconcileWindowHours = integer(context, 'reconcileWindowHours', DEFAULT_SETTINGS.reconcileWindowHours, 1, 24 * 366);
  if (schedule?.intervalSeconds !== undefined && reconcileWindowHours * 3600 < schedule.intervalSeconds) {
    throw new SettingsError('reconcileWindowHours', `at least the time between reconcile runs (${schedule.expression}), or objects written between two windows are never checked`, reconcileWindowHours);
  }
  return {
    notificationMode: notificationMode(context, existingRawBucket),
    existingRawBucket,
    existingProcessedBucket,
    suffixes: suffixes(context),
    sources: sources(context, existingRawBucket, existingProcessedBucket),
    encryptionKey: encryptionKey(context),
    existingProcessedBucketKmsKeyArn,
    architecture: oneOf(context, 'architecture', DEFAULT_SETTINGS.architecture, ARCHITECTURES),
    cpu,
    memoryMiB,
    minTasks,
    maxTasks: integer(context, 'maxTasks', Math.max(minTasks, DEFAULT_SETTINGS.maxTasks), Math.max(1, minTasks), 1000),
    maxFilesInFlight,
    minFilesInFlight: integer(context, 'minFilesInFlight', Math.min(DEFAULT_SETTINGS.minFilesInFlight, maxFilesInFlight), 1, maxFilesInFlight),
    filesInFlightMode: oneOf(context, 'filesInFlightMode', DEFAULT_SETTINGS.filesInFlightMode, FILES_IN_FLIGHT_MODES),
    backlogPerTaskTarget: integer(context, 'backlogPerTaskTarget', DEFAULT_SETTINGS.backlogPerTaskTarget, 1, 100_000),
    longestFileSeconds: integer(context, 'longestFileSeconds', DEFAULT_SETTINGS.longestFileSeconds, 60, 43_200),
    maxReceiveCount: integer(context, 'maxReceiveCount', DEFAULT_SETTINGS.maxReceiveCount, 1, 1000),
    shutdownGraceSeconds,
    rejectedRetentionDays: integer(context, 'rejectedRetentionDays', DEFAULT_SETTINGS.rejectedRetentionDays, 1, 3650),
    logRetentionDays: logRetention(context),
    oldestMessageAlarmSeconds: integer(context, 'oldestMessageAlarmSeconds', DEFAULT_SETTINGS.oldestMessageAlarmSeconds, 60, 1_209_600),
    noProgressAlarmMinutes: integer(context, 'noProgressAlarmMinutes', DEFAULT_SETTINGS.noProgressAlarmMinutes, 1, 1440),
    // A day at most, as the worker accepts: an objective beyond it is not "minutes after upload".
    freshnessObjectiveSeconds: integer(context, 'freshnessObjectiveSeconds', DEFAULT_SETTINGS.freshnessObjectiveSeconds, 1, 86_400),
    alarmEmail: optionalString(context, 'alarmEmail', /^[^@\s]+@[^@\s]+$/, 'an e-mail address'),
    managedPrometheus: flag(context, 'managedPrometheus', DEFAULT_SETTINGS.managedPrometheus),
    deviceRegistryUri,
    deviceRegistryKmsKeyArn,
    natGateways: integer(context, 'natGateways', DEFAULT_SETTINGS.natGateways, 0, 3),
    outputFormat,
    dataLake,
    sourceAfterSuccess,
    sourceArchivePrefix: archivePrefix(context),
    sourceExpireDays,
    reconcileSchedule: schedule,
    reconcileWindowHours,
  };
}
