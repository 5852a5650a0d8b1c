import type { ChildProcess } from 'node:child_process';

// Jest runs globalSetup and globalTeardown in one process but through separate module
// registries: only globalThis is shared between them.
const EMULATOR_PROCESS = Symbol.for('iot-ingest.test.emulator-process');

type WithEmulator = typeof globalThis & { [EMULATOR_PROCESS]?: ChildProcess };

export function keepEmulatorProcess(child: ChildProcess): void {
  (globalThis as WithEmulator)[EMULATOR_PROCESS] = child;
}

export function takeEmulatorProcess(): ChildProcess | undefined {
  const child = (globalThis as WithEmulator)[EMULATOR_PROCESS];
  delete (globalThis as WithEmulator)[EMULATOR_PROCESS];
  return child;
}

/** Resolves true once the process has exited, false if it is still running after timeoutMs. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
