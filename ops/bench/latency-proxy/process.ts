/**
 * The parent side of the latency proxy (main.ts): started as a tracked child process on loopback, asked
 * for its request counts over stdin, stopped with the scenario so that its CPU, read from /proc, is its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild, tailLines, trackChild, untrackChild, withTimeout } from '../../local/child-processes.ts';
import { isRequestCounts, type RequestCounts } from './request-counts.ts';
import type { LatencyProxyOptions } from './server.ts';

const PROXY_SCRIPT = fileURLToPath(new URL('./main.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const ANSWER_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ProxyReading {
  readonly counts: RequestCounts;
  readonly inFlight: number;
}

export interface LatencyProxyProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly options: LatencyProxyOptions;
  /** The counts of the exchanges that have ended, and how many are under way. */
  read(): Promise<ProxyReading>;
  stop(): Promise<void>;
}

export async function startLatencyProxyProcess(options: LatencyProxyOptions): Promise<LatencyProxyProcess> {
  const child = spawn(process.execPath, [PROXY_SCRIPT, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  const stderr = tailLines(child.stderr, 20);
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next === undefined) early.push(line);
    else next.resolve(line);
  });
  child.once('exit', (code, signal) => {
    for (const next of waiting.splice(0)) next.reject(new Error(`the latency proxy exited (code ${code}, signal ${signal})\n${stderr()}`));
  });
  const nextLine = (timeoutMs: number, what: string) =>
    withTimeout(
      new Promise<string>((resolve, reject) => {
        const line = early.shift();
        if (line !== undefined) resolve(line);
        else waiting.push({ resolve, reject });
      }),
      timeoutMs,
      `latency proxy: ${what}`,
    );

  try {
    if (child.pid === undefined) throw new Error('the latency proxy did not start');
    const { url } = JSON.parse(await nextLine(START_TIMEOUT_MS, 'its address')) as { url?: unknown };
    if (typeof url !== 'string') throw new Error(`the latency proxy printed no address\n${stderr()}`);
    const { pid } = child;
    let asking = Promise.resolve();
    const read = async (): Promise<ProxyReading> => {
      // One question at a time, so that each answer is the one asked for.
      const answer = asking.then(async () => {
        child.stdin.write('counts\n');
        return JSON.parse(await nextLine(ANSWER_TIMEOUT_MS, 'its counts')) as { counts?: unknown; inFlight?: unknown };
      });
      asking = answer.then(() => undefined, () => undefined);
      const { counts, inFlight } = await answer;
      if (!isRequestCounts(counts) || typeof inFlight !== 'number') throw new Error('the latency proxy answered without its counts');
      return { counts, inFlight };
    };
    return {
      child,
      pid,
      url,
      options,
      read,
      async stop() {
        child.stdin.end();
        const stopped = await stopChild(child, STOP_TIMEOUT_MS);
        untrackChild(child);
        lines.close();
        if (stopped.killed || (stopped.exit?.code ?? 0) !== 0) throw new Error(`the latency proxy did not stop cleanly: ${JSON.stringify(stopped)}\n${stderr()}`);
      },
    };
  } catch (error) {
    await stopChild(child, STOP_TIMEOUT_MS);
    untrackChild(child);
    lines.close();
    throw error;
  }
}
