/**
 * Runs the ops CLI in-process against the test emulator: its own environment (no AWS settings leak
 * in from the machine), captured stdout and stderr, an abort signal and middleware for its clients.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalResources } from '../../ops/local/resources.ts';
import { SYSTEM_CLOCK, type CliContext, type Environment } from '../../ops/cli/context.ts';
import { runCli } from '../../ops/cli/program.ts';
import type { AwsClients } from '../../worker/common/aws-clients.ts';

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
  json<T>(): T;
}

export interface RunOptions {
  readonly env?: Environment;
  readonly signal?: AbortSignal;
  readonly prepareClients?: (clients: AwsClients) => void;
}

function capture(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

/** The emulator's endpoint and region, as the worker's variables. */
export function emulatorEnv(): Record<string, string> {
  const endpoint = process.env['IOT_TEST_ENDPOINT'];
  const region = process.env['IOT_TEST_REGION'];
  if (!endpoint || !region) throw new Error('IOT_TEST_ENDPOINT/IOT_TEST_REGION are not set: run through jest, whose globalSetup starts the emulator');
  return { AWS_ENDPOINT_URL: endpoint, AWS_REGION: region };
}

/** Every setting a command may need, for a test pipeline. */
export function pipelineEnv(resources: LocalResources): Record<string, string> {
  return {
    ...emulatorEnv(),
    QUEUE_URL: resources.queueUrl,
    DLQ_URL: resources.dlqUrl,
    RAW_BUCKET: resources.rawBucket,
    PROCESSED_BUCKET: resources.processedBucket,
  };
}

export async function runOps(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  const stdout = capture();
  const stderr = capture();
  const context: CliContext = {
    env: options.env ?? {},
    stdout: stdout.stream,
    stderr: stderr.stream,
    signal: options.signal ?? new AbortController().signal,
    clock: SYSTEM_CLOCK,
    ...(options.prepareClients ? { prepareClients: options.prepareClients } : {}),
  };
  const exitCode = await runCli(args, context);
  const stdoutBytes = stdout.bytes();
  return {
    exitCode,
    stdout: stdoutBytes.toString('utf8'),
    stdoutBytes,
    stderr: stderr.bytes().toString('utf8'),
    json: <T>() => JSON.parse(stdoutBytes.toString('utf8')) as T,
  };
}

export interface SeededMessage {
  readonly body: string;
  readonly attributes?: Record<string, MessageAttributeValue>;
}

/** Sends the messages straight to a queue, 10 at a time. */
export async function seedQueue(sqs: SQSClient, queueUrl: string, messages: readonly SeededMessage[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          ...(message.attributes ? { MessageAttributes: message.attributes } : {}),
        })),
      }),
    );
    if (Failed.length > 0) throw new Error(`seeding ${queueUrl} failed: ${JSON.stringify(Failed)}`);
  }
}

export const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

const CLI = fileURLToPath(new URL('../../ops/cli/main.ts', import.meta.url));

export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI as its own process with only the given environment (nothing from this machine's AWS
 * settings), killed after timeoutMs; `onStderr` may interrupt it (SIGINT) when its output says so.
 */
export function runCliProcess(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  onStderr?: (text: string, interrupt: () => void) => void,
): Promise<ChildRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', TMPDIR: tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    onStderr?.(stderr, () => child.kill('SIGINT'));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A loopback port nothing listens on (a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
