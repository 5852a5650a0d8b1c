/**
 * `npm start` as a new user runs it: the whole local pipeline in a child process, both sample files
 * processed, where each line went and what to try next printed, the objects it names really stored, and
 * Ctrl-C ending it with exit code 0. Both output formats; readable logs on a terminal, JSON lines in a pipe;
 * the Prometheus target file with the worker's real port. And its topology: the emulator serves S3 and SQS
 * from a process of its own, the worker from npm start's, and no process is left behind however npm start ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';

const READY_LINE = 'Press Ctrl-C to stop.';
const START_TIMEOUT_MS = 25_000;
const GONE_TIMEOUT_MS = 15_000;
const OBSERVABILITY = fileURLToPath(new URL('../../../../ops/observability/', import.meta.url));

/** Each npm start here tells Prometheus about its worker in a file of this folder, not in ops/observability/. */
let scratch = '';
let runs = 0;
const targetsFile = () => join(scratch, `targets-${(runs += 1)}.json`);
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'iot-ingest-npm-start-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const children: ChildProcess[] = [];
/** Processes npm start started, killed after each test in case the test failed before they stopped. */
const strayPids: number[] = [];

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.pid !== undefined) killQuietly(-child.pid);
  for (const pid of strayPids.splice(0)) killQuietly(pid);
});

interface NpmStart {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its stdout up to the ready line: the first screen. */
  readonly stdout: string;
  /** Its stdout so far. */
  output(): string;
  stderr(): string;
}

/**
 * Runs ops/local/main.ts (what `npm start` runs) on free ports until it prints its ready line, in a
 * process group of its own, as a terminal runs a command in the foreground.
 */
async function startNpmStart(env: Record<string, string>): Promise<NpmStart> {
  const child = spawn(process.execPath, ['ops/local/main.ts'], {
    env: { ...process.env, LOCAL_EMULATOR_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'warn', LOCAL_PROMETHEUS_TARGETS_FILE: targetsFile(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no ready line in ${START_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`)), START_TIMEOUT_MS);
    const check = () => {
      if (stdout.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before it was ready:\n${stdout}\n${stderr}`));
    });
  });
  for (const pid of childPids(child.pid as number)) strayPids.push(pid);
  return { child, pid: child.pid as number, stdout, output: () => stdout, stderr: () => stderr };
}

/** Waits for the exit after `signal` is sent to `target` (a pid, or minus a process group id). */
function stopWith(child: ChildProcess, signal: NodeJS.Signals, target: number): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    process.kill(target, signal);
  });
}

/** The s3:// URLs of the objects the start-up text says were written. */
function namedOutputs(stdout: string): Array<{ bucket: string; key: string }> {
  return [...stdout.matchAll(/^ {2}(?:processed|rejected) output +s3:\/\/([^/]+)\/(\S+)/gm)].map(([, bucket = '', key = '']) => ({ bucket, key }));
}

function s3Client(endpoint: string): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

async function readAll(endpoint: string, objects: ReadonlyArray<{ bucket: string; key: string }>): Promise<Buffer[]> {
  const s3 = s3Client(endpoint);
  try {
    return await Promise.all(
      objects.map(async ({ bucket, key }) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray())),
    );
  } finally {
    s3.destroy();
  }
}

/** The lines between two markers of the first screen (the first line after `from` up to the line before `to`). */
function section(stdout: string, from: string, to: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(from));
  const end = lines.findIndex((line, index) => index > start && line.startsWith(to));
  return start < 0 || end < 0 ? [] : lines.slice(start + 1, end);
}

/** What npm start logged before its first screen: every line before "Local pipeline running" (a terminal's CRLF read as LF). */
function logLines(stdout: string): string[] {
  const text = stdout.replaceAll('\r\n', '\n');
  const screen = text.indexOf('\nLocal pipeline running.');
  return text.slice(0, screen < 0 ? text.length : screen).split('\n').filter(Boolean);
}

/** A TCP port nothing listens on (right now). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Multipart, as the emulator (like S3) refuses a single put of a large body. */
async function upload(endpoint: string, bucket: string, key: string, body: Buffer): Promise<void> {
  const s3 = s3Client(endpoint);
  try {
    await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body }, partSize: 8 * 1024 * 1024 }).done();
  } finally {
    s3.destroy();
  }
}

