/**
 * Scenario 12: `npm start` as a user runs it (`node ops/local/main.ts` from source, its own emulator child,
 * the worker in its process), the large file of scenario 3 put into its raw bucket, timed from the put
 * completing to the worker's 'file processed' line, against scenario 3's production worker on the same
 * file in the same run. Then SIGTERM: it must exit 0 and leave no emulator behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsClients, destroyAwsClients } from '../../../worker/common/aws-clients.ts';
import { isRunning, stopChild, tailLines, trackChild, untrackChild } from '../../local/child-processes.ts';
import { followWorkerLog, type LogEntry, type WorkerLog } from '../../local/worker-log.ts';
import type { BenchContext } from '../context.ts';
import { loggedRecordCounts, waitForFilesProcessed } from '../file-outcomes.ts';
import { cpuDelta, cpuSecondsOf, statusBytesOf } from '../process-stats.ts';
import type { NpmStartFigures } from '../results.ts';
import { uploadInput } from '../s3-objects.ts';
import { cpuSecondsPerMillion, ratio } from '../statistics.ts';
import type { BenchWorker } from '../worker-process.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NPM_START_SCRIPT = fileURLToPath(new URL('../../local/main.ts', import.meta.url));
const EMULATOR_SCRIPT_TAIL = 'ops/local/emulator.ts';
const READY_LINE = 'Press Ctrl-C to stop.';
/** Start-up includes the sample file (bounded by 30 s in main.ts). */
const READY_TIMEOUT_MS = 45_000;
/** Above the worker's 25 s shutdown grace plus the emulator's stop. */
const STOP_TIMEOUT_MS = 45_000;
const EMULATOR_GONE_TIMEOUT_MS = 5_000;

interface NpmStart {
  readonly worker: BenchWorker;
  readonly endpoint: string;
  readonly region: string;
  readonly rawBucket: string;
  /** Its child running ops/local/emulator.ts; undefined where there is no /proc to find it in. */
  readonly emulatorPid: number | undefined;
}

/** The children of a process, from /proc (each thread's list); empty where there is no /proc. */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((thread) =>
      readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function firstScreenValue(log: WorkerLog, pattern: RegExp, what: string): string {
  for (const { line } of log.entries) {
    const match = line['unparsed'] === true ? pattern.exec(String(line['msg'])) : null;
    if (match?.[1] !== undefined) return match[1];
  }
  throw new Error(`npm start's first screen does not show ${what}`);
}

/** The one child of npm start, which must be the emulator: the production topology this scenario measures. */
function emulatorChild(npmStartPid: number): number {
  const children = childPids(npmStartPid);
  const [pid] = children;
  if (children.length !== 1 || pid === undefined || !commandLine(pid).endsWith(EMULATOR_SCRIPT_TAIL)) {
    throw new Error(`npm start should have one child, its emulator (${EMULATOR_SCRIPT_TAIL}); it has ${children.map(commandLine).join(', ') || 'none'}`);
  }
  return pid;
}

/** `node ops/local/main.ts` on free ports, with the worker logging each file, until its ready line. */
async function startNpmStart(): Promise<NpmStart> {
  // As a user starts it: npm start's own runtime, none of the bench's Node options.
  // Its Prometheus targets file goes to a temporary path: the default one may belong to the user's own npm start.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_EMULATOR_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    LOCAL_PROMETHEUS_TARGETS_FILE: join(tmpdir(), 'iot-ingest-bench-targets.json'),
  };
  delete env['NODE_OPTIONS'];
  delete env['NODE_ENV'];
  const child = spawn(process.execPath, [NPM_START_SCRIPT], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  if (child.pid === undefined) throw new Error('npm start did not start');
  const stderr = tailLines(child.stderr, 20);
  const log = followWorkerLog(child, child.stdout, stderr);
  const worker: BenchWorker = { child, pid: child.pid, log, stderr };
  let emulatorPid: number | undefined;
  try {
    await log.waitFor((line) => line['unparsed'] === true && line['msg'] === READY_LINE, READY_TIMEOUT_MS, `npm start's "${READY_LINE}"`);
    emulatorPid = existsSync('/proc/self') ? emulatorChild(child.pid) : undefined;
  } catch (error) {
    await stopChild(child, STOP_TIMEOUT_MS);
    untrackChild(child);
    throw error;
  }
  return {
    worker,
    endpoint: firstScreenValue(log, /Emulator \(S3 \+ SQS\): (http:\/\/\S+)/, 'the emulator endpoint'),
    region: firstScreenValue(log, / region (\S+)/, 'the region'),
    rawBucket: firstScreenValue(log, /raw bucket +s3:\/\/(\S+)/, 'the raw bucket'),
    emulatorPid,
  };
}

/** SIGTERM, as Ctrl-C would: npm start must exit 0 and take its emulator along. */
async function stopNpmStart(npmStart: NpmStart): Promise<void> {
  const { child, stderr } = npmStart.worker;
  const stopped = await stopChild(child, STOP_TIMEOUT_MS);
  untrackChild(child);
  if (stopped.killed || stopped.exit?.code !== 0) throw new Error(`npm start did not stop cleanly after SIGTERM: ${JSON.stringify(stopped)}\n${stderr()}`);
  const { emulatorPid } = npmStart;
  if (emulatorPid === undefined) return;
  const deadline = performance.now() + EMULATOR_GONE_TIMEOUT_MS;
  while (processRunning(emulatorPid)) {
    if (performance.now() > deadline) {
      process.kill(emulatorPid, 'SIGKILL');
      throw new Error(`npm start exited but left its emulator (pid ${emulatorPid}) running`);
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, 20));
  }
}

