import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SETTINGS, readSettings } from '../../infra/settings.ts';

function settingsFrom(context: Record<string, unknown>) {
  return readSettings((key) => context[key]);
}

describe('deployment settings from CDK context', () => {
  it('defaults to direct notifications, arm64, 1 vCPU / 2 GiB, 1 to 10 tasks', () => {
    expect(settingsFrom({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({ notificationMode: 'direct', architecture: 'arm64', cpu: 1024, memoryMiB: 2048, minTasks: 1, maxTasks: 10 });
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

  it('derives the memory default from the CPU', () => {
    expect(settingsFrom({ cpu: 4096 }).memoryMiB).toBe(8192);
  });

  it.each([
    [{ notificationMode: 'sns' }, 'notificationMode must be one of direct, trigger'],
    [{ cpu: 768 }, 'cpu must be one of 256, 512, 1024, 2048, 4096'],
    [{ cpu: 512, memoryMiB: 8192 }, 'memoryMiB must be a whole number from 1024 to 4096'],
    [{ minTasks: -1 }, 'minTasks must be a whole number from 0 to 1000'],
    [{ minTasks: 5, maxTasks: 2 }, 'maxTasks must be a whole number from 5 to 1000'],
    [{ suffixes: '.gz,.jsonl.gz' }, 'suffixes must be suffixes that do not end one another (.gz overlaps)'],
    [{ suffixes: '' }, 'suffixes must be a non-empty list'],
    [{ logRetentionDays: 10 }, 'logRetentionDays must be one of 1, 3, 5'],
    [{ alarmEmail: 'ops' }, 'alarmEmail must be an e-mail address'],
    [{ deviceRegistryUri: 'https://x/y' }, 'deviceRegistryUri must be s3://bucket/key'],
    [{ managedPrometheus: 'yes' }, 'managedPrometheus must be true or false'],
    [{ outputFormat: 'csv' }, 'outputFormat must be one of jsonl, parquet'],
    [{ outputFormat: 'parquet', dataLake: 'yes' }, 'dataLake must be true or false'],
    [{ dataLake: true }, 'dataLake must be false unless outputFormat is parquet'],
    [{ outputFormat: 'jsonl', dataLake: 'true' }, 'dataLake must be false unless outputFormat is parquet'],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });
});
