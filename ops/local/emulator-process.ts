/**
 * ops/local/emulator.ts as a tracked child process on loopback (a free port unless told otherwise), for
 * `npm start` and the scripts that measure or check the worker in a process of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tailLines, trackChild, withTimeout } from './child-processes.ts';

const EMULATOR_SCRIPT = fileURLToPath(new URL('./emulator.ts', import.meta.url));

export interface EmulatorProcess {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly region: string;
  /** The last lines of its stderr. */
  readonly stderr: () => string;
}

export interface EmulatorProcessOptions {
  /** The child's environment; the port and stop-on-stdin-end settings are added to it. */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly startTimeoutMs: number;
  /** How many stderr lines `stderr()` keeps. */
  readonly stderrLines: number;
  /** @default 0, a free port */
  readonly port?: number;
  /**
   * Start it in a process group of its own, so that a terminal's Ctrl-C, which reaches the whole
   * foreground group, reaches only the parent, which then stops it after what uses it.
   * @default false
   */
  readonly ownProcessGroup?: boolean;
}

/** The emulator exited before it listened (a port in use, say); `stderr` holds its last lines. */
export class EmulatorExitedError extends Error {
  override readonly name = 'EmulatorExitedError';
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;

  constructor(code: number | null, signal: NodeJS.Signals | null, stderr: string) {
    super(`the emulator exited before listening (code ${code}, signal ${signal})\n${stderr}`);
    this.code = code;
    this.signal = signal;
    this.stderr = stderr;
  }
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1'];

export function isLoopbackUrl(url: string): boolean {
  return LOOPBACK_HOSTS.includes(new URL(url).hostname);
}

/** Starts the emulator and resolves once it has printed its address (checked to be on loopback). */
export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [EMULATOR_SCRIPT], {
    cwd: options.cwd,
    env: { ...options.env, LOCAL_EMULATOR_PORT: String(options.port ?? 0), LOCAL_EMULATOR_STOP_ON_STDIN_END: '1' },
    detached: options.ownProcessGroup ?? false,
    // stdin stays open: if this process dies without cleaning up, the emulator sees its end and stops.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  trackChild(child);
  const stderr = tailLines(child.stderr, options.stderrLines);
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise<string>((resolveLine, reject) => {
    lines.once('line', resolveLine);
    child.once('error', reject);
    // 'close', not 'exit': by then its stderr has been read to the end, so the error carries the reason.
    child.once('close', (code, signal) => reject(new EmulatorExitedError(code, signal, stderr())));
  });
  try {
    const line = await withTimeout(firstLine, options.startTimeoutMs, 'emulator start');
    const { endpoint, region } = JSON.parse(line) as { endpoint?: unknown; region?: unknown };
    if (typeof endpoint !== 'string' || typeof region !== 'string') throw new Error(`the emulator printed an unexpected line: ${line}`);
    if (!isLoopbackUrl(endpoint)) throw new Error(`the emulator listens on ${endpoint}, not on loopback`);
    return { child, endpoint, region, stderr };
  } finally {
    lines.close();
    child.stdout.resume(); // keep draining, so the emulator never blocks on a full pipe
  }
}
