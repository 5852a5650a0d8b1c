/**
 * `smoke` against the emulator: with a worker running every check passes and the smoke objects are
 * gone afterwards (the real `node ops/cli/main.ts`, --local); the outputs are exact (--keep, settings from a
 * stack outputs file); Parquet output is found where the worker puts it; without a worker the output checks fail within --timeout (exit 1); a DLQ holding
 * a message fails its check; Ctrl-C exits 3 and still cleans up; bad usage exits 2, no emulator exits 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CheckRow } from '../../../../ops/cli/smoke/checks.ts';
import type { SmokeReport } from '../../../../ops/cli/smoke/run.ts';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { createTestStack, readObjectText, testClients } from '../../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../../support/worker-harness.ts';
import { emulatorEnv, pipelineEnv, runOps, seedQueue, freePort, runCliProcess } from '../../../support/cli-harness.ts';

const CHILD_TIMEOUT_MS = 25_000;

const cli = (args: readonly string[], env: Record<string, string>, onStderr?: (text: string, interrupt: () => void) => void) =>
  runCliProcess(args, env, CHILD_TIMEOUT_MS, onStderr);

let clients: AwsClients;
let directory: string;
const running: StackWithWorker[] = [];

beforeAll(async () => {
  clients = testClients();
  directory = await mkdtemp(join(tmpdir(), 'cli-smoke-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((pipeline) => pipeline.stop()));
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(directory, { recursive: true, force: true });
});

async function withWorker(env: Record<string, string> = {}): Promise<StackWithWorker> {
  const pipeline = await startStackWithWorker({ env });
  running.push(pipeline);
  return pipeline;
}

const portOf = (url: string) => new URL(url).port;
const emulatorPort = () => portOf(emulatorEnv()['AWS_ENDPOINT_URL'] ?? '');

/** Every key in the bucket. */
async function keysIn(bucket: string): Promise<string[]> {
  const { Contents = [] } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Contents.map((object) => object.Key ?? '');
}

/** The table row of a check: `name  result  detail`. */
function row(stdout: string, check: string): { result: string; detail: string } | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`${check}  `));
  const match = line?.slice(check.length).match(/^\s+(pass|fail|skip)\s+(.*)$/);
  return match ? { result: match[1] ?? '', detail: match[2] ?? '' } : undefined;
}

function byCheck(report: SmokeReport): Record<string, CheckRow> {
  return Object.fromEntries(report.checks.map((check) => [check.check, check]));
}

/** Flags that point --local at this test's own buckets and queues (on the test emulator). */
function localFlags(resources: LocalResources): string[] {
  return ['--local', '--raw-bucket', resources.rawBucket, '--processed-bucket', resources.processedBucket, '--queue-url', resources.queueUrl, '--dlq-url', resources.dlqUrl];
}

