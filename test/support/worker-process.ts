/**
 * The production entry point (worker/main.ts) as a child process of the test, for what only a process
 * shows: kill -9, SIGTERM, the same pid across an outage. Its JSON log lines are followed, its HTTP
 * server asked; `stopWorkerProcesses` kills whatever a test left running. Also: what the worker must
 * write for given bytes (the pure record pipeline), and the queue counts a test settles on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalResources } from '../../ops/local/resources.ts';
import { isRunning, tailLines, waitForExit, withTimeout, type Exit } from '../../ops/local/child-processes.ts';
import { followWorkerLog, type LogLine, type WorkerLog } from '../../ops/local/worker-log.ts';
import type { Environment } from '../../worker/config.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../worker/records/device-registry.ts';
import { LineOutcomeRouter, TextLines, type FileTally } from '../../worker/records/line-outcomes.ts';
import { LineSplitter } from '../../worker/records/line-splitter.ts';
import { testEnvironment } from './worker-harness.ts';

const MAIN = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));
const OPS_CLI = fileURLToPath(new URL('../../ops/cli/main.ts', import.meta.url));

/**
 * Loaded before main.ts: the worker kills itself when its stdin (a pipe from this process) ends, so a
 * test run that dies without cleaning up leaves no worker behind. Nothing else changes.
 */
const STDIN_WATCHDOG = `data:text/javascript,${encodeURIComponent(
  "process.stdin.on('end',()=>process.kill(process.pid,'SIGKILL')).on('error',()=>{}).resume();",
)}`;

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly log: WorkerLog;
  readonly stderr: () => string;
  /** From its `worker started` line, e.g. http://127.0.0.1:41234. */
  readonly httpAddress: string;
  /** GET /readyz: its status code and body (bounded by 3 s). */
  readiness(): Promise<{ status: number; body: string }>;
  /** Its log lines whose msg is `msg` and whose key is `key`. */
  fileLines(msg: 'file processed' | 'file failed', key: string): LogLine[];
  /** Resolves with the first `file processed` line for `key`. */
  waitForProcessed(key: string, timeoutMs: number): Promise<LogLine>;
  waitForExit(timeoutMs: number): Promise<Exit | undefined>;
}

const children = new Set<ChildProcess>();

/**
 * The worker's settings for a test pipeline, its AWS endpoint `endpoint` (a fault proxy, or the emulator):
 * the harness's test settings (1 s polls, no retry backoff, …), info logs, no queue depth sampling.
 */
export function processEnvironment(resources: LocalResources, endpoint: string, overrides: Environment = {}): Environment {
  return testEnvironment(resources, {
    AWS_ENDPOINT_URL: endpoint,
    LOG_LEVEL: 'info',
    QUEUE_METRICS_INTERVAL_SECONDS: '0',
    MAX_FILES_IN_FLIGHT: '2',
    ...overrides,
  });
}

/** Starts `node worker/main.ts` with exactly `env` (plus PATH) and waits for its `worker started` line. */
export async function startWorkerProcess(env: Environment, startTimeoutMs = 20_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', STDIN_WATCHDOG, MAIN], {
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  if (child.pid === undefined) throw new Error('the worker process did not start');
  const stderr = tailLines(child.stderr, 40);
  const log = followWorkerLog(child, child.stdout, stderr);
  const startedLine = await log.waitFor((line) => line['msg'] === 'worker started', startTimeoutMs, 'the `worker started` line');
  const httpAddress = String(startedLine.line['httpAddress']);

  const fileLines = (msg: string, key: string) =>
    log.entries.filter(({ line }) => line['msg'] === msg && line['key'] === key).map(({ line }) => line);
  return {
    child,
    pid: child.pid,
    log,
    stderr,
    httpAddress,
    readiness: () => httpGet(`${httpAddress}/readyz`, 3_000),
    fileLines,
    waitForProcessed: async (key, timeoutMs) =>
      (await log.waitFor((line) => line['msg'] === 'file processed' && line['key'] === key, timeoutMs, `"file processed" for ${key}`)).line,
    waitForExit: (timeoutMs) => waitForExit(child, timeoutMs),
  };
}

/** SIGKILLs every worker process still running and waits for them; for afterEach/afterAll. */
export async function stopWorkerProcesses(): Promise<void> {
  const all = [...children];
  children.clear();
  await Promise.all(
    all.map(async (child) => {
      if (isRunning(child)) child.kill('SIGKILL');
      await waitForExit(child, 5_000);
      child.stdin?.destroy();
    }),
  );
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export interface ExpectedOutputs {
  readonly processed: string;
  readonly rejected: string;
  readonly tally: FileTally;
}

/**
 * What the worker must write for an object of these (uncompressed) bytes with its default settings
 * (threshold 10 °C, the built-in registry, `unknown` location, 1 MiB lines): the pure pipeline, no I/O.
 */
export function expectedOutputs(body: Buffer): ExpectedOutputs {
  const outputs = { processed: new TextLines(), rejected: new TextLines() };
  const rules = { temperatureThresholdCelsius: 10, locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)), unknownLocationId: 'unknown' };
  const lines = new LineOutcomeRouter(rules, outputs);
  const splitter = new LineSplitter(1024 * 1024, lines);
  splitter.push(body);
  splitter.end();
  return { processed: outputs.processed.take(), rejected: outputs.rejected.take(), tally: lines.tally };
}

export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<QueueCounts> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node ops/cli/main.ts ...args` with exactly `env` (plus PATH), bounded by timeoutMs. */
export async function runOpsCli(args: readonly string[], env: Environment, timeoutMs: number): Promise<CliResult> {
  const child = spawn(process.execPath, [OPS_CLI, ...args], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  // 'close', not 'exit': every byte of its output has been read by then.
  const closed = once(child, 'close').then(([code]) => code as number | null);
  try {
    return { code: await withTimeout(closed, timeoutMs, `node ops/cli/main.ts ${args.join(' ')}`), ...output };
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output.stderr}`, { cause: error });
  }
}

/** The object's bytes, or undefined when there is no such key. */
export async function objectBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Body === undefined ? Buffer.alloc(0) : Buffer.from(await Body.transformToByteArray());
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
}

/** Whether the key exists (HeadObject). */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound' || error instanceof NoSuchKey) return false;
    throw error;
  }
}
