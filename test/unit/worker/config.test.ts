import { describe, it, expect } from '@jest/globals';
import { ConfigError, parseConfig, type Environment } from '../../../worker/config.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest';
const BASE: Environment = { AWS_REGION: 'eu-west-1', QUEUE_URL, PROCESSED_BUCKET: 'processed' };

function configError(env: Environment): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('parseConfig did not throw');
}

describe('parseConfig', () => {
  it('fills every default when only AWS_REGION, QUEUE_URL and PROCESSED_BUCKET are set', () => {
    expect(parseConfig(BASE)).toStrictEqual({
      aws: { region: 'eu-west-1', endpoint: undefined, forcePathStyle: false, idleTimeoutSeconds: 60 },
      queueUrl: QUEUE_URL,
      deadLetterQueueUrl: undefined,
      sources: undefined,
      output: {
        processedBucket: 'processed',
        processedPrefix: '',
        rejectedBucket: 'processed',
        rejectedPrefix: 'rejected/',
        format: 'jsonl',
        parquetPrefix: 'parquet/',
      },
      recordRules: { temperatureThresholdCelsius: 10, unknownLocationId: 'unknown' },
      inputLimits: {
        maxLineBytes: 1024 * 1024,
        maxObjectBytes: 10 * 1024 * 1024 * 1024,
        maxRecordsPerFile: 100_000_000,
      },
      deviceRegistry: { source: { kind: 'builtin' }, refreshSeconds: 300 },
      consumer: {
        maxFilesInFlight: 128,
        minFilesInFlight: 8,
        filesInFlightMode: 'adaptive',
        maxBytesInFlight: 64 * 1024 * 1024,
        waitTimeSeconds: 20,
        visibilityTimeoutSeconds: 60,
        heartbeatIntervalSeconds: 20,
        retryBackoffBaseSeconds: 10,
        retryBackoffMaxSeconds: 300,
        queueMetricsIntervalSeconds: 30,
      },
      upload: { partSizeBytes: 5 * 1024 * 1024, queueSize: 2 },
      afterSuccess: { source: { mode: 'keep', archive: { bucket: undefined, prefix: 'archive/' } }, fileEventsTopicArn: undefined },
      shutdownGraceSeconds: 25,
      freshnessObjectiveSeconds: 900,
      taskProtection: { agentUri: undefined, expiresInMinutes: 60, releaseDelaySeconds: 10, maxHoldSeconds: 1_800, yieldIdleSeconds: 60 },
      http: { host: '0.0.0.0', port: 8080 },
      logLevel: 'info',
    });
  });

  it('falls back to AWS_DEFAULT_REGION when AWS_REGION is unset', () => {
    expect(parseConfig({ ...BASE, AWS_REGION: undefined, AWS_DEFAULT_REGION: 'us-west-2' }).aws.region).toBe('us-west-2');
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION', () => {
    expect(parseConfig({ ...BASE, AWS_DEFAULT_REGION: 'us-west-2' }).aws.region).toBe('eu-west-1');
  });

  it('keeps an explicitly empty PROCESSED_PREFIX', () => {
    expect(parseConfig({ ...BASE, PROCESSED_PREFIX: '' }).output.processedPrefix).toBe('');
  });

  it('keeps an explicitly empty REJECTED_PREFIX when the rejected output has its own bucket', () => {
    const { output } = parseConfig({ ...BASE, REJECTED_BUCKET: 'rejected', REJECTED_PREFIX: '' });
    expect(output).toStrictEqual({
      processedBucket: 'processed',
      processedPrefix: '',
      rejectedBucket: 'rejected',
      rejectedPrefix: '',
      format: 'jsonl',
      parquetPrefix: 'parquet/',
    });
  });

  it('uses path-style S3 addressing by default when AWS_ENDPOINT_URL is set', () => {
    const { aws } = parseConfig({ ...BASE, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    expect(aws).toStrictEqual({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566', forcePathStyle: true, idleTimeoutSeconds: 60 });
  });

  it('derives the heartbeat from VISIBILITY_TIMEOUT_SECONDS', () => {
    expect(parseConfig({ ...BASE, VISIBILITY_TIMEOUT_SECONDS: '30' }).consumer.heartbeatIntervalSeconds).toBe(10);
  });

  it('says which variable is missing, and that it is not set', () => {
    const error = configError({ ...BASE, QUEUE_URL: undefined });
    expect(error.variable).toBe('QUEUE_URL');
    expect(error.message).toMatch(/^QUEUE_URL must be .*; it is not set$/);
  });

  it('names AWS_REGION when no region is set at all', () => {
    expect(configError({ ...BASE, AWS_REGION: undefined }).variable).toBe('AWS_REGION');
  });

  it.each([
    ['QUEUE_URL', 'not a url'],
    ['QUEUE_URL', 'ftp://example.com/queue'],
    ['AWS_ENDPOINT_URL', 'localhost:4566'],
    ['DLQ_URL', 'dlq'],
    ['MAX_FILES_IN_FLIGHT', 'abc'],
    ['MAX_FILES_IN_FLIGHT', '0'],
    ['MAX_FILES_IN_FLIGHT', '1.5'],
    ['MAX_FILES_IN_FLIGHT', '1025'],
    ['MIN_FILES_IN_FLIGHT', '0'],
    ['FILES_IN_FLIGHT_MODE', 'auto'],
    ['MAX_BYTES_IN_FLIGHT_MIB', '0'],
    ['MAX_BYTES_IN_FLIGHT_MIB', '64MiB'],
    ['LOG_LEVEL', 'loud'],
    ['S3_FORCE_PATH_STYLE', 'maybe'],
    ['DEVICE_REGISTRY', 's3://bucket-only'],
    ['DEVICE_REGISTRY', 's3://bucket/'],
    ['PROCESSED_PREFIX', '/out/'],
    ['REJECTED_PREFIX', '/rejected/'],
    ['TEMPERATURE_THRESHOLD_CELSIUS', 'warm'],
    ['TASK_PROTECTION_MAX_HOLD_SECONDS', '30m'],
    ['TASK_PROTECTION_MAX_HOLD_SECONDS', '-1'],
    ['TASK_PROTECTION_MAX_HOLD_SECONDS', '172801'],
    ['TASK_PROTECTION_YIELD_IDLE_SECONDS', '0'],
    ['TASK_PROTECTION_YIELD_IDLE_SECONDS', '1.5'],
    ['HTTP_PORT', '65536'],
    ['OUTPUT_FORMAT', 'csv'],
    ['UPLOAD_PART_SIZE_MIB', '4'],
  ])('rejects %s=%j with a message naming the variable and the value', (variable, value) => {
    const error = configError({ ...BASE, [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable} must be `)).toBe(true);
    expect(error.message.endsWith(`; got ${JSON.stringify(value)}`)).toBe(true);
  });

  it('reads the task protection hold limit and idle window, 0 turning the limit off', () => {
    const { taskProtection } = parseConfig({ ...BASE, TASK_PROTECTION_MAX_HOLD_SECONDS: '0', TASK_PROTECTION_YIELD_IDLE_SECONDS: '120' });
    expect(taskProtection).toMatchObject({ maxHoldSeconds: 0, yieldIdleSeconds: 120 });
    expect(configError({ ...BASE, TASK_PROTECTION_MAX_HOLD_SECONDS: 'half an hour' }).message).toBe(
      'TASK_PROTECTION_MAX_HOLD_SECONDS must be a whole number of seconds (0 = never) from 0 to 172800; got "half an hour"',
    );
  });

  it.each(['30', '31'])('rejects HEARTBEAT_INTERVAL_SECONDS=%s when VISIBILITY_TIMEOUT_SECONDS is 30', (heartbeat) => {
    const error = configError({ ...BASE, VISIBILITY_TIMEOUT_SECONDS: '30', HEARTBEAT_INTERVAL_SECONDS: heartbeat });
    expect(error.variable).toBe('HEARTBEAT_INTERVAL_SECONDS');
    expect(error.message).toBe(
      `HEARTBEAT_INTERVAL_SECONDS must be a whole number of seconds (below VISIBILITY_TIMEOUT_SECONDS) from 1 to 29; got "${heartbeat}"`,
    );
  });

  it('reads the bound on files in flight: a ceiling up to 1024, a floor at most the ceiling, adaptive or fixed', () => {
    const settings = { ...BASE, MAX_FILES_IN_FLIGHT: '1024', MIN_FILES_IN_FLIGHT: '16', FILES_IN_FLIGHT_MODE: 'fixed' };
    expect(parseConfig(settings).consumer).toMatchObject({ maxFilesInFlight: 1024, minFilesInFlight: 16, filesInFlightMode: 'fixed' });
  });

  it('lowers the MIN_FILES_IN_FLIGHT default to a lower MAX_FILES_IN_FLIGHT, and refuses a floor above the ceiling', () => {
    expect(parseConfig({ ...BASE, MAX_FILES_IN_FLIGHT: '2' }).consumer).toMatchObject({ maxFilesInFlight: 2, minFilesInFlight: 2 });
    expect(configError({ ...BASE, MAX_FILES_IN_FLIGHT: '32', MIN_FILES_IN_FLIGHT: '33' }).message).toBe(
      'MIN_FILES_IN_FLIGHT must be a whole number (at most MAX_FILES_IN_FLIGHT) from 1 to 32; got "33"',
    );
  });

  it('reads MAX_BYTES_IN_FLIGHT_MIB in MiB into bytes', () => {
    expect(parseConfig({ ...BASE, MAX_BYTES_IN_FLIGHT_MIB: '256' }).consumer.maxBytesInFlight).toBe(256 * 1024 * 1024);
  });

  it('reads UPLOAD_PART_SIZE_MIB in MiB into a part size in bytes', () => {
    expect(parseConfig({ ...BASE, UPLOAD_PART_SIZE_MIB: '16' }).upload.partSizeBytes).toBe(16 * 1024 * 1024);
  });

  it('lets S3_FORCE_PATH_STYLE override the default that AWS_ENDPOINT_URL sets', () => {
    expect(parseConfig({ ...BASE, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', S3_FORCE_PATH_STYLE: 'FALSE' }).aws.forcePathStyle).toBe(false);
    expect(parseConfig({ ...BASE, S3_FORCE_PATH_STYLE: '1' }).aws.forcePathStyle).toBe(true);
  });

  it('raises the RETRY_BACKOFF_MAX_SECONDS default to the base, and refuses a maximum below it', () => {
    expect(parseConfig({ ...BASE, RETRY_BACKOFF_BASE_SECONDS: '600' }).consumer.retryBackoffMaxSeconds).toBe(600);
    expect(configError({ ...BASE, RETRY_BACKOFF_BASE_SECONDS: '60', RETRY_BACKOFF_MAX_SECONDS: '30' }).message).toBe(
      'RETRY_BACKOFF_MAX_SECONDS must be a whole number of seconds (at least RETRY_BACKOFF_BASE_SECONDS) from 60 to 43200; got "30"',
    );
  });

  it('refuses an AWS_IDLE_TIMEOUT_SECONDS that a long poll would outlast', () => {
    expect(configError({ ...BASE, WAIT_TIME_SECONDS: '20', AWS_IDLE_TIMEOUT_SECONDS: '20' }).message).toBe(
      'AWS_IDLE_TIMEOUT_SECONDS must be more seconds than WAIT_TIME_SECONDS (20), or long polls would time out; got "20"',
    );
  });

  it('refuses a PARQUET_PREFIX inside REJECTED_PREFIX in a shared bucket, only with the parquet format', () => {
    expect(configError({ ...BASE, OUTPUT_FORMAT: 'parquet', PARQUET_PREFIX: 'rejected/parquet/' }).variable).toBe('PARQUET_PREFIX');
    expect(parseConfig({ ...BASE, PARQUET_PREFIX: 'rejected/parquet/' }).output.parquetPrefix).toBe('rejected/parquet/');
  });

  it('rejects an empty REJECTED_PREFIX when both outputs share a bucket', () => {
    const error = configError({ ...BASE, REJECTED_PREFIX: '' });
    expect(error.variable).toBe('REJECTED_PREFIX');
    expect(error.message).toMatch(/^REJECTED_PREFIX must be .*; got ""$/);
  });

  it('rejects a PROCESSED_PREFIX that lies inside REJECTED_PREFIX in a shared bucket', () => {
    expect(configError({ ...BASE, PROCESSED_PREFIX: 'rejected/ok/' }).variable).toBe('REJECTED_PREFIX');
  });

  describe('after success: SOURCE_AFTER_SUCCESS, the archive and FILE_EVENTS_TOPIC_ARN', () => {
    it('reads the mode, the archive location and the topic', () => {
      const config = parseConfig({
        ...BASE,
        SOURCE_AFTER_SUCCESS: 'move',
        SOURCE_ARCHIVE_BUCKET: 'raw-archive',
        SOURCE_ARCHIVE_PREFIX: 'done/',
        FILE_EVENTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:iot-ingest-file-events',
      });

      expect(config.afterSuccess).toStrictEqual({
        source: { mode: 'move', archive: { bucket: 'raw-archive', prefix: 'done/' } },
        fileEventsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:iot-ingest-file-events',
      });
    });

    it.each(['keep', 'tag', 'delete', 'move'] as const)('accepts SOURCE_AFTER_SUCCESS=%s', (mode) => {
      expect(parseConfig({ ...BASE, SOURCE_AFTER_SUCCESS: mode }).afterSuccess.source.mode).toBe(mode);
    });

    it('refuses an unknown mode in one line naming the variable and the choices', () => {
      expect(() => parseConfig({ ...BASE, SOURCE_AFTER_SUCCESS: 'archive' })).toThrow(
        'SOURCE_AFTER_SUCCESS must be one of keep, tag, delete, move; got "archive"',
      );
    });

    it('refuses an empty archive prefix with move, and lets it be with the other modes', () => {
      expect(() => parseConfig({ ...BASE, SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_PREFIX: '' })).toThrow(
        'SOURCE_ARCHIVE_PREFIX must be a non-empty key prefix when SOURCE_AFTER_SUCCESS is move; got ""',
      );
      expect(parseConfig({ ...BASE, SOURCE_AFTER_SUCCESS: 'tag', SOURCE_ARCHIVE_PREFIX: '' }).afterSuccess.source.archive.prefix).toBe('');
    });

    it('refuses an archive in the output bucket where outputs are written', () => {
      // PROCESSED_PREFIX '' is the whole processed bucket.
      const processedBucket = () => parseConfig({ ...BASE, SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_BUCKET: 'processed' });
      const rejected = () =>
        parseConfig({ ...BASE, PROCESSED_PREFIX: 'out/', SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_BUCKET: 'processed', SOURCE_ARCHIVE_PREFIX: 'rejected/old/' });

      expect(processedBucket).toThrow(ConfigError);
      expect(processedBucket).toThrow(/^SOURCE_ARCHIVE_PREFIX must be a prefix apart from the outputs under "" in SOURCE_ARCHIVE_BUCKET processed/);
      expect(rejected).toThrow(/apart from the outputs under "rejected\/"/);
    });

    it('accepts an archive beside the outputs in their bucket', () => {
      const config = parseConfig({ ...BASE, PROCESSED_PREFIX: 'out/', SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_BUCKET: 'processed', SOURCE_ARCHIVE_PREFIX: 'archive/' });

      expect(config.afterSuccess.source.archive).toStrictEqual({ bucket: 'processed', prefix: 'archive/' });
    });

    it.each([
      'arn:aws:sqs:eu-west-1:123456789012:queue',
      'arn:aws:sns:eu-west-1:123456789012:events.fifo',
      'iot-ingest-file-events',
      'arn:aws:sns:eu-west-1:1234:events',
    ])('refuses FILE_EVENTS_TOPIC_ARN=%s', (arn) => {
      expect(() => parseConfig({ ...BASE, FILE_EVENTS_TOPIC_ARN: arn })).toThrow(/^FILE_EVENTS_TOPIC_ARN must be a standard SNS topic ARN/);
    });
  });
  describe('SOURCES', () => {
    const SOURCES = [
      { bucket: 'raw-a', prefix: 'east/', outputPrefix: 'a-east/', expectedBucketOwner: '111122223333' },
      { bucket: 'raw-b', outputPrefix: 'b/' },
    ];

    it('reads the sources, prefixes defaulting to empty', () => {
      expect(parseConfig({ ...BASE, SOURCES: JSON.stringify(SOURCES) }).sources).toStrictEqual([
        { bucket: 'raw-a', prefix: 'east/', outputPrefix: 'a-east/', expectedBucketOwner: '111122223333' },
        { bucket: 'raw-b', prefix: '', outputPrefix: 'b/' },
      ]);
    });

    it('is unset when empty or blank: any bucket an event names', () => {
      expect(parseConfig({ ...BASE, SOURCES: '  ' }).sources).toBeUndefined();
    });

    it('refuses a bad value in one line naming SOURCES, the entry and the field', () => {
      const value = JSON.stringify([{ bucket: 'raw-a' }, { bucket: 'raw-b', prefix: 'east' }]);
      const error = configError({ ...BASE, SOURCES: value });
      expect(error.variable).toBe('SOURCES');
      expect(error.message).toBe(
        `SOURCES must be a JSON array of {bucket, prefix?, outputPrefix?, expectedBucketOwner?} (source 2 of 2: prefix must be empty or end with "/"; got "east"); got ${JSON.stringify(value)}`,
      );
      expect(error.message).not.toContain('\n');
    });

    it.each([['not json'], ['[]'], ['[{"bucket":"raw","owner":"111122223333"}]'], ['[{"bucket":"raw","expectedBucketOwner":"1234"}]']])(
      'refuses SOURCES=%s',
      (value) => {
        expect(configError({ ...BASE, SOURCES: value }).message).toMatch(/^SOURCES must be a JSON array of \{bucket, prefix\?, outputPrefix\?, expectedBucketOwner\?\} \(.+\); got /);
      },
    );

    it('refuses a source whose every processed output would land under REJECTED_PREFIX, the outputs sharing a bucket', () => {
      const value = JSON.stringify([{ bucket: 'raw', outputPrefix: 'rejected/' }]);
      expect(configError({ ...BASE, SOURCES: value }).message).toMatch(/^SOURCES must be .* whose processed outputs do not land under REJECTED_PREFIX "rejected\/" \(bucket "raw", prefix "", outputPrefix "rejected\/"\)/);
      expect(parseConfig({ ...BASE, SOURCES: value, REJECTED_BUCKET: 'rejected' }).sources).toHaveLength(1);
      expect(parseConfig({ ...BASE, SOURCES: value, OUTPUT_FORMAT: 'parquet' }).sources).toHaveLength(1);
    });
  });
});
