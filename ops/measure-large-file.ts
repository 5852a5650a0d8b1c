/**
 * How the production worker copes with one large file: `npm run measure:large-file -- [flags]`.
 *
 *   --records N    input lines (default 1000000, about 150 MB)
 *   --gzip         upload the file gzip-compressed, as KEY.jsonl.gz
 *   --json FILE    also write the figures as JSON to FILE
 *   --timeout S    seconds to wait for the worker to finish the file (default 60 + records / 2000)
 *
 * The emulator (ops/emulator.ts) and the worker (worker/main.ts) each run as a child process of
 * their own, so the worker's CPU time and peak RSS (from /proc, Linux only) are its alone. The file
 * is generated in memory with the seeded generator, uploaded with a multipart upload, and timed
 * until the worker logs 'file processed' for its key. Everything stays on loopback; every wait is
 * bounded; both children are killed on any failure or interrupt.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../worker/aws-clients.ts';
import { isRunning, killTrackedChildren, killTrackedChildrenOnExit, stopChild, tailLines, trackChild, withTimeout } from './child-processes.ts';
import { startEmulatorProcess } from './emulator-process.ts';
import { COMPILED_WORKER_ENTRY, PRODUCTION_NODE_OPTIONS } from './production-runtime.ts';
import { createScratchPipeline, scratchWorkerSettings } from './scratch-pipeline.ts';
import { generateLines } from './synthetic-data.ts';
import { followWorkerLog, type LogEntry, type LogLine } from './worker-log.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL(`../${COMPILED_WORKER_ENTRY}`, import.meta.url));
const TSC = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

const SEED = 20250711;
const DEVICES = 100;
const MALFORMED_RATIO = 0.01;
const RSS_TARGET_MB = 200;
const MEBIBYTE = 1024 * 1024;
const UPLOAD_PART_BYTES = 8 * MEBIBYTE; // the emulator refuses single requests over 11 MiB
const UPLOAD_QUEUE_SIZE = 4;

const EMULATOR_START_TIMEOUT_MS = 20_000;
const WORKER_START_TIMEOUT_MS = 20_000;
const UPLOAD_TIMEOUT_MS = 300_000;
const WORKER_STOP_TIMEOUT_MS = 40_000; // above the worker's default 25 s shutdown grace
const EMULATOR_STOP_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Arguments

interface Options {
  readonly records: number;
  readonly gzip: boolean;
  readonly jsonFile: string | undefined;
  readonly timeoutSeconds: number;
}

function usageError(message: string): never {
  process.stderr.write(`${message}\nusage: npm run measure:large-file -- [--records N] [--gzip] [--json FILE] [--timeout SECONDS]\n`);
  process.exit(2);
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) usageError(`${flag} must be a whole number >= 1, got "${text}"`);
  return value;
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        records: { type: 'string', default: '1000000' },
        gzip: { type: 'boolean', default: false },
        json: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write('usage: npm run measure:large-file -- [--records N] [--gzip] [--json FILE] [--timeout SECONDS]\n');
    process.exit(0);
  }
  const records = positiveInteger('--records', values.records);
  const timeoutSeconds = values.timeout === undefined ? 60 + Math.ceil(records / 2000) : positiveInteger('--timeout', values.timeout);
  return { records, gzip: values.gzip, jsonFile: values.json, timeoutSeconds };
}

// ---------------------------------------------------------------------------------------------
// The worker

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stderr: () => string;
  /** Resolves with the first log line (and the monotonic time it arrived) that matches; rejects if the worker exits first. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogEntry>;
  /** Its warn and error log lines so far. */
  warnings(): LogLine[];
}

function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [WORKER_SCRIPT], {
    env: { ...env, NODE_OPTIONS: PRODUCTION_NODE_OPTIONS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  if (child.pid === undefined) throw new Error('the worker process did not start');
  const stderr = tailLines(child.stderr, 20);
  const log = followWorkerLog(child, child.stdout, stderr);
  return {
    child,
    pid: child.pid,
    stderr,
    waitForLog: (predicate, timeoutMs, what) => log.waitFor(predicate, timeoutMs, what),
    warnings: () => log.entries.map((entry) => entry.line).filter((line) => typeof line['level'] === 'number' && line['level'] >= 40),
  };
}

// ---------------------------------------------------------------------------------------------
// /proc figures (Linux)

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // fall through
  }
  return 100;
}

