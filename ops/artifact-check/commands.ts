/** Commands the check runs to completion (npm, the HEALTHCHECK, probes): bounded, and killed with their process group. */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { isRunning, trackChild, untrackChild, withTimeout } from '../local/child-processes.ts';

/** The environment for commands run on this script's Node (npm included), without inherited Node settings. */
export function commandEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env['PATH'] = `${dirname(process.execPath)}${process.platform === 'win32' ? ';' : ':'}${process.env['PATH'] ?? ''}`;
  delete env['NODE_OPTIONS'];
  delete env['NODE_PATH'];
  return env;
}

/** Runs a command to completion in its own process group, bounded; rejects with its output's tail on failure. */
export function runCommand(command: string, args: readonly string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  trackChild(child, { processGroup: true });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const done = new Promise<string>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      untrackChild(child);
      if (code === 0) resolveDone(output);
      else reject(new Error(`${command} ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${output.trim()}`));
    });
  });
  return withTimeout(done, timeoutMs, `${command} ${args.join(' ')}`).catch((error: unknown) => {
    if (isRunning(child) && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw error;
  });
}

