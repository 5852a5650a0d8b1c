import { exited, takeEmulatorProcess } from './emulator-process.ts';

export default async function globalTeardown(): Promise<void> {
  const child = takeEmulatorProcess();
  if (child === undefined) return;
  child.kill('SIGTERM');
  let stopped = await exited(child, 10_000);
  if (!stopped) {
    child.kill('SIGKILL');
    stopped = await exited(child, 5_000);
  }
  child.stdin?.destroy();
  if (!stopped) throw new Error(`The emulator (pid ${child.pid}) did not exit`);
}
