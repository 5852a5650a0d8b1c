/**
 * The RUN instructions the check knows how to replay: anything else in the Dockerfile fails the check
 * instead of being ignored, so the Dockerfile and the check cannot drift apart.
 */
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { commandEnv, runCommand } from './commands.ts';
import { PROJECT_ROOT } from './dockerfile.ts';
import { hostPath, type StageFolder } from './stage-folder.ts';

const NPM_CI_TIMEOUT_MS = 180_000;
const BUILD_TIMEOUT_MS = 120_000;

export interface RunRule {
  readonly pattern: RegExp;
  readonly replay: (folder: StageFolder, command: string) => Promise<string>;
}

const PLAIN_WORDS = /^[\w@./=:-]+(?: [\w@./=:-]+)*$/;

/** Runs the command as written (it must be plain words: no shell), with npm and node from this script's Node. */
async function runAsWritten(folder: StageFolder, command: string, timeoutMs: number): Promise<string> {
  if (!PLAIN_WORDS.test(command)) throw new Error(`RUN ${command}: only plain words can be replayed`);
  const [program = '', ...args] = command.split(' ');
  await runCommand(program, args, hostPath(folder, '.'), timeoutMs, commandEnv());
  return `ran \`${command}\` in ${folder.workdir}`;
}

export const RUN_RULES: readonly RunRule[] = [
  {
    // The build stage's full install: the project's node_modules come from the same lockfile.
    pattern: /^npm ci(?: --no-audit| --no-fund)*$/,
    replay: (folder) => {
      const lockfile = hostPath(folder, 'package-lock.json');
      if (!existsSync(lockfile) || readFileSync(lockfile, 'utf8') !== readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) {
        return Promise.reject(new Error("the build stage's package-lock.json is not the project's"));
      }
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), hostPath(folder, 'node_modules'), 'dir');
      return Promise.resolve(`npm ci (all dependencies): the project's node_modules, linked (same lockfile)`);
    },
  },
  {
    pattern: /^npm ci (?=.*--omit=dev)[\w =-]*$/,
    replay: (folder, command) => runAsWritten(folder, command, NPM_CI_TIMEOUT_MS),
  },
  {
    pattern: /^npm run build$/,
    replay: (folder, command) => runAsWritten(folder, command, BUILD_TIMEOUT_MS),
  },
  {
    // Image setup outside the app folder: system packages (tini), removing npm. Nothing the worker loads.
    pattern: /^apt-get update && apt-get install -y --no-install-recommends [\w -]+(?: && rm -rf [\w/*. -]+)*$/,
    replay: (_folder, command) => {
      if (/\/app\b/.test(command)) return Promise.reject(new Error(`RUN ${command}: touches /app, which the check cannot skip`));
      return Promise.resolve(`skipped image setup: ${command.slice(0, 70)}...`);
    },
  },
];
