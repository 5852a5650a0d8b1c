/** The runtime stage's CMD, started in its WORKDIR as a tracked child process, its log followed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { tailLines, trackChild } from '../local/child-processes.ts';
import { followWorkerLog, type LogLine } from '../local/worker-log.ts';
import type { AssembledArtifact } from './replay-stages.ts';

export interface ArtifactProcess {
  readonly child: ChildProcess;
  /** The last lines of its stdout and stderr, for the error report. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Everything it wrote on stderr. */
  readonly stderrText: () => string;
  /** Its log lines so far. */
  lines(): LogLine[];
  /** The first log line that matches (an earlier one included); rejects if the worker exits first. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
}

const TAIL_LINES = 30;

export function startArtifact(artifact: AssembledArtifact, env: Record<string, string>): ArtifactProcess {
  const [program, ...args] = artifact.cmd;
  // The image's `node` is the Node on PATH; here this script's Node (the same major) stands in for it.
  if (program !== 'node') throw new Error(`the runtime CMD starts ${program}, not node: the check cannot stand in for it`);
  const child = spawn(process.execPath, args, { cwd: artifact.appFolder, env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let stderrText = '';
  child.stderr.on('data', (chunk: Buffer) => (stderrText += chunk.toString('utf8')));
  const stderr = tailLines(child.stderr, TAIL_LINES);
  const stdout = tailLines(child.stdout, TAIL_LINES);
  const log = followWorkerLog(child, child.stdout, stderr);
  return {
    child,
    stdout,
    stderr,
    stderrText: () => stderrText,
    lines: () => log.entries.map((entry) => entry.line),
    waitForLog: async (predicate, timeoutMs, what) => (await log.waitFor(predicate, timeoutMs, what)).line,
  };
}
