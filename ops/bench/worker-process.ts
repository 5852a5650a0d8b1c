/**
 * The production worker (dist/worker/main.js with the container's NODE_ENV and NODE_OPTIONS) as a
 * child process of its own, one per scenario run, so its CPU time and peak RSS are its own and start
 * from zero.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isRunning, stopChild, tailLines, trackChild, untrackChild } from '../local/child-processes.ts';
import { PRODUCTION_NODE_OPTIONS } from '../../worker/production-runtime.ts';
import { followWorkerLog, type WorkerLog } from '../local/worker-log.ts';
import { COMPILED } from './build.ts';

export interface BenchWorker {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly log: WorkerLog;
  readonly stderr: () => string;
}

/** What the bench sets on top of the settings that point the worker at the scratch pipeline. */
export const PRODUCTION_PROCESS_ENV = { NODE_ENV: 'production', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS } as const;

const STOP_TIMEOUT_MS = 40_000; // above the worker's default 25 s shutdown grace

export interface StartWorkerOptions {
  /** Environment: the scratch pipeline's settings plus the scenario's own. */
  readonly settings: Readonly<Record<string, string>>;
  readonly startTimeoutMs: number;
  /** Node flags before the script, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
}

export async function startBenchWorker(options: StartWorkerOptions): Promise<BenchWorker> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), COMPILED.worker], {
    env: { ...options.settings, ...PRODUCTION_PROCESS_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  if (child.pid === undefined) throw new Error('the worker process did not start');
  const stderr = tailLines(child.stderr, 20);
  const log = followWorkerLog(child, child.stdout, stderr);
  const worker = { child, pid: child.pid, log, stderr };
  try {
    await log.waitFor((line) => line.msg === 'worker started', options.startTimeoutMs, "the worker's 'worker started' line");
  } catch (error) {
    await stopBenchWorker(worker).catch(() => undefined);
    throw error;
  }
  return worker;
}

/** SIGTERM, as ECS stops a task; throws unless the worker drains and exits 0 in time. */
export async function stopBenchWorker(worker: BenchWorker): Promise<void> {
  if (!isRunning(worker.child)) {
    untrackChild(worker.child);
    return;
  }
  const stopped = await stopChild(worker.child, STOP_TIMEOUT_MS);
  untrackChild(worker.child);
  if (stopped.killed || stopped.exit?.code !== 0) {
    throw new Error(`the worker did not stop cleanly after SIGTERM: ${JSON.stringify(stopped)}\n${worker.stderr()}`);
  }
}

/** Stops every worker; the first failure is thrown after all were stopped. */
export async function stopBenchWorkers(workers: readonly BenchWorker[]): Promise<void> {
  const results = await Promise.allSettled(workers.map(stopBenchWorker));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The worker's warn and error log lines so far (pino levels 40 and up). */
export function warningLines(worker: BenchWorker): number {
  return worker.log.entries.filter(({ line }) => typeof line['level'] === 'number' && line['level'] >= 40).length;
}
