/**
 * Child processes for the ops scripts: tracked so that every exit path kills them, waited for with a
 * bound, stopped with SIGTERM and then SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const KILL_WAIT_MS = 5_000;

const trackedChildren = new Set<ChildProcess>();
/** Children started in a process group of their own (npm and what it starts): killed as a group. */
const groupLeaders = new WeakSet<ChildProcess>();

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Remembers the child so that killTrackedChildren kills it; `processGroup` when it was spawned detached. */
export function trackChild(child: ChildProcess, options: { readonly processGroup?: boolean } = {}): void {
  if (options.processGroup) groupLeaders.add(child);
  trackedChildren.add(child);
}

export function untrackChild(child: ChildProcess): void {
  trackedChildren.delete(child);
}

/** Kills every tracked child still running; group leaders with their whole process group. */
export function killTrackedChildren(): void {
  for (const child of trackedChildren) {
    if (!isRunning(child) || child.pid === undefined) continue;
    try {
      if (groupLeaders.has(child)) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Kills the tracked children when this process exits; on SIGINT, SIGTERM or SIGHUP says so
 * (`\n${signal}: ${stopping}`), kills them, runs `cleanup` and exits 130.
 */
export function killTrackedChildrenOnExit(stopping: string, cleanup: () => void = () => undefined): void {
  process.on('exit', killTrackedChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: ${stopping}\n`);
      killTrackedChildren();
      cleanup();
      process.exit(130);
    });
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The child's exit, or undefined if it is still running after timeoutMs. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<Exit | undefined> {
  if (!isRunning(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolveExit) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolveExit({ code, signal });
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolveExit(undefined);
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if it has not exited within timeoutMs. */
export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<{ exit: Exit | undefined; killed: boolean }> {
  if (!isRunning(child)) return { exit: { code: child.exitCode, signal: child.signalCode }, killed: false };
  child.kill('SIGTERM');
  const exit = await waitForExit(child, timeoutMs);
  if (exit !== undefined) return { exit, killed: false };
  child.kill('SIGKILL');
  return { exit: await waitForExit(child, KILL_WAIT_MS), killed: true };
}

/** Keeps the last `keep` lines a child wrote on a stream, for error reports. */
export function tailLines(stream: NodeJS.ReadableStream | null, keep: number): () => string {
  const lines: string[] = [];
  if (stream !== null) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > keep) lines.shift();
    });
  }
  return () => lines.join('\n');
}
