/** `upload` puts files under prefix + name (multipart for big ones); `generate` is reproducible for a seed. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../worker/records/device-registry.ts';
import { createTestStack, testClients } from '../../../support/emulator.ts';
import { pipelineEnv, runOps } from '../../../support/cli-harness.ts';
import { startStackWithWorker } from '../../../support/worker-harness.ts';

const REGISTERED = Object.keys(DEFAULT_DEVICE_LOCATIONS);

let clients: AwsClients;
let directory: string;

beforeAll(async () => {
  clients = testClients();
  directory = await mkdtemp(join(tmpdir(), 'cli-upload-'));
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(directory, { recursive: true, force: true });
});

async function objectBytesIn(through: AwsClients, bucket: string, key: string): Promise<Buffer> {
  const { Body } = await through.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await Body?.transformToByteArray()) ?? []);
}

const objectBytes = (bucket: string, key: string) => objectBytesIn(clients, bucket, key);

describe('upload', () => {
  it('puts each file at prefix + file name, a big one in parts', async () => {
    const resources = await createTestStack(clients);
    const small = join(directory, 'small.jsonl');
    const big = join(directory, 'big.jsonl');
    await writeFile(small, '{"device_id":"a","temperature":20,"humidity":50}\n');
    // Above one 5 MiB part, which a single PutObject to the emulator would refuse.
    await writeFile(big, generateJsonl({ records: 45_000, devices: 5, seed: 3 }));

    const run = await runOps(['upload', '--prefix', 'site-1/', '--json', small, big], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const report = run.json<{ uploaded: Array<{ key: string; bytes: number }>; interrupted: boolean }>();
    expect(report.uploaded.map((file) => file.key)).toEqual(['site-1/small.jsonl', 'site-1/big.jsonl']);
    expect(report.uploaded[1]?.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect((await objectBytes(resources.rawBucket, 'site-1/small.jsonl')).equals(await readFile(small))).toBe(true);
    expect((await objectBytes(resources.rawBucket, 'site-1/big.jsonl')).equals(await readFile(big))).toBe(true);
  });

  it('refuses a missing file before uploading anything (exit 2)', async () => {
    const resources = await createTestStack(clients);

    const run = await runOps(['upload', join(directory, 'no-such-file.jsonl')], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('is not a file');
  });
});

describe('generate', () => {
  const options = ['--records', '3000', '--devices', '3', '--seed', '42', '--malformed-ratio', '0.2'];

  it('writes the same bytes for the same seed, on stdout and gzip-compressed alike', async () => {
    const first = await runOps(['generate', ...options]);
    const second = await runOps(['generate', ...options]);
    const otherSeed = await runOps(['generate', ...options.slice(0, 4), '--seed', '43']);
    const gzipA = join(directory, 'a.jsonl.gz');
    const gzipB = join(directory, 'b.jsonl');
    const gzipped = await runOps(['generate', ...options, '--output', gzipA, '--json']);
    await runOps(['generate', ...options, '--gzip', '--output', gzipB]);

    expect(first.exitCode).toBe(0);
    expect(first.stdoutBytes.equals(second.stdoutBytes)).toBe(true);
    expect(first.stdoutBytes.equals(otherSeed.stdoutBytes)).toBe(false);
    // The generator's lines, with devices of the registry in place of its numbered ones.
    const withoutDevices = (text: string) => text.replace(/^\{"device_id": "[^"]*"/gm, '{"device_id": ""');
    const generated = generateJsonl({ records: 3000, devices: 3, seed: 42, malformedRatio: 0.2 }).toString('utf8');
    expect(withoutDevices(first.stdout)).toBe(withoutDevices(generated));
    const compressed = await readFile(gzipA);
    expect(compressed.equals(await readFile(gzipB))).toBe(true);
    expect(gunzipSync(compressed).equals(first.stdoutBytes)).toBe(true);
    const summary = gzipped.json<{ records: number; valid: number; malformed: Record<string, number>; unregisteredDevices: number; bytes: number; gzip: boolean }>();
    expect(summary).toMatchObject({ records: 3000, gzip: true, bytes: compressed.length, unregisteredDevices: 0 });
    expect(summary.valid + Object.values(summary.malformed).reduce((sum, count) => sum + count, 0)).toBe(3000);
    expect(first.stderr).toContain('wrote 3000 records');
  });

  it('refuses bad options with exit 2', async () => {
    const badRatio = await runOps(['generate', '--malformed-ratio', '1.5']);
    const badDeviceRatio = await runOps(['generate', '--unknown-device-ratio', '-0.1']);
    const tooManyDevices = await runOps(['generate', '--devices', String(REGISTERED.length + 1)]);
    const jsonToStdout = await runOps(['generate', '--json']);
    const badTime = await runOps(['generate', '--start-time', 'yesterday']);

    expect([badRatio, badDeviceRatio, tooManyDevices, jsonToStdout, badTime].map((run) => run.exitCode)).toEqual([2, 2, 2, 2, 2]);
    expect(badRatio.stderr).toContain("'--malformed-ratio <r>' argument '1.5' is invalid");
    expect(badDeviceRatio.stderr).toContain("'--unknown-device-ratio <r>' argument '-0.1' is invalid. must be a number from 0 to 1");
    expect(tooManyDevices.stderr).toContain(`must be a whole number from 1 to ${REGISTERED.length}`);
    expect(tooManyDevices.stdoutBytes.length).toBe(0);
    expect(jsonToStdout.stderr).toContain('--json needs --output');
    expect(badTime.stderr).toContain('startTime must be an ISO 8601 time');
    expect(badTime.stdoutBytes.length).toBe(0);
  });
});

describe('generated data through the worker', () => {
  interface ProcessedRecord {
    device_id: string;
    location_id: string;
  }

  it('is enriched by the default registry: no unknown device unless asked, and about the share asked for', async () => {
    const pipeline = await startStackWithWorker();
    try {
      const env = pipelineEnv(pipeline.resources);
      const known = join(directory, 'known.jsonl');
      const mixed = join(directory, 'mixed.jsonl');
      const knownRun = await runOps(['generate', '--records', '2000', '--seed', '5', '--output', known, '--json']);
      const mixedRun = await runOps(['generate', '--records', '4000', '--seed', '5', '--unknown-device-ratio', '0.1', '--output', mixed, '--json']);
      expect((await runOps(['upload', '--prefix', 'gen/', known, mixed], { env })).exitCode).toBe(0);

      const records = async (key: string): Promise<ProcessedRecord[]> => {
        await pipeline.harness.waitForReport((report) => report.ref.key === key && report.outcome === 'succeeded', `${key} processed`);
        const text = (await objectBytesIn(pipeline.clients, pipeline.resources.processedBucket, key)).toString('utf8');
        return text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as ProcessedRecord);
      };
      const knownRecords = await records('gen/known.jsonl');
      const mixedRecords = await records('gen/mixed.jsonl');

      expect(knownRun.json<{ unregisteredDevices: number }>().unregisteredDevices).toBe(0);
      expect(knownRecords.length).toBeGreaterThan(1000);
      expect(new Set(knownRecords.map((record) => record.device_id))).toEqual(new Set(REGISTERED));
      for (const record of knownRecords) expect(record.location_id).toBe(DEFAULT_DEVICE_LOCATIONS[record.device_id]);

      const unregistered = mixedRun.json<{ records: number; unregisteredDevices: number }>();
      expect(Math.abs(unregistered.unregisteredDevices / unregistered.records - 0.1)).toBeLessThan(0.02);
      const unknown = mixedRecords.filter((record) => record.location_id === 'unknown');
      // The processed records are the two thirds above the temperature threshold: a sample of the file.
      expect(Math.abs(unknown.length / mixedRecords.length - 0.1)).toBeLessThan(0.03);
      for (const record of unknown) expect(record.device_id).toMatch(/^sensor-unregistered-\d+$/);
      for (const record of mixedRecords.filter((each) => each.location_id !== 'unknown')) {
        expect(record.location_id).toBe(DEFAULT_DEVICE_LOCATIONS[record.device_id]);
      }
    } finally {
      await pipeline.stop();
    }
  });
});
