import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SETTINGS, fargateMemoryMiB, filesInFlightEveryTaskTakes, readSettings } from '../../infra/settings.ts';

function settingsFrom(context: Record<string, unknown>) {
  return readSettings((key) => context[key]);
}

describe('deployment settings from CDK context', () => {
  it('defaults to direct notifications, arm64, 1 vCPU / 2 GiB, 1 to 10 tasks', () => {
    expect(settingsFrom({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({ notificationMode: 'direct', architecture: 'arm64', cpu: 1024, memoryMiB: 2048, minTasks: 1, maxTasks: 15 });
  });

  it('reads strings as -c key=value gives them', () => {
    expect(settingsFrom({ minTasks: '0', maxTasks: '4', managedPrometheus: 'true', suffixes: '.json, .ndjson' })).toMatchObject({
      minTasks: 0,
      maxTasks: 4,
      managedPrometheus: true,
      suffixes: ['.json', '.ndjson'],
    });
  });

  it('writes JSON Lines without a data lake by default; the data lake comes with Parquet output', () => {
    expect(settingsFrom({})).toMatchObject({ outputFormat: 'jsonl', dataLake: false });
    expect(settingsFrom({ outputFormat: 'parquet' })).toMatchObject({ outputFormat: 'parquet', dataLake: false });
    expect(settingsFrom({ outputFormat: 'parquet', dataLake: 'true' })).toMatchObject({ outputFormat: 'parquet', dataLake: true });
  });

  it('gives each task an adaptive bound on files in flight from 8 to 128, whose floor follows a lower ceiling', () => {
    expect(settingsFrom({})).toMatchObject({ filesInFlightMode: 'adaptive', minFilesInFlight: 8, maxFilesInFlight: 128 });
    expect(settingsFrom({ maxFilesInFlight: '4' })).toMatchObject({ minFilesInFlight: 4, maxFilesInFlight: 4 });
    expect(settingsFrom({ maxFilesInFlight: 1024, minFilesInFlight: 32, filesInFlightMode: 'fixed' })).toMatchObject({
      filesInFlightMode: 'fixed',
      minFilesInFlight: 32,
      maxFilesInFlight: 1024,
    });
  });

  it('counts as a task\'s file slots its floor, or its fixed bound', () => {
    expect(filesInFlightEveryTaskTakes(settingsFrom({ minFilesInFlight: 16 }))).toBe(16);
    expect(filesInFlightEveryTaskTakes(settingsFrom({ minFilesInFlight: 16, filesInFlightMode: 'fixed' }))).toBe(128);
  });

  it('derives the memory default from the CPU', () => {
    expect(settingsFrom({ cpu: 256 }).memoryMiB).toBe(2048);
    expect(settingsFrom({ cpu: 4096 }).memoryMiB).toBe(8192);
    expect(settingsFrom({ cpu: 16384 }).memoryMiB).toBe(32768);
  });

  it("knows Fargate's CPU/memory table: each CPU with its own memory sizes and steps", () => {
    expect(fargateMemoryMiB(256)).toEqual([512, 1024, 2048]);
    expect(fargateMemoryMiB(512)).toEqual([1024, 2048, 3072, 4096]);
    expect(fargateMemoryMiB(1024)).toEqual([2048, 3072, 4096, 5120, 6144, 7168, 8192]);
    expect(fargateMemoryMiB(2048)).toHaveLength(13);
    expect(fargateMemoryMiB(4096)).toEqual(Array.from({ length: 23 }, (_, index) => 8192 + index * 1024));
    expect(fargateMemoryMiB(8192)).toEqual(Array.from({ length: 12 }, (_, index) => 16384 + index * 4096));
    expect(fargateMemoryMiB(16384)).toEqual(Array.from({ length: 12 }, (_, index) => 32768 + index * 8192));
    expect(fargateMemoryMiB(768)).toEqual([]);
  });

  it.each([
    [256, 512],
    [512, '3072'],
    [2048, 16384],
    [4096, 30720],
    [8192, 61440],
    [16384, 122880],
  ])('accepts cpu %j with memoryMiB %j', (cpu, memoryMiB) => {
    expect(settingsFrom({ cpu, memoryMiB })).toMatchObject({ cpu, memoryMiB: Number(memoryMiB) });
  });

  it('promises data within 15 minutes of upload unless freshnessObjectiveSeconds says otherwise', () => {
    expect(settingsFrom({})).toMatchObject({ freshnessObjectiveSeconds: 900 });
    expect(settingsFrom({ freshnessObjectiveSeconds: '300' })).toMatchObject({ freshnessObjectiveSeconds: 300 });
    expect(settingsFrom({ freshnessObjectiveSeconds: 86_400 })).toMatchObject({ freshnessObjectiveSeconds: 86_400 });
  });

  it('reads a device registry KMS key only with a device registry', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    expect(settingsFrom({})).toMatchObject({ deviceRegistryKmsKeyArn: undefined });
    expect(settingsFrom({ deviceRegistryUri: 's3://config/registry.json', deviceRegistryKmsKeyArn: keyArn })).toMatchObject({ deviceRegistryKmsKeyArn: keyArn });
  });

  it('keeps raw objects and reconciles daily over 48 hours by default', () => {
    expect(settingsFrom({})).toMatchObject({
      sourceAfterSuccess: 'keep',
      sourceArchivePrefix: 'archive/',
      sourceExpireDays: undefined,
      reconcileSchedule: { expression: 'rate(1 day)', intervalSeconds: 86_400 },
      reconcileWindowHours: 48,
    });
  });

  it('reads the source mode, its archive prefix and expiry, as -c gives them', () => {
    expect(settingsFrom({ sourceAfterSuccess: 'move', sourceArchivePrefix: 'done/raw/', sourceExpireDays: '30' })).toMatchObject({
      sourceAfterSuccess: 'move',
      sourceArchivePrefix: 'done/raw/',
      sourceExpireDays: 30,
    });
    expect(settingsFrom({ sourceAfterSuccess: 'tag', sourceExpireDays: 1 })).toMatchObject({ sourceAfterSuccess: 'tag', sourceExpireDays: 1 });
    expect(settingsFrom({ sourceAfterSuccess: 'delete' })).toMatchObject({ sourceAfterSuccess: 'delete', sourceExpireDays: undefined });
  });

  it('reads the reconcile schedule: a rate with the time between runs, a cron expression, or off', () => {
    expect(settingsFrom({ reconcileSchedule: 'rate(6 hours)', reconcileWindowHours: '12' })).toMatchObject({
      reconcileSchedule: { expression: 'rate(6 hours)', intervalSeconds: 21_600 },
      reconcileWindowHours: 12,
    });
    expect(settingsFrom({ reconcileSchedule: 'rate(1 minute)' }).reconcileSchedule).toEqual({ expression: 'rate(1 minute)', intervalSeconds: 60 });
    expect(settingsFrom({ reconcileSchedule: 'cron(0 3 * * ? *)' }).reconcileSchedule).toEqual({ expression: 'cron(0 3 * * ? *)', intervalSeconds: undefined });
    expect(settingsFrom({ reconcileSchedule: 'off' }).reconcileSchedule).toBeUndefined();
  });

  it('reads one source by default, the stack\'s raw bucket whole; sources as -c gives them (a JSON string) or as cdk.json does (an array)', () => {
    expect(settingsFrom({}).sources).toEqual([{ bucket: undefined, prefix: '', outputPrefix: '', account: undefined, kmsKeyArn: undefined }]);
    const list = [
      { prefix: 'fleet-a/', outputPrefix: 'a/' },
      { bucket: 'arn:aws:s3:::partner-uploads', prefix: 'iot/', account: '444455556666', kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab' },
    ];
    const expected = [
      { bucket: undefined, prefix: 'fleet-a/', outputPrefix: 'a/', account: undefined, kmsKeyArn: undefined },
      { bucket: 'arn:aws:s3:::partner-uploads', prefix: 'iot/', outputPrefix: '', account: '444455556666', kmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab' },
    ];
    expect(settingsFrom({ sources: JSON.stringify(list) }).sources).toEqual(expected);
    expect(settingsFrom({ sources: list }).sources).toEqual(expected);
    // existingRawBucket named again is the stack's raw bucket.
    expect(settingsFrom({ existingRawBucket: 'acme-raw', sources: [{ bucket: 'arn:aws:s3:::acme-raw', prefix: 'a/' }] }).sources[0]?.bucket).toBeUndefined();
    // One bucket with prefixes apart, and outputs apart across buckets.
    expect(settingsFrom({ sources: [{ prefix: 'a/' }, { prefix: 'b/' }, { bucket: 'other-raw', prefix: 'a/', outputPrefix: 'other/' }] }).sources).toHaveLength(3);
  });

  it('encrypts with AWS managed keys by default; a key the stack creates or a key ARN on request', () => {
    expect(settingsFrom({})).toMatchObject({ encryptionKey: 'aws-managed', existingProcessedBucketKmsKeyArn: undefined });
    expect(settingsFrom({ encryptionKey: 'create' }).encryptionKey).toBe('create');
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(settingsFrom({ encryptionKey: key }).encryptionKey).toBe(key);
    expect(settingsFrom({ existingProcessedBucket: 'acme-processed', existingProcessedBucketKmsKeyArn: key }).existingProcessedBucketKmsKeyArn).toBe(key);
  });

  it.each([
    [{ sources: '[' }, 'sources must be a non-empty JSON array of {"bucket"?'],
    [{ sources: '[]' }, 'sources must be a non-empty JSON array'],
    [{ sources: '{"bucket":"acme-raw"}' }, 'sources must be a non-empty JSON array'],
    [{ sources: ['acme-raw'] }, 'sources must be source 1: an object'],
    [{ sources: [{ bucket: 'acme-raw', prefx: 'a/' }] }, 'sources must be source 1: an object with only the fields bucket, prefix, outputPrefix, account, kmsKeyArn (not prefx)'],
    [{ sources: [{ bucket: 'Acme_Raw' }] }, 'sources must be source 1: bucket an S3 bucket name or ARN'],
    [{ sources: [{ prefix: 'a/' }, { bucket: 'arn:aws:s3:::acme/raw' }] }, 'sources must be source 2: bucket an S3 bucket name or ARN'],
    [{ sources: [{ prefix: 'a' }] }, 'sources must be source 1: prefix empty or ending with "/"'],
    [{ sources: [{ prefix: 'a*/' }] }, 'sources must be source 1: prefix empty or ending with "/", with no * ? or control characters'],
    [{ sources: [{ prefix: 'a?/' }] }, 'sources must be source 1: prefix empty or ending with "/"'],
    [{ sources: [{ prefix: 'a\n/' }] }, 'sources must be source 1: prefix empty or ending with "/"'],
    [{ sources: [{ prefix: 3 }] }, 'sources must be source 1: prefix empty or ending with "/"'],
    [{ sources: [{ outputPrefix: 'out' }] }, 'sources must be source 1: outputPrefix empty or ending with "/"'],
    [{ sources: [{ account: '444455556666' }] }, "sources must be source 1: account only with a bucket (the stack's raw bucket is in the stack's account)"],
    [{ sources: [{ bucket: 'partner', account: '4444' }] }, 'sources must be source 1: account a 12-digit account id'],
    [{ sources: [{ kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/raw' }] }, 'sources must be source 1: kmsKeyArn a KMS key ARN'],
    [{ sources: [{ prefix: 'a/' }, { prefix: 'a/b/', outputPrefix: 'b/' }] }, "sources must be sources with prefixes apart in one bucket (sources 1 and 2 overlap in the stack's raw bucket"],
    [{ sources: [{}, { prefix: 'b/' }] }, 'sources must be sources with prefixes apart in one bucket'],
    [{ sources: [{ bucket: 'acme-a', prefix: 'x/' }, { bucket: 'arn:aws:s3:::acme-a', prefix: 'x/' }] }, 'sources must be sources with prefixes apart in one bucket (sources 1 and 2 overlap in acme-a'],
    [{ sources: [{ bucket: 'acme-a' }, { bucket: 'acme-b' }] }, 'sources must be sources whose outputs cannot meet (sources 1 and 2 could write the same output key'],
    [{ sources: [{ bucket: 'acme-a', prefix: 'x/' }, { bucket: 'acme-b', prefix: 'x/y/', outputPrefix: '' }] }, 'sources must be sources whose outputs cannot meet'],
    [{ sources: [{ bucket: 'acme-a', outputPrefix: 'x/' }, { bucket: 'acme-b', prefix: 'x/' }] }, 'sources must be sources whose outputs cannot meet'],
    [{ sources: [{ prefix: 'y/', outputPrefix: 'x/' }, { prefix: 'x/y/' }] }, 'sources must be sources whose outputs cannot meet'],
    [{ sources: [{ bucket: 'acme-a', prefix: 'a/', account: '444455556666' }, { bucket: 'acme-a', prefix: 'b/' }] }, 'sources must be one account per bucket'],
    [{ existingProcessedBucket: 'acme-processed', sources: [{ bucket: 'acme-processed' }] }, 'sources must be sources other than existingProcessedBucket (source 1 reads it)'],
    [{ encryptionKey: 'kms' }, 'encryptionKey must be aws-managed, create, or a KMS key ARN'],
    [{ encryptionKey: 'arn:aws:kms:eu-west-1:111122223333:alias/ingest' }, 'encryptionKey must be aws-managed, create, or a KMS key ARN'],
    [{ existingProcessedBucket: 'acme-processed', existingProcessedBucketKmsKeyArn: 'key-1' }, 'existingProcessedBucketKmsKeyArn must be a KMS key ARN'],
    [{ existingProcessedBucketKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }, 'existingProcessedBucketKmsKeyArn must be unset unless existingProcessedBucket is set'],
  ])('refuses sources and keys %j, naming the key', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });

  it.each([
    [{ notificationMode: 'sns' }, 'notificationMode must be one of direct, trigger'],
    [{ cpu: 768 }, 'cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384'],
    [{ cpu: 128 }, 'cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384'],
    [{ cpu: 512, memoryMiB: 8192 }, 'memoryMiB must be one of 1024, 2048, 3072, 4096 (what Fargate accepts with cpu 512); got 8192'],
    [{ cpu: 256, memoryMiB: 1536 }, 'memoryMiB must be one of 512, 1024, 2048 (what Fargate accepts with cpu 256); got 1536'],
    [{ cpu: 1024, memoryMiB: 2500 }, 'memoryMiB must be one of 2048, 3072, 4096, 5120, 6144, 7168, 8192 (what Fargate accepts with cpu 1024); got 2500'],
    [{ cpu: 8192, memoryMiB: 18432 }, 'memoryMiB must be one of 16384, 20480, 24576,'],
    [{ cpu: 16384, memoryMiB: 16384 }, 'memoryMiB must be one of 32768, 40960,'],
    [{ memoryMiB: 'lots' }, 'memoryMiB must be one of 2048, 3072'],
    [{ deviceRegistryKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }, 'deviceRegistryKmsKeyArn must be unset unless deviceRegistryUri is set'],
    [{ deviceRegistryUri: 's3://config/registry.json', deviceRegistryKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/registry' }, 'deviceRegistryKmsKeyArn must be a KMS key ARN'],
    [{ minTasks: -1 }, 'minTasks must be a whole number from 0 to 1000'],
    [{ maxFilesInFlight: 1025 }, 'maxFilesInFlight must be a whole number from 1 to 1024'],
    [{ maxFilesInFlight: 16, minFilesInFlight: 17 }, 'minFilesInFlight must be a whole number from 1 to 16'],
    [{ filesInFlightMode: 'auto' }, 'filesInFlightMode must be one of adaptive, fixed'],
    [{ minTasks: 5, maxTasks: 2 }, 'maxTasks must be a whole number from 5 to 1000'],
    [{ suffixes: '.gz,.jsonl.gz' }, 'suffixes must be suffixes that do not end one another (.gz overlaps)'],
    [{ suffixes: '' }, 'suffixes must be a non-empty list'],
    [{ logRetentionDays: 10 }, 'logRetentionDays must be one of 1, 3, 5'],
    [{ freshnessObjectiveSeconds: 0 }, 'freshnessObjectiveSeconds must be a whole number from 1 to 86400'],
    [{ freshnessObjectiveSeconds: 86_401 }, 'freshnessObjectiveSeconds must be a whole number from 1 to 86400; got 86401'],
    [{ freshnessObjectiveSeconds: '15m' }, 'freshnessObjectiveSeconds must be a whole number from 1 to 86400; got "15m"'],
    [{ freshnessObjectiveSeconds: 90.5 }, 'freshnessObjectiveSeconds must be a whole number from 1 to 86400; got 90.5'],
    [{ alarmEmail: 'ops' }, 'alarmEmail must be an e-mail address'],
    [{ deviceRegistryUri: 'https://x/y' }, 'deviceRegistryUri must be s3://bucket/key'],
    [{ managedPrometheus: 'yes' }, 'managedPrometheus must be true or false'],
    [{ outputFormat: 'csv' }, 'outputFormat must be one of jsonl, parquet'],
    [{ outputFormat: 'parquet', dataLake: 'yes' }, 'dataLake must be true or false'],
    [{ dataLake: true }, 'dataLake must be false unless outputFormat is parquet'],
    [{ outputFormat: 'jsonl', dataLake: 'true' }, 'dataLake must be false unless outputFormat is parquet'],
    [{ sourceAfterSuccess: 'archive' }, 'sourceAfterSuccess must be one of keep, tag, delete, move'],
    [{ sourceArchivePrefix: 'archive' }, 'sourceArchivePrefix must be a key prefix ending with "/"'],
    [{ sourceArchivePrefix: '/archive/' }, 'sourceArchivePrefix must be a key prefix ending with "/"'],
    [{ sourceArchivePrefix: 'arch*/' }, 'sourceArchivePrefix must be a key prefix ending with "/"'],
    [{ sourceArchivePrefix: '' }, 'sourceArchivePrefix must be a key prefix ending with "/"'],
    [{ sourceExpireDays: 7 }, 'sourceExpireDays must be unset unless sourceAfterSuccess is tag or move'],
    [{ sourceAfterSuccess: 'delete', sourceExpireDays: 7 }, 'sourceExpireDays must be unset unless sourceAfterSuccess is tag or move'],
    [{ sourceAfterSuccess: 'tag', sourceExpireDays: 0 }, 'sourceExpireDays must be a whole number from 1 to 36500'],
    [{ sourceAfterSuccess: 'move', sourceExpireDays: '1w' }, 'sourceExpireDays must be a whole number from 1 to 36500'],
    [{ reconcileSchedule: 'rate(1 days)' }, 'reconcileSchedule must be off, rate(N minutes|hours|days)'],
    [{ reconcileSchedule: 'rate(2 hour)' }, 'reconcileSchedule must be off, rate('],
    [{ reconcileSchedule: 'rate(0 minutes)' }, 'reconcileSchedule must be off, rate('],
    [{ reconcileSchedule: 'rate(2 days)', reconcileWindowHours: 72 }, 'reconcileSchedule must be off, rate(N minutes|hours|days) from 1 minute to 1 day'],
    [{ reconcileSchedule: 'daily' }, 'reconcileSchedule must be off, rate('],
    [{ reconcileSchedule: 'cron(0 3 * * ?)' }, 'reconcileSchedule must be off, rate('],
    [{ reconcileSchedule: false }, 'reconcileSchedule must be off, rate('],
    [{ reconcileWindowHours: 0 }, 'reconcileWindowHours must be a whole number from 1 to 8784'],
    [{ reconcileWindowHours: 12 }, 'reconcileWindowHours must be at least the time between reconcile runs (rate(1 day))'],
    [{ reconcileSchedule: 'rate(12 hours)', reconcileWindowHours: 11 }, 'reconcileWindowHours must be at least the time between reconcile runs (rate(12 hours))'],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });
});
