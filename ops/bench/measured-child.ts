/**
 * The parent side of a measured child (children/child-protocol.ts): start a compiled script with the
 * production Node flags, wait until it is ready, read its CPU time, let it work, read its CPU time and
 * peak RSS again before it exits. Its figures are then its own and cover only the work.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { stopChild, tailLines, trackChild, untrackChild, waitForExit, withTimeout } from '../local/child-processes.ts';
import { PRODUCTION_NODE_OPTIONS } from '../../worker/production-runtime.ts';
import { cpuDelta, cpuSecondsOf, statusBytesOf } from './process-stats.ts';

export interface MeasuredChildRun<T> {
  readonly result: T;
  /** From `go` to the result line arriving. */
  readonly wallSeconds: number;
  readonly cpuSeconds: number | null;
  /** VmHWM: the child's peak RSS over its whole life, start-up included. */
  readonly peakRssBytes: number | null;
}

export interface MeasuredChildOptions {
  readonly script: string;
  readonly argument: object;
  readonly readyTimeoutMs: number;
  readonly workTimeoutMs: number;
}

const EXIT_TIMEOUT_MS = 10_000;

export async function runMeasuredChild<T>(options: MeasuredChildOptions): Promise<MeasuredChildRun<T>> {
  const child = spawn(process.execPath, [options.script, JSON.stringify(options.argument)], {
    env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  trackChild(child);
  const stderr = tailLines(child.stderr, 20);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${options.script} exited early (code ${code}, signal ${signal})\n${stderr()}`)));
  });
  exited.catch(() => undefined);
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const nextMessage = async (timeoutMs: number, what: string): Promise<Record<string, unknown>> => {
    const next = await withTimeout(Promise.race([iterator.next(), exited]), timeoutMs, `${options.script}: ${what}`);
    if (next.done) throw new Error(`${options.script} closed its output while waiting for ${what}\n${stderr()}`);
    return JSON.parse(next.value) as Record<string, unknown>;
  };
  try {
    await nextMessage(options.readyTimeoutMs, 'ready');
    const cpuBefore = cpuSecondsOf(child.pid);
    const start = performance.now();
    child.stdin.write('go\n');
    const message = await nextMessage(options.workTimeoutMs, 'its result');
    const wallSeconds = (performance.now() - start) / 1000;
    const cpuSeconds = cpuDelta(cpuBefore, cpuSecondsOf(child.pid));
    const peakRssBytes = statusBytesOf(child.pid, 'VmHWM');
    child.stdin.end();
    const exit = await waitForExit(child, EXIT_TIMEOUT_MS);
    if (exit?.code !== 0) throw new Error(`${options.script} did not exit cleanly: ${JSON.stringify(exit)}\n${stderr()}`);
    return { result: message['result'] as T, wallSeconds, cpuSeconds, peakRssBytes };
  } finally {
    lines.close();
    await stopChild(child, EXIT_TIMEOUT_MS);
    untrackChild(child);
  }
}
