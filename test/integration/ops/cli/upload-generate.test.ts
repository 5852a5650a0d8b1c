/** `upload` puts files under prefix + name (multipart for big ones); `generate` is reproducible for a seed. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { createTestStack, testClients } from '../../../support/emulator.ts';
import { pipelineEnv, runOps } from '../../../support/cli-harness.ts';

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

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const { Body } = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await Body?.transformToByteArray()) ?? []);
}

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
  const options = ['--records', '3000', '--devices', '7', '--seed', '42', '--malformed-ratio', '0.2'];

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
    expect(first.stdoutBytes.equals(generateJsonl({ records: 3000, devices: 7, seed: 42, malformedRatio: 0.2 }))).toBe(true);
    const compressed = await readFile(gzipA);
    expect(compressed.equals(await readFile(gzipB))).toBe(true);
    expect(gunzipSync(compressed).equals(first.stdoutBytes)).toBe(true);
    const summary = gzipped.json<{ records: number; valid: number; malformed: Record<string, number>; bytes: number; gzip: boolean }>();
    expect(summary).toMatchObject({ records: 3000, gzip: true, bytes: compressed.length });
    expect(summary.valid + Object.values(summary.malformed).reduce((sum, count) => sum + count, 0)).toBe(3000);
    expect(first.stderr).toContain('wrote 3000 records');
  });

  it('refuses bad options with exit 2', async () => {
    const badRatio = await runOps(['generate', '--malformed-ratio', '1.5']);
    const jsonToStdout = await runOps(['generate', '--json']);
    const badTime = await runOps(['generate', '--start-time', 'yesterday']);

    expect([badRatio.exitCode, jsonToStdout.exitCode, badTime.exitCode]).toEqual([2, 2, 2]);
    expect(badRatio.stderr).toContain("'--malformed-ratio <r>' argument '1.5' is invalid");
    expect(jsonToStdout.stderr).toContain('--json needs --output');
    expect(badTime.stderr).toContain('startTime must be an ISO 8601 time');
    expect(badTime.stdoutBytes.length).toBe(0);
  });
});