/** utime + stime of a process, in seconds; undefined without /proc. */
function cpuSeconds(pid: number, ticksPerSecond: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces: state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]); // field 14
    const stime = Number(fields[12]); // field 15
    return (utime + stime) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** A `kB` line of /proc/PID/status (VmHWM, VmRSS) in bytes; undefined without /proc. */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The measurement

interface Figures {
  readonly records: number;
  readonly gzip: boolean;
  readonly seed: number;
  readonly malformedRatio: number;
  readonly key: string;
  readonly inputBytes: number;
  readonly uploadedBytes: number;
  readonly generateSeconds: number;
  readonly uploadSeconds: number;
  readonly uploadToProcessedSeconds: number;
  readonly workerDurationMs: number;
  readonly recordsPerSecond: number;
  readonly workerPeakRssBytes: number | null;
  readonly workerRssAfterStartBytes: number | null;
  readonly workerCpuSecondsTotal: number | null;
  readonly workerCpuSecondsForFile: number | null;
  readonly counts: { readonly processed: number; readonly filtered: number; readonly rejected: number };
  readonly countsAddUp: boolean;
  readonly malformedGenerated: number;
  readonly rejectedMatchesMalformed: boolean;
  readonly rejectedByReason: Record<string, number>;
  readonly unknownDevices: number | null;
  readonly outputBytes: { readonly processed: number; readonly rejected: number };
  readonly outputObjectBytes: { readonly processed: number | null; readonly rejected: number | null };
  readonly workerExitCode: number | null;
  readonly workerWarnings: number;
  readonly rssTargetMet: boolean | null;
}