describe('ops smoke', () => {
  it('passes every check with a worker running, prints the table, exits 0 and leaves no smoke object behind', async () => {
    const { resources, harness } = await withWorker();
    const env = { LOCAL_EMULATOR_PORT: emulatorPort(), HTTP_PORT: portOf(harness.worker.httpAddress) };

    const run = await cli(['smoke', ...localFlags(resources), '--timeout', '20'], env);

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^put s3:\/\/\S+\/smoke\/\S+\.jsonl; waiting up to 20 s for its outputs \(Ctrl-C stops and cleans up\)\n$/);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^check\s+result\s+detail$/);
    expect(row(run.stdout, 'upload')).toEqual({
      result: 'pass',
      detail: expect.stringMatching(new RegExp(`^s3://${resources.rawBucket}/smoke/\\d{8}T\\d{6}Z-[0-9a-f]{8}\\.jsonl: 3 lines \\(processed, filtered, rejected\\), \\d+ bytes$`)),
    });
    expect(row(run.stdout, 'processed output')).toMatchObject({ result: 'pass', detail: expect.stringContaining('location_id and temp_fahrenheit appended, as expected') });
    expect(row(run.stdout, 'rejected output')).toMatchObject({ result: 'pass', detail: expect.stringContaining('line 3 missing_field (humidity), as expected') });
    expect(row(run.stdout, 'dead-letter queue')).toMatchObject({ result: 'pass', detail: expect.stringContaining('0 visible, 0 in flight, empty') });
    expect(row(run.stdout, 'metrics')).toEqual({
      result: 'pass',
      detail: `iot_ingest_files_total{outcome="succeeded"} 0 → 1 at http://127.0.0.1:${env.HTTP_PORT}/metrics`,
    });
    expect(row(run.stdout, 'alarm')).toEqual({ result: 'skip', detail: '--local: there is no CloudWatch locally' });
    expect(row(run.stdout, 'cleanup')).toEqual({ result: 'pass', detail: 'deleted 3 object(s)' });
    expect(lines.at(-1)).toBe('smoke test passed: 6 passed, 0 failed, 1 skipped');
    const report = harness.reports.find((candidate) => candidate.ref.key.startsWith('smoke/'));
    expect(report?.result).toMatchObject({ outcome: 'succeeded', tally: { processed: 1, filtered: 1, rejected: 1 } });
    expect([...(await keysIn(resources.rawBucket)), ...(await keysIn(resources.processedBucket))]).toEqual([]);
  });

  it('with --keep the outputs stay, byte for byte as expected; settings from a stack outputs file; metrics from the queue', async () => {
    const { resources } = await withWorker();
    const outputsFile = join(directory, 'cdk-outputs.json');
    await writeFile(
      outputsFile,
      JSON.stringify({
        IotIngest: {
          RawBucketName: resources.rawBucket,
          ProcessedBucketName: resources.processedBucket,
          QueueUrl: resources.queueUrl,
          DeadLetterQueueUrl: resources.dlqUrl,
          AlarmTopicArn: 'arn:aws:sns:us-east-1:000000000000:unused',
        },
      }),
    );

    const run = await runOps(['smoke', '--outputs-file', outputsFile, '--keep', '--json', '--timeout', '20'], { env: emulatorEnv() });

    expect(run.exitCode).toBe(0);
    const report = run.json<SmokeReport>();
    const checks = byCheck(report);
    expect(report.passed).toBe(true);
    expect(checks['metrics']).toMatchObject({ result: 'pass', detail: expect.stringMatching(/^no --metrics-url; .+: 0 visible, 0 in flight, 0 delayed: drained/) });
    expect(checks['alarm']).toMatchObject({ result: 'skip', detail: 'an endpoint of its own (--endpoint, AWS_ENDPOINT_URL) has no CloudWatch' });
    expect(checks['cleanup']).toMatchObject({ result: 'skip', detail: expect.stringMatching(/^--keep: s3:\/\//) });
    expect(report.objects).toEqual({
      raw: `s3://${resources.rawBucket}/${report.key}`,
      processed: `s3://${resources.processedBucket}/${report.key}`,
      rejected: `s3://${resources.processedBucket}/rejected/${report.key}`,
    });
    const input = await readObjectText(clients.s3, resources.rawBucket, report.key);
    const [processedLine, , rejectedLine] = (input ?? '').split('\n');
    expect(await readObjectText(clients.s3, resources.processedBucket, report.key)).toBe(
      `${processedLine?.slice(0, -1)},"location_id":"unknown","temp_fahrenheit":70.7}\n`,
    );
    expect(JSON.parse((await readObjectText(clients.s3, resources.processedBucket, `rejected/${report.key}`)) ?? '')).toEqual({
      line: 3,
      reason: 'missing_field',
      field: 'humidity',
      message: 'humidity is missing',
      text: rejectedLine,
    });
  });

  it('finds the processed output as Parquet when the worker writes Parquet, and deletes it too', async () => {
    const { resources, harness } = await withWorker({ OUTPUT_FORMAT: 'parquet' });

    const run = await runOps(['smoke', '--metrics-url', `${harness.worker.httpAddress}/metrics`, '--json', '--timeout', '20'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const report = run.json<SmokeReport>();
    expect(byCheck(report)['processed output']).toMatchObject({ result: 'pass', detail: expect.stringContaining('a Parquet object of') });
    expect(report.objects.processed).toMatch(new RegExp(`^s3://${resources.processedBucket}/parquet/dt=\\d{4}-\\d{2}-\\d{2}/smoke/.+\\.parquet$`));
    expect(byCheck(report)['cleanup']).toMatchObject({ result: 'pass', detail: 'deleted 3 object(s)' });
    expect(await keysIn(resources.processedBucket)).toEqual([]);
  });

  it('with no worker running, the output checks fail within --timeout and the command exits 1', async () => {
    const resources = await createTestStack(clients);
    const startedMs = Date.now();

    const run = await runOps(['smoke', '--timeout', '2'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(1);
    expect(Date.now() - startedMs).toBeLessThan(10_000);
    expect(row(run.stdout, 'upload')?.result).toBe('pass');
    expect(row(run.stdout, 'processed output')).toEqual({
      result: 'fail',
      detail: expect.stringMatching(/ not there after 2 s: is a worker running and consuming the queue\?$/),
    });
    expect(row(run.stdout, 'rejected output')?.result).toBe('fail');
    expect(row(run.stdout, 'dead-letter queue')?.result).toBe('pass');
    expect(row(run.stdout, 'metrics')).toEqual({ result: 'fail', detail: expect.stringMatching(/^no --metrics-url; .+: 2 visible, 0 in flight, 0 delayed: not drained$/) });
    expect(row(run.stdout, 'cleanup')).toEqual({ result: 'pass', detail: expect.stringMatching(/^deleted 1 object\(s\); not found, so not deleted if they appear later: /) });
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('smoke test FAILED: 3 passed, 3 failed, 1 skipped');
    expect(await keysIn(resources.rawBucket)).toEqual([]);
  });

  it('fails the DLQ check when the DLQ holds a message, while the file itself passes (--metrics-url)', async () => {
    const { resources, harness } = await withWorker();
    await seedQueue(clients.sqs, resources.dlqUrl, [{ body: 'an old poison message' }]);

    const run = await runOps(['smoke', '--metrics-url', `${harness.worker.httpAddress}/metrics`, '--json', '--timeout', '20'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(1);
    const checks = byCheck(run.json<SmokeReport>());
    expect(checks['dead-letter queue']).toMatchObject({ result: 'fail', detail: expect.stringContaining('1 visible, 0 in flight: see npm run ops -- dlq peek') });
    for (const check of ['upload', 'processed output', 'rejected output', 'metrics', 'cleanup']) expect(checks[check]?.result).toBe('pass');
  });

  it('exits 3 on Ctrl-C during the wait, skipping what is left, and still deletes the smoke file', async () => {
    const resources = await createTestStack(clients);
    let interrupted = false;

    const run = await cli(['smoke', ...localFlags(resources), '--timeout', '20'], { LOCAL_EMULATOR_PORT: emulatorPort(), HTTP_PORT: String(await freePort()) }, (stderr, interrupt) => {
      if (!interrupted && stderr.includes('waiting up to')) {
        interrupted = true;
        setTimeout(interrupt, 300);
      }
    });

    expect(run.code).toBe(3);
    for (const check of ['processed output', 'rejected output', 'dead-letter queue', 'metrics', 'alarm']) {
      expect(row(run.stdout, check)).toEqual({ result: 'skip', detail: 'interrupted (Ctrl-C)' });
    }
    expect(row(run.stdout, 'cleanup')).toMatchObject({ result: 'pass', detail: expect.stringMatching(/^deleted 1 object\(s\)/) });
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('smoke test interrupted: 2 passed, 0 failed, 5 skipped');
    expect(await keysIn(resources.rawBucket)).toEqual([]);
  });

  it('exits 2 on usage errors, touching nothing', async () => {
    const runs = await Promise.all([
      runOps(['smoke', '--timeout', '0', '--local']),
      runOps(['smoke', '--local', '--outputs-file', 'x.json']),
      runOps(['smoke', '--outputs-file', join(directory, 'missing.json')]),
      runOps(['smoke', '--local', '--metrics-url', 'localhost:8080']),
    ]);

    for (const run of runs) {
      expect(run.exitCode).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(runs[1]?.stderr).toContain('--outputs-file names a deployed stack and --local the npm start stack');
    expect(runs[2]?.stderr).toMatch(/cannot read --outputs-file .*missing\.json: ENOENT/);
  });

  it('exits 1 naming the endpoint when the local stack is not running', async () => {
    // In its own process: under jest's module sandbox the SDK's network error loses its code.
    const run = await cli(['smoke', '--local'], { LOCAL_EMULATOR_PORT: String(await freePort()) });

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED \(is npm start running\?/);
  });
});