/** The worker's files_in_flight gauge, from its /metrics. */
async function filesInFlight(workerAddress: string): Promise<number> {
  const metrics = await (await fetch(`${workerAddress}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return Number(/^iot_ingest_files_in_flight (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN);
}

async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${START_TIMEOUT_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The worker's JSON log lines about one key. */
function logLinesAbout(stdout: string, key: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['key'] === key);
}

const OUTCOMES_KEY = 'samples/sample_outcomes.jsonl';

const endpointOf = (stdout: string) => /Emulator \(S3 \+ SQS\): (http:\/\/\S+)/.exec(stdout)?.[1] ?? '';
const workerAddressOf = (stdout: string) => /worker +(http:\/\/\S+)\/healthz/.exec(stdout)?.[1] ?? '';

/** The children of a process, from /proc (every thread's list). */
function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((thread) =>
    readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
}

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
}

/** The inodes of the sockets listening on a TCP port, from /proc/net/tcp and tcp6. */
function listeningSocketInodes(port: number): string[] {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[1]?.endsWith(`:${portHex}`) && fields[3] === '0A')
      .map((fields) => fields[9] ?? ''),
  );
}

function fdTarget(pid: number, fd: string): string {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
  } catch {
    return ''; // closed meanwhile
  }
}

/** Which of the processes holds the socket that listens on the URL's port. */
function processListeningOn(url: string, candidates: readonly number[]): number[] {
  const sockets = new Set(listeningSocketInodes(Number(new URL(url).port)).map((inode) => `socket:[${inode}]`));
  return candidates.filter((pid) => readdirSync(`/proc/${pid}/fd`).some((fd) => sockets.has(fdTarget(pid, fd))));
}

/** Running, as opposed to gone or exited (a zombie waiting for its parent). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number): Promise<boolean> {
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** The emulator child of npm start: exactly one child, running ops/local/emulator.ts. */
function emulatorOf(npmStart: NpmStart): number {
  const pids = childPids(npmStart.pid);
  expect(pids).toHaveLength(1);
  const [pid] = pids as [number];
  expect(commandLine(pid)).toMatch(/ops\/local\/emulator\.ts$/);
  return pid;
}

describe('npm start', () => {
  it('processes both samples into JSON Lines, names every stored output with its first records, and stops on Ctrl-C with 0', async () => {
    const npmStart = await startNpmStart({});
    const { stdout } = npmStart;

    expect(stdout).toContain('s3://iot-raw/samples/sample_data.jsonl: 5 processed, 0 filtered, 0 rejected (');
    expect(stdout).toContain(`s3://iot-raw/${OUTCOMES_KEY}: 2 processed, 1 filtered, 3 rejected (`);
    const outputs = namedOutputs(stdout);
    expect(outputs).toEqual([
      { bucket: 'iot-processed', key: 'samples/sample_data.jsonl' },
      { bucket: 'iot-processed', key: 'rejected/samples/sample_data.jsonl' },
      { bucket: 'iot-processed', key: OUTCOMES_KEY },
      { bucket: 'iot-processed', key: `rejected/${OUTCOMES_KEY}` },
    ]);
    expect(stdout).toContain('"location_id":"loc-warehouse-a","temp_fahrenheit":68}');
    const [sampleProcessed, sampleRejected, outcomesProcessed, outcomesRejected] = await readAll(endpointOf(stdout), outputs);
    expect(sampleProcessed?.length).toBeGreaterThan(0);
    expect(sampleRejected?.length).toBe(0);
    // The records and rejected lines it shows are those stored.
    for (const record of outcomesProcessed?.toString('utf8').trimEnd().split('\n') ?? []) expect(stdout).toContain(`\n    ${record}\n`);
    const storedRejects = (outcomesRejected?.toString('utf8').trimEnd().split('\n') ?? []).map((line) => JSON.parse(line) as { line: number; reason: string });
    expect(storedRejects.map(({ line, reason }) => [line, reason])).toEqual([
      [4, 'invalid_json'],
      [5, 'missing_field'],
      [6, 'invalid_type'],
    ]);
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
  }, 40_000);

  it('shows where each line of the outcomes sample went: processed (one from an unknown device), filtered, rejected with line numbers and reasons', async () => {
    const npmStart = await startNpmStart({});
    const outcomes = section(npmStart.stdout, `s3://iot-raw/${OUTCOMES_KEY}:`, 'Try next:');

    expect(outcomes.map((line) => line.replace(/"(device_id|location_id)": ?"([^"]+)".*/, '"$1" $2'))).toEqual([
      expect.stringMatching(new RegExp(`^ {2}processed output {2}s3://iot-processed/${OUTCOMES_KEY} {2}\\(\\d+ bytes\\), first records:$`)),
      '    {"device_id" sensor-alpha',
      '    {"device_id" sensor-delta',
      '    1 record from a device not in the registry: location_id "unknown" (see DEVICE_REGISTRY)',
      '  filtered          1 record at or below 10 °C (TEMPERATURE_THRESHOLD_CELSIUS): counted, not stored',
      expect.stringMatching(new RegExp(`^ {2}rejected output {3}s3://iot-processed/rejected/${OUTCOMES_KEY} {2}\\(\\d+ bytes\\):$`)),
      '    line 4  invalid_json   the line is not valid JSON',
      '    line 5  missing_field  humidity is missing',
      '    line 6  invalid_type   temperature must be a JSON number',
      '',
    ]);
    expect(npmStart.stdout).toContain('"device_id": "sensor-delta", "location": "loading-dock", "temperature": 15.2, "humidity": 70.3, "pressure": 1009.8, "timestamp": "2025-07-11T12:01:00Z","location_id":"unknown","temp_fahrenheit":59.36}');
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
  }, 40_000);

  it('ends its first screen with the ops CLI for this stack, how to make and upload data, the metrics URL, and that Ctrl-C forgets everything', async () => {
    const npmStart = await startNpmStart({});
    const { stdout } = npmStart;
    const port = new URL(endpointOf(stdout)).port;
    const next = section(stdout, 'Try next:', READY_LINE).join('\n');

    expect(next).toContain(`LOCAL_EMULATOR_PORT=${port} npm run ops -- status --local `);
    expect(next).toContain(`LOCAL_EMULATOR_PORT=${port} npm run ops -- dlq peek --local `);
    expect(next).toContain('npm run ops -- generate --records 1000 -o readings.jsonl ');
    expect(next).toContain(`LOCAL_EMULATOR_PORT=${port} npm run ops -- upload readings.jsonl --local `);
    expect(next).toContain(`aws --region us-east-1 --endpoint-url ${endpointOf(stdout)} s3 cp readings.jsonl s3://iot-raw/`);
    expect(next).toContain(`Metrics: ${workerAddressOf(stdout)}/metrics`);
    expect(next).toContain('The emulator keeps everything in memory: Ctrl-C stops the pipeline and every bucket, object and message is gone.');
    expect(stdout.trimEnd().endsWith(`\n${READY_LINE}`)).toBe(true);

    // The commands it names work as printed: status finds this stack's queues.
    const status = spawnSync('npm', ['run', '--silent', 'ops', '--', 'status', '--local', '--json'], {
      env: { ...process.env, LOCAL_EMULATOR_PORT: port },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ code: status.status, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
    expect(status.stdout).toContain('iot-ingest-dlq');
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
  }, 60_000);

  it('publishes a completion event per sample to its topic, and the receive-message line it prints reads them', async () => {
    const npmStart = await startNpmStart({});
    const { stdout } = npmStart;

    const eventsLine = /^ {2}file events {7}(arn:aws:sns:\S+:iot-ingest-file-events) {2}→ queue (http:\/\/\S+\/iot-ingest-file-events) /m.exec(stdout);
    expect(eventsLine).not.toBeNull();
    const receive = section(stdout, 'Try next:', READY_LINE).find((line) => line.includes(' sqs receive-message ')) ?? '';
    expect(receive).toContain(`sqs receive-message --queue-url ${eventsLine?.[2]} --max-number-of-messages 10`);

    // As printed; the events may still be on their way from SNS to the queue.
    const bodies: string[] = [];
    const deadline = Date.now() + 15_000;
    while (bodies.length < 2 && Date.now() < deadline) {
      const run = spawnSync('sh', ['-c', `${receive.trim()} --wait-time-seconds 1 --visibility-timeout 30 --output json`], { encoding: 'utf8', timeout: 20_000 });
      expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const messages = run.stdout.trim() === '' ? [] : ((JSON.parse(run.stdout) as { Messages?: Array<{ Body: string }> }).Messages ?? []);
      bodies.push(...messages.map((message) => message.Body));
    }
    const events = bodies.map((body) => JSON.parse((JSON.parse(body) as { Message: string }).Message) as { type: string; source: { key: string }; counts: unknown });
    expect(events.map((event) => [event.type, event.source.key]).sort()).toEqual([
      ['iot-ingest.file.processed', OUTCOMES_KEY],
      ['iot-ingest.file.processed', 'samples/sample_data.jsonl'],
    ].sort());
    expect(events.find((event) => event.source.key === OUTCOMES_KEY)?.counts).toMatchObject({ processed: 2, filtered: 1, rejected: 3 });
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
  }, 60_000);

  it('in a pipe, logs JSON lines: one object per event, the file outcomes with key and counts', async () => {
    const npmStart = await startNpmStart({ LOG_LEVEL: 'info' });
    const lines = logLines(npmStart.stdout);

    expect(lines.length).toBeGreaterThan(0);
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.every((event) => typeof event['msg'] === 'string' && typeof event['time'] === 'number')).toBe(true);
    expect(logLinesAbout(npmStart.stdout, OUTCOMES_KEY)).toEqual([
      expect.objectContaining({ msg: 'file processed', records: { processed: 2, filtered: 1, rejected: 3 }, unknownDevices: 1 }),
    ]);
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
  }, 40_000);

  it('on a terminal, logs one readable line per event, and stops on the Ctrl-C typed there with 0', async () => {
    // `script` runs npm start on a pseudo-terminal, as a user's shell does; typing ^C there signals its foreground group.
    // `exec`, because script runs the command with $SHELL -c: dash (CI's /bin/sh) would wait as a second process,
    // die of the ^C itself and make script exit 130, where a user's interactive shell ignores it.
    const terminal = spawn('script', ['-qfec', `exec '${process.execPath}' ops/local/main.ts`, '/dev/null'], {
      env: { ...process.env, LOCAL_EMULATOR_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'info', NO_COLOR: '1', LOCAL_PROMETHEUS_TARGETS_FILE: targetsFile() },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(terminal);
    let output = '';
    terminal.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await waitUntil(() => Promise.resolve(output.includes(READY_LINE)), 'npm start is ready on the terminal');
    const lines = logLines(output);

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => !/^\d\d:\d\d:\d\d\.\d{3} (INFO |WARN ) \S/.test(line))).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ INFO {2}file processed {2}s3:\/\/iot-raw\/samples\/sample_data\.jsonl {2}5 processed, 0 filtered, 0 rejected {2}\d+ ms/),
        expect.stringMatching(
          / INFO {2}file processed {2}s3:\/\/iot-raw\/samples\/sample_outcomes\.jsonl {2}2 processed, 1 filtered, 3 rejected {2}\(invalid_json 1, missing_field 1, invalid_type 1\) {2}\d+ ms .*unknownDevices=1/,
        ),
      ]),
    );
    const exited = new Promise<number | null>((resolve) => terminal.on('exit', resolve));
    terminal.stdin?.write('\u0003');
    expect(await exited).toBe(0);
  }, 40_000);

  it('tells Prometheus where its worker is: the file_sd target file holds the moved HTTP_PORT, and promtool accepts it', async () => {
    const port = await freePort();
    const file = targetsFile();
    const npmStart = await startNpmStart({ HTTP_PORT: String(port), LOCAL_PROMETHEUS_TARGETS_FILE: file });

    expect(workerAddressOf(npmStart.stdout)).toBe(`http://127.0.0.1:${port}`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([{ targets: [`127.0.0.1:${port}`], labels: {} }]);
    expect(readdirSync(scratch).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    // The scrape configuration with this file as its target file, as Prometheus reads it (when promtool is installed).
    if (spawnSync('promtool', ['--version']).status === 0) {
      const config = mkdtempSync(join(scratch, 'prometheus-'));
      for (const name of ['prometheus.yml', 'alert-rules.yml']) copyFileSync(join(OBSERVABILITY, name), join(config, name));
      copyFileSync(file, join(config, 'local-worker-targets.json'));
      const check = spawnSync('promtool', ['check', 'config', join(config, 'prometheus.yml')], { encoding: 'utf8', timeout: 20_000 });
      expect({ code: check.status, warnings: (check.stdout + check.stderr).split('\n').filter((line) => /WARN|FAILED/.test(line)) }).toEqual({ code: 0, warnings: [] });
    }
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
  }, 40_000);

  it('serves S3 and SQS from an emulator process of its own and the worker from its own process, and leaves no process after Ctrl-C', async () => {
    const npmStart = await startNpmStart({});
    const emulator = emulatorOf(npmStart);

    expect(emulator).not.toBe(npmStart.pid);
    expect(processListeningOn(endpointOf(npmStart.stdout), [npmStart.pid, emulator])).toEqual([emulator]);
    expect(processListeningOn(workerAddressOf(npmStart.stdout), [npmStart.pid, emulator])).toEqual([npmStart.pid]);
    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
    expect(isRunning(emulator)).toBe(false);
    expect(npmStart.stderr()).toBe('');
  }, 40_000);

  it('on Ctrl-C, lets the file in flight finish against the emulator before it stops the emulator, then exits 0', async () => {
    const npmStart = await startNpmStart({ LOG_LEVEL: 'info' });
    const key = `in-flight/${Date.now()}.jsonl`;
    await upload(endpointOf(npmStart.stdout), 'iot-raw', key, generateJsonl({ records: 300_000, devices: 50, seed: 14 }));
    await waitUntil(async () => (await filesInFlight(workerAddressOf(npmStart.stdout))) >= 1, 'the worker has the file in flight');

    expect(await stopWith(npmStart.child, 'SIGINT', -npmStart.pid)).toBe(0);
    expect(logLinesAbout(npmStart.output(), key).map((line) => line['msg'])).toEqual(['file processed']);
  }, 60_000);

  it('stops the emulator with itself on SIGTERM, exit code 0', async () => {
    const npmStart = await startNpmStart({});
    const emulator = emulatorOf(npmStart);

    expect(await stopWith(npmStart.child, 'SIGTERM', npmStart.pid)).toBe(0);
    expect(isRunning(emulator)).toBe(false);
  }, 40_000);

  it('leaves no emulator behind when it is killed without a chance to clean up', async () => {
    const npmStart = await startNpmStart({});
    const emulator = emulatorOf(npmStart);

    await stopWith(npmStart.child, 'SIGKILL', npmStart.pid);
    expect(await waitUntilGone(emulator)).toBe(true);
  }, 40_000);

  it('stops, with its emulator, when the shell npm runs it in dies without passing on a SIGTERM sent to npm', async () => {
    // `; true` keeps the shell from replacing itself with node, as the shell npm runs scripts in does not.
    const shell = spawn('sh', ['-c', 'node ops/local/main.ts; true'], {
      env: { ...process.env, LOCAL_EMULATOR_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'warn', LOCAL_PROMETHEUS_TARGETS_FILE: targetsFile() },
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    children.push(shell);
    let stdout = '';
    shell.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    await waitUntil(() => Promise.resolve(stdout.includes(READY_LINE)), 'npm start is ready');
    const [npmStart] = childPids(shell.pid as number) as [number];
    const emulator = childPids(npmStart)[0] as number;
    strayPids.push(npmStart, emulator);

    await stopWith(shell, 'SIGKILL', shell.pid as number);
    expect(await waitUntilGone(npmStart)).toBe(true);
    expect(await waitUntilGone(emulator)).toBe(true);
  }, 40_000);

  it('says which port is taken and how to choose another when the emulator cannot listen, exit code 1', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const child = spawn(process.execPath, ['ops/local/main.ts'], {
        env: { ...process.env, LOCAL_EMULATOR_PORT: String(port), HTTP_PORT: '0', LOCAL_PROMETHEUS_TARGETS_FILE: targetsFile() },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

      expect(code).toBe(1);
      expect(stderr.trim()).toMatch(
        new RegExp(`^cannot start the emulator: .*EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port} \\(set LOCAL_EMULATOR_PORT to use another port\\)$`),
      );
    } finally {
      taken.close();
    }
  }, 40_000);
});