function buildInput(records: number): { body: Buffer; lines: number; malformed: number } {
  const parts: Buffer[] = [];
  let batch: string[] = [];
  let lines = 0;
  let malformed = 0;
  for (const { line, kind } of generateLines({ records, devices: DEVICES, seed: SEED, malformedRatio: MALFORMED_RATIO })) {
    lines += 1;
    if (kind !== 'valid') malformed += 1;
    batch.push(line);
    if (batch.length === 16_384) {
      parts.push(Buffer.from(`${batch.join('\n')}\n`));
      batch = [];
    }
  }
  if (batch.length > 0) parts.push(Buffer.from(`${batch.join('\n')}\n`));
  return { body: Buffer.concat(parts), lines, malformed };
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function numberField(record: unknown, field: string): number {
  const value = (record as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== 'number') throw new Error(`the 'file processed' line has no numeric ${field}`);
  return value;
}

async function objectSize(clients: AwsClients, bucket: string, key: string): Promise<number | null> {
  try {
    const head = await withTimeout(clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 30_000, `HEAD ${key}`);
    return head.ContentLength ?? null;
  } catch {
    return null;
  }
}

async function measure(options: Options): Promise<Figures> {
  const ticksPerSecond = clockTicksPerSecond();
  process.stderr.write(`compiling the worker (${COMPILED_WORKER_ENTRY}), as the container does...\n`);
  execFileSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 120_000 });
  process.stderr.write('starting the emulator...\n');
  const emulator = await startEmulatorProcess({ env: process.env, startTimeoutMs: EMULATOR_START_TIMEOUT_MS, stderrLines: 20 });
  const clients = createAwsClients({ region: emulator.region, endpoint: emulator.endpoint });
  let worker: WorkerProcess | undefined;
  try {
    const suffix = uniqueSuffix();
    const resources = await createScratchPipeline(clients, 'measure', suffix, 30_000);

    process.stderr.write('starting the worker...\n');
    worker = startWorkerProcess({ ...scratchWorkerSettings(emulator, resources), LOG_LEVEL: 'info' });
    await worker.waitForLog((line) => line.msg === 'worker started', WORKER_START_TIMEOUT_MS, "the worker's 'worker started' line");
    const rssAfterStart = statusBytes(worker.pid, 'VmRSS');

    process.stderr.write(`generating ${options.records} records (seed ${SEED}, malformed ratio ${MALFORMED_RATIO})...\n`);
    const generateStart = performance.now();
    const input = buildInput(options.records);
    const body = options.gzip ? await promisify(gzipCallback)(input.body) : input.body;
    const generateSeconds = (performance.now() - generateStart) / 1000;
    const key = `measure/large-${options.records}-${suffix}.jsonl${options.gzip ? '.gz' : ''}`;

    process.stderr.write(`uploading ${(body.length / MEBIBYTE).toFixed(1)} MiB to s3://${resources.rawBucket}/${key}...\n`);
    const cpuBeforeFile = cpuSeconds(worker.pid, ticksPerSecond);
    const upload = new Upload({
      client: clients.s3,
      params: {
        Bucket: resources.rawBucket,
        Key: key,
        Body: body,
        ContentType: options.gzip ? 'application/gzip' : 'application/x-ndjson',
      },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const uploadStart = performance.now();
    try {
      await withTimeout(upload.done(), UPLOAD_TIMEOUT_MS, 'the upload');
    } catch (error) {
      await upload.abort().catch(() => undefined);
      throw error;
    }
    const uploadEnd = performance.now();

    process.stderr.write(`waiting up to ${options.timeoutSeconds} s for the worker to process it...\n`);
    const outcome = await worker.waitForLog(
      (line) => line.key === key && (line.msg === 'file processed' || line.msg === 'file failed' || String(line.msg).startsWith('file skipped')),
      options.timeoutSeconds * 1000,
      `the worker's outcome for ${key}`,
    );
    if (outcome.line.msg !== 'file processed') throw new Error(`the worker did not process the file: ${JSON.stringify(outcome.line)}`);

    // Just before stopping the worker: its lifetime peak RSS and CPU time.
    const peakRss = statusBytes(worker.pid, 'VmHWM');
    const cpuTotal = cpuSeconds(worker.pid, ticksPerSecond);

    const logged = outcome.line;
    const records = logged['records'];
    const counts = { processed: numberField(records, 'processed'), filtered: numberField(records, 'filtered'), rejected: numberField(records, 'rejected') };
    const written = logged['bytesWritten'];
    const outputBytes = { processed: numberField(written, 'processed'), rejected: numberField(written, 'rejected') };
    const outputs = logged['outputs'] as { processed?: Array<{ bucket: string; key: string }>; rejected?: { bucket: string; key: string } } | undefined;
    const processedOutput = outputs?.processed?.[0];
    const outputObjectBytes = {
      processed: processedOutput ? await objectSize(clients, processedOutput.bucket, processedOutput.key) : null,
      rejected: outputs?.rejected ? await objectSize(clients, outputs.rejected.bucket, outputs.rejected.key) : null,
    };
    const workerDurationMs = numberField(logged, 'durationMs');

    process.stderr.write('stopping the worker (SIGTERM)...\n');
    const stopped = await stopChild(worker.child, WORKER_STOP_TIMEOUT_MS);
    if (stopped.killed) throw new Error(`the worker did not exit within ${WORKER_STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed`);
    const workerExitCode = stopped.exit?.code ?? null;
    if (workerExitCode !== 0) {
      throw new Error(`the worker exited with code ${workerExitCode} (signal ${stopped.exit?.signal ?? null}) after SIGTERM\n${worker.stderr()}`);
    }

    const total = counts.processed + counts.filtered + counts.rejected;
    return {
      records: options.records,
      gzip: options.gzip,
      seed: SEED,
      malformedRatio: MALFORMED_RATIO,
      key,
      inputBytes: input.body.length,
      uploadedBytes: body.length,
      generateSeconds,
      uploadSeconds: (uploadEnd - uploadStart) / 1000,
      uploadToProcessedSeconds: (outcome.atMs - uploadEnd) / 1000,
      workerDurationMs,
      recordsPerSecond: input.lines / (workerDurationMs / 1000),
      workerPeakRssBytes: peakRss ?? null,
      workerRssAfterStartBytes: rssAfterStart ?? null,
      workerCpuSecondsTotal: cpuTotal ?? null,
      workerCpuSecondsForFile: cpuTotal !== undefined && cpuBeforeFile !== undefined ? cpuTotal - cpuBeforeFile : null,
      counts,
      countsAddUp: total === input.lines,
      malformedGenerated: input.malformed,
      rejectedMatchesMalformed: counts.rejected === input.malformed,
      rejectedByReason: (logged['rejectedByReason'] ?? {}) as Record<string, number>,
      unknownDevices: typeof logged['unknownDevices'] === 'number' ? logged['unknownDevices'] : null,
      outputBytes,
      outputObjectBytes,
      workerExitCode,
      workerWarnings: worker.warnings().length,
      rssTargetMet: peakRss === undefined ? null : peakRss < RSS_TARGET_MB * 1000 * 1000,
    };
  } catch (error) {
    if (worker) process.stderr.write(`worker stderr (last lines):\n${worker.stderr()}\n`);
    process.stderr.write(`emulator stderr (last lines):\n${emulator.stderr()}\n`);
    throw error;
  } finally {
    if (worker && isRunning(worker.child)) await stopChild(worker.child, WORKER_STOP_TIMEOUT_MS);
    destroyAwsClients(clients);
    const stopped = await stopChild(emulator.child, EMULATOR_STOP_TIMEOUT_MS);
    if (stopped.killed || (stopped.exit?.code ?? 0) !== 0) {
      process.stderr.write(`note: the emulator did not stop cleanly (${JSON.stringify(stopped)})\n`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function megabytes(bytes: number | null): string {
  return bytes === null ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`;
}

function seconds(value: number | null, digits = 2): string {
  return value === null ? 'n/a' : `${value.toFixed(digits)} s`;
}

function report(figures: Figures): string {
  const { counts } = figures;
  const rows: Array<[string, string]> = [
    ['input', `${figures.records.toLocaleString('en-US')} lines, ${megabytes(figures.inputBytes)}${figures.gzip ? ` (gzip ${megabytes(figures.uploadedBytes)})` : ''}`],
    ['generate', seconds(figures.generateSeconds)],
    ['upload (multipart)', seconds(figures.uploadSeconds)],
    ['upload done -> file processed', seconds(figures.uploadToProcessedSeconds)],
    ['worker durationMs', `${figures.workerDurationMs} ms`],
    ['records/s (lines / worker duration)', Math.round(figures.recordsPerSecond).toLocaleString('en-US')],
    ['worker peak RSS (VmHWM)', megabytes(figures.workerPeakRssBytes)],
    ['worker RSS after start', megabytes(figures.workerRssAfterStartBytes)],
    ['worker CPU (total / for the file)', `${seconds(figures.workerCpuSecondsTotal)} / ${seconds(figures.workerCpuSecondsForFile)}`],
    ['processed / filtered / rejected', `${counts.processed} / ${counts.filtered} / ${counts.rejected}`],
    ['counts add up to lines', figures.countsAddUp ? 'yes' : 'NO'],
    ['rejected = malformed generated', `${figures.rejectedMatchesMalformed ? 'yes' : 'NO'} (${figures.malformedGenerated} generated)`],
    ['rejected by reason', JSON.stringify(figures.rejectedByReason)],
    ['unknown devices', String(figures.unknownDevices ?? 'n/a')],
    ['output bytes (logged)', `processed ${figures.outputBytes.processed}, rejected ${figures.outputBytes.rejected}`],
    ['output bytes (HEAD)', `processed ${figures.outputObjectBytes.processed ?? 'n/a'}, rejected ${figures.outputObjectBytes.rejected ?? 'n/a'}`],
    ['worker exit after SIGTERM', String(figures.workerExitCode)],
    ['worker warn/error log lines', String(figures.workerWarnings)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const verdict =
    figures.rssTargetMet === null ? 'unknown (no /proc)' : figures.rssTargetMet ? 'met' : 'not met';
  return [...rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`), '', `peak RSS < ${RSS_TARGET_MB} MB: ${verdict}`].join('\n');
}

// ---------------------------------------------------------------------------------------------

killTrackedChildrenOnExit('stopping the worker and the emulator');
const options = parseOptions(process.argv.slice(2));
try {
  const figures = await measure(options);
  process.stdout.write(`${report(figures)}\n`);
  if (options.jsonFile !== undefined) writeFileSync(options.jsonFile, `${JSON.stringify(figures, null, 2)}\n`);
  if (!figures.countsAddUp) process.exitCode = 1;
} catch (error) {
  process.stderr.write(`measure-large-file failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  killTrackedChildren();
  process.exitCode = 1;
}
