import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exited, keepEmulatorProcess } from './emulator-process.ts';

const EMULATOR_SCRIPT = fileURLToPath(new URL('../../ops/local/emulator.ts', import.meta.url));
const STARTUP_TIMEOUT_MS = 20_000;

interface EmulatorAddress {
  readonly endpoint: string;
  readonly region: string;
}

/** Starts the local stack as a child process (its own CPU and memory) and tells the test workers where it is. */
export default async function globalSetup(): Promise<void> {
  const child = spawn(process.execPath, [EMULATOR_SCRIPT], {
    env: { ...process.env, LOCAL_EMULATOR_PORT: '0', LOCAL_EMULATOR_STOP_ON_STDIN_END: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const address = await readAddress(child);
    process.env['IOT_TEST_ENDPOINT'] = address.endpoint;
    process.env['IOT_TEST_REGION'] = address.region;
    keepEmulatorProcess(child);
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child, 5_000);
    throw error;
  }
}

function readAddress(child: ChildProcess): Promise<EmulatorAddress> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error('The emulator has no stdout pipe'));
  const lines = createInterface({ input: stdout });
  let onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => undefined;
  let onError: (error: Error) => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  return new Promise<EmulatorAddress>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The emulator printed no address within ${STARTUP_TIMEOUT_MS} ms`)),
      STARTUP_TIMEOUT_MS,
    );
    onError = reject;
    onExit = (code, signal) => reject(new Error(`The emulator exited before listening (code ${code}, signal ${signal})`));
    child.once('error', onError).once('exit', onExit);
    lines.once('line', (line) => {
      try {
        resolve(parseAddress(line));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }).finally(() => {
    clearTimeout(timer);
    child.off('error', onError).off('exit', onExit);
    lines.close();
    // Keep draining stdout so that the emulator can never block on a full pipe.
    stdout.resume();
  });
}

function parseAddress(line: string): EmulatorAddress {
  const parsed: unknown = JSON.parse(line);
  const { endpoint, region } = (parsed ?? {}) as Partial<Record<keyof EmulatorAddress, unknown>>;
  if (typeof endpoint !== 'string' || typeof region !== 'string') {
    throw new Error(`The emulator printed an unexpected first line: ${line}`);
  }
  return { endpoint, region };
}