export async function measureNpmStart(context: BenchContext): Promise<NpmStartFigures> {
  const input = context.largeInput();
  context.progress(`12 npm start: ${input.records.toLocaleString('en-US')} records into its raw bucket`);
  const timeoutMs = 60_000 + input.records / 2;
  const startedMs = performance.now();
  const npmStart = await startNpmStart();
  const startSeconds = (performance.now() - startedMs) / 1000;
  const { worker, emulatorPid } = npmStart;
  const clients = createAwsClients({ region: npmStart.region, endpoint: npmStart.endpoint });
  try {
    const key = `bench/large-${input.records}.jsonl`;
    const idleRssBytes = statusBytesOf(worker.pid, 'VmRSS');
    const workerCpuBefore = cpuSecondsOf(worker.pid);
    await uploadInput(clients, npmStart.rawBucket, key, input.body, timeoutMs);
    const putEndMs = performance.now();
    const emulatorCpuBefore = cpuSecondsOf(emulatorPid);

    const outcomes = await waitForFilesProcessed([worker], [key], timeoutMs);
    const { entry } = outcomes.get(key) as { entry: LogEntry };
    const workerCpuSeconds = cpuDelta(workerCpuBefore, cpuSecondsOf(worker.pid));
    const cpuSecondsPerMillionRecords = cpuSecondsPerMillion(workerCpuSeconds, input.records);
    const peakRssBytes = statusBytesOf(worker.pid, 'VmHWM');
    const emulatorCpuSeconds = cpuDelta(emulatorCpuBefore, cpuSecondsOf(emulatorPid));
    const warningLines = worker.log.entries.filter(({ line }) => typeof line['level'] === 'number' && line['level'] >= 40).length;
    await stopNpmStart(npmStart);

    const counts = loggedRecordCounts(entry.line);
    const countsAddUp = counts.processed + counts.filtered + counts.rejected === input.records;
    if (!countsAddUp) throw new Error(`npm start's worker counts ${JSON.stringify(counts)} do not add up to the ${input.records} lines`);
    const seconds = (entry.atMs - putEndMs) / 1000;
    const { largeFile } = context.results;
    return {
      records: input.records,
      inputBytes: input.body.length,
      seconds,
      recordsPerSecond: input.records / seconds,
      workerDurationMs: Number(entry.line['durationMs']),
      workerCpuSeconds,
      cpuSecondsPerMillionRecords,
      peakRssBytes,
      idleRssBytes,
      emulatorCpuSeconds,
      counts,
      countsAddUp,
      warningLines,
      startSeconds,
      emulatorInOwnProcess: emulatorPid === undefined ? null : true,
      vsProductionWorker: ratio(seconds, largeFile?.seconds),
      cpuVsProductionWorker: ratio(cpuSecondsPerMillionRecords, largeFile?.cpuSecondsPerMillionRecords),
      productionWorkerProfiled: largeFile?.cpuProfile !== undefined,
    };
  } finally {
    destroyAwsClients(clients);
    if (isRunning(worker.child)) await stopNpmStart(npmStart).catch(() => undefined);
  }
}
