/**
 * promtool (Debian's `prometheus` package) for the tests. Without it the tests that need it skip, and say
 * so, on a developer's machine; in CI (CI set, as GitHub Actions and .ci/run have it) they fail, so that CI
 * cannot skip them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from '@jest/globals';

export const promtoolVersion = (() => {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? (/version (\S+)/.exec(probe.stdout + probe.stderr)?.[1] ?? 'unknown') : undefined;
})();

export const PROMTOOL_MISSING = 'promtool is not on PATH (apt-get install -y --no-install-recommends prometheus)';
const inCi = Boolean(process.env['CI']);

/** `describe` when promtool is there or CI is set (then a missing promtool fails the tests), else `describe.skip`. */
export const describePromtool = promtoolVersion === undefined && !inCi ? describe.skip : describe;
/** The same for one test. */
export const itPromtool = promtoolVersion === undefined && !inCi ? it.skip : it;

/** A title that says which promtool ran, or why the tests skip or fail. */
export const promtoolTitle =
  promtoolVersion !== undefined
    ? `promtool ${promtoolVersion}`
    : inCi
      ? `promtool: MISSING, ${PROMTOOL_MISSING}, and CI is set`
      : `promtool: SKIPPED, ${PROMTOOL_MISSING}`;

/** Throws in CI when promtool is missing: call it first in a test or hook that `describePromtool`/`itPromtool` runs. */
export function requirePromtool(): void {
  if (promtoolVersion === undefined) throw new Error(`${PROMTOOL_MISSING}; in CI these checks must run, not skip (.ci/run installs it)`);
}

/** Runs promtool with `args`, `stdin` on its standard input; its exit code and everything it printed. Bounded by 60 s. */
export function promtool(args: readonly string[], stdin = ''): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => resolve({ code: -1, output: `${output}${error.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.on('error', () => undefined); // promtool may exit before reading it all; its code says why
    child.stdin.end(stdin);
  });
}
