/**
 * The production artifact check: `npm run check:artifact` (`node ops/check-production-artifact.ts [--keep]`).
 *
 * The container image cannot be built on this project's machines (no Docker engine), so this script
 * assembles what the image holds, from the Dockerfile itself, and runs it:
 *
 *  1. It parses the Dockerfile and replays every stage in a temporary folder (one folder per stage,
 *     standing for the stage's `/`): WORKDIR, COPY (from the build context, honouring .dockerignore, or
 *     `--from` an earlier stage) and RUN. RUNs are matched against a short table: `npm ci --omit=dev ...`
 *     and `npm run build` run as written (the real registry, the project's tsc); the build stage's full
 *     `npm ci` is stood in for by the project's own node_modules (installed from the same lockfile);
 *     `apt-get` image setup (tini) is skipped. Any other RUN fails the check.
 *     Drift guard: the Dockerfile is the only list of what goes into the image, and this script reads
 *     it instead of keeping a second copy, so the two cannot disagree; an instruction it cannot replay
 *     stops it instead of being ignored.
 *  2. It proves the runtime stage has no devDependencies: no devDependency-only package in its
 *     node_modules (by the lockfile's `dev` flags), none resolvable from its WORKDIR (while they resolve
 *     from the project), no node_modules in any folder above it, and no bare import in its compiled code
 *     that is not a production dependency (dynamic imports included).
 *  3. It starts the emulator (ops/emulator.ts, loopback) as a child process, creates a pipeline with
 *     ops/local-resources.ts, starts the runtime stage's CMD in its WORKDIR with its ENV (NODE_ENV,
 *     NODE_OPTIONS = PRODUCTION_NODE_OPTIONS), runs the HEALTHCHECK command against it, puts a small
 *     JSON Lines file in the raw bucket, waits for 'file processed' and the processed output, then sends
 *     SIGTERM and expects exit 0 with nothing on stderr.
 *
 * Not replayed: USER (the worker runs as the current user), ENTRYPOINT (tini only forwards signals),
 * the image's own Node (this script's Node, the `node` devDependency, stands in: same major).
 * Every wait is bounded, every child is killed on any exit path, everything listens on loopback.
 * The temporary folder is removed at the end unless --keep is given.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients, destroyAwsClients } from '../worker/aws-clients.ts';
import { createPipelineResources } from './local-resources.ts';
import { COMPILED_WORKER_ENTRY, PRODUCTION_NODE_OPTIONS } from './production-runtime.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOCKERFILE_PATH = join(PROJECT_ROOT, 'Dockerfile');
export const DOCKERIGNORE_PATH = join(PROJECT_ROOT, '.dockerignore');
const EMULATOR_SCRIPT = join(PROJECT_ROOT, 'ops', 'emulator.ts');

const NPM_CI_TIMEOUT_MS = 180_000;
const BUILD_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 15_000;
const EMULATOR_START_TIMEOUT_MS = 20_000;
const RESOURCES_TIMEOUT_MS = 20_000;
const WORKER_START_TIMEOUT_MS = 20_000;
const HEALTHCHECK_TIMEOUT_MS = 10_000;
const FILE_TIMEOUT_MS = 30_000;
const S3_CALL_TIMEOUT_MS = 10_000;
const WORKER_STOP_TIMEOUT_MS = 20_000; // above SHUTDOWN_GRACE_SECONDS below
const EMULATOR_STOP_TIMEOUT_MS = 15_000;
const KILL_WAIT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// The Dockerfile

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** The rest of the instruction, continuation lines joined with single spaces. */
  readonly args: string;
  /** 1-based line where it starts. */
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly from: Instruction;
  readonly instructions: readonly Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

/** Parses the subset of Dockerfile syntax this project uses: comments, `\` continuations, one instruction a line. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return; // comments may sit inside a continuation too
    const continues = trimmed.endsWith('\\');
    const content = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending ??= { parts: [], line: index + 1 };
    pending.parts.push(content);
    if (continues) return;
    const joined = pending.parts.join(' ');
    const match = /^(\S+)\s*(.*)$/.exec(joined);
    if (match === null) throw new Error(`Dockerfile line ${pending.line}: cannot parse "${joined}"`);
    instructions.push({ keyword: (match[1] ?? '').toUpperCase(), args: match[2] ?? '', line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`Dockerfile line ${pending.line}: the last instruction ends in a continuation`);

  const globalArgs: Record<string, string> = {};
  const stages: Array<{ name: string; base: string; from: Instruction; instructions: Instruction[] }> = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const tokens = instruction.args.split(/\s+/).filter((token) => !token.startsWith('--platform='));
      const base = substituteArgs(tokens[0] ?? '', globalArgs);
      const name = tokens.length === 3 && tokens[1]?.toUpperCase() === 'AS' ? (tokens[2] ?? '') : String(stages.length);
      if (base === '' || (tokens.length !== 1 && tokens.length !== 3)) throw new Error(`Dockerfile line ${instruction.line}: cannot parse FROM ${instruction.args}`);
      stages.push({ name, base, from: instruction, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`Dockerfile line ${instruction.line}: only ARG may come before the first FROM`);
      const [key = '', value = ''] = instruction.args.split('=', 2);
      globalArgs[key.trim()] = unquote(value.trim());
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

function substituteArgs(text: string, args: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => args[braced ?? bare ?? ''] ?? whole);
}

function unquote(text: string): string {
  return /^"(.*)"$/s.test(text) || /^'(.*)'$/s.test(text) ? text.slice(1, -1) : text;
}

export function readDockerfile(path = DOCKERFILE_PATH): ParsedDockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** The last stage: what the image is. */
export function runtimeStage(dockerfile: ParsedDockerfile): Stage {
  const stage = dockerfile.stages.at(-1);
  if (stage === undefined) throw new Error('the Dockerfile has no FROM');
  return stage;
}

/** The exec (JSON array) form of CMD, ENTRYPOINT or RUN; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
    throw new Error(`not an exec form of strings: ${args}`);
  }
  return parsed;
}

/** `KEY=value KEY2="quoted value"` (and the legacy `KEY value`) as a record. */
export function parseEnv(args: string): Record<string, string> {
  const legacy = /^(\w+)\s+([^=]*)$/.exec(args);
  if (legacy !== null && !args.includes('=')) return { [legacy[1] ?? '']: legacy[2] ?? '' };
  const result: Record<string, string> = {};
  const pattern = /(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(args)) !== null && match[0] !== '') {
    const value = match[2] ?? '';
    result[match[1] ?? ''] = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : unquote(value);
    consumed = pattern.lastIndex;
  }
  if (consumed !== args.length) throw new Error(`cannot parse ENV ${args}`);
  return result;
}

/** The runtime stage's environment: every ENV, later ones winning. */
export function stageEnv(stage: Stage): Record<string, string> {
  return Object.assign({}, ...stage.instructions.filter((i) => i.keyword === 'ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
}

export interface HealthCheck {
  readonly options: Readonly<Record<string, string>>;
  readonly command: readonly string[];
}

export function parseHealthCheck(args: string): HealthCheck {
  const match = /^((?:--[\w-]+=\S+\s+)*)CMD\s+(.*)$/s.exec(args);
  if (match === null) throw new Error(`cannot parse HEALTHCHECK ${args}`);
  const options = Object.fromEntries(
    (match[1] ?? '').trim().split(/\s+/).filter(Boolean).map((option) => option.slice(2).split('=', 2) as [string, string]),
  );
  const command = execForm(match[2] ?? '');
  if (command === undefined) throw new Error('HEALTHCHECK CMD must use the exec form');
  return { options, command };
}

export interface CopySpec {
  /** The stage it copies from, or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
  readonly line: number;
}

export function parseCopy(instruction: Instruction): CopySpec {
  if (instruction.args.trimStart().startsWith('[')) throw new Error(`Dockerfile line ${instruction.line}: use the plain form of COPY`);
  const tokens = instruction.args.split(/\s+/).filter(Boolean);
  let from: string | undefined;
  const paths: string[] = [];
  for (const token of tokens) {
    if (token.startsWith('--from=')) from = token.slice('--from='.length);
    else if (/^--(chown|chmod)=/.test(token) || token === '--link') continue; // ownership and layering: nothing to replay
    else if (token.startsWith('--')) throw new Error(`Dockerfile line ${instruction.line}: COPY flag ${token} is not supported by the check`);
    else paths.push(token);
  }
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0) throw new Error(`Dockerfile line ${instruction.line}: COPY needs a source and a destination`);
  for (const source of paths) {
    if (/[*?[]/.test(source)) throw new Error(`Dockerfile line ${instruction.line}: COPY wildcards are not supported by the check (${source})`);
  }
  return { from, sources: paths, destination, line: instruction.line };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore (the documented syntax: `*`, `?`, `**`, `!` exceptions, last match wins)

export function readDockerignore(path = DOCKERIGNORE_PATH): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] ?? '';
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` matches any number of folders, including none
      if (pattern[index + 2] === '/') {
        source += '(?:.*/)?';
        index += 2;
      } else {
        source += '.*';
        index += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether .dockerignore keeps `path` (relative to the context, `/`-separated) out of the build context. */
export function isDockerIgnored(path: string, patterns: readonly string[]): boolean {
  const segments = path.split('/').filter(Boolean);
  const prefixes = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const exception = raw.startsWith('!');
    const pattern = posix.normalize((exception ? raw.slice(1) : raw).trim()).replace(/^\/+|\/+$/g, '');
    const regexp = globToRegExp(pattern);
    // A pattern that matches a folder excludes everything in it.
    if (prefixes.some((prefix) => regexp.test(prefix))) ignored = !exception;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------
// Imports of the compiled code

export interface ImportScan {
  readonly files: number;
  readonly packages: readonly string[];
  readonly problems: readonly string[];
}

const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function listJsFiles(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...listJsFiles(path));
    else if (/\.(?:m|c)?js$/.test(entry.name)) found.push(path);
  }
  return found;
}

interface PackageJson {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/**
 * Every import specifier in the .js files under `appFolder` (node_modules left out): a bare one must be
 * a Node builtin or a production dependency; a relative one must point at a file that is there.
 */
export function scanImports(appFolder: string, packageJson: PackageJson): ImportScan {
  const dependencies = new Set(Object.keys(packageJson.dependencies ?? {}));
  const devDependencies = new Set(Object.keys(packageJson.devDependencies ?? {}));
  const packages = new Set<string>();
  const problems: string[] = [];
  const files = listJsFiles(appFolder);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const where = relative(appFolder, file).split(sep).join('/');
    for (const pattern of IMPORT_PATTERNS) {
      for (const match of text.matchAll(pattern)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.') || specifier.startsWith('/')) {
          const target = resolve(dirname(file), specifier);
          if (!existsSync(target)) problems.push(`${where} imports ${specifier}, which the image does not contain`);
        } else if (!isBuiltin(specifier)) {
          const name = packageName(specifier);
          packages.add(name);
          if (devDependencies.has(name) && !dependencies.has(name)) {
            problems.push(`${where} imports ${specifier}: ${name} is only a devDependency, absent from the image`);
          } else if (!dependencies.has(name)) {
            problems.push(`${where} imports ${specifier}: ${name} is not in package.json dependencies (present only by hoisting, if at all)`);
          }
        }
      }
    }
  }
  return { files: files.length, packages: [...packages].sort(), problems };
}

// ---------------------------------------------------------------------------------------------
// Steps, child processes

type Log = (line: string) => void;

interface StepRecord {
  readonly name: string;
  readonly seconds: number;
}

const children = new Set<ChildProcess>();
/** Children started in a process group of their own (npm and what it starts): killed as a group. */
const groupLeaders = new WeakSet<ChildProcess>();

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Kills every child still running; detached ones (npm and what it starts) as a whole process group. */
export function killAllChildren(): void {
  for (const child of children) {
    if (!isRunning(child) || child.pid === undefined) continue;
    try {
      if (groupLeaders.has(child)) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<Exit | undefined> {
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
async function stopChild(child: ChildProcess, timeoutMs: number): Promise<{ exit: Exit | undefined; killed: boolean }> {
  if (!isRunning(child)) return { exit: { code: child.exitCode, signal: child.signalCode }, killed: false };
  child.kill('SIGTERM');
  const exit = await waitForExit(child, timeoutMs);
  if (exit !== undefined) return { exit, killed: false };
  child.kill('SIGKILL');
  return { exit: await waitForExit(child, KILL_WAIT_MS), killed: true };
}

/** The environment for commands run on this script's Node (npm included), without inherited Node settings. */
function commandEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env['PATH'] = `${dirname(process.execPath)}${process.platform === 'win32' ? ';' : ':'}${process.env['PATH'] ?? ''}`;
  delete env['NODE_OPTIONS'];
  delete env['NODE_PATH'];
  return env;
}

/** Runs a command to completion in its own process group, bounded; rejects with its output's tail on failure. */
function runCommand(command: string, args: readonly string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groupLeaders.add(child);
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const done = new Promise<string>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      children.delete(child);
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

/** Keeps the last lines a child wrote on a stream. */
function tail(stream: NodeJS.ReadableStream | null, keep = 30): () => string {
  const lines: string[] = [];
  if (stream !== null) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > keep) lines.shift();
    });
  }
  return () => lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Replaying the Dockerfile

interface StageFolder {
  readonly stage: Stage;
  /** Stands for the stage's `/`. */
  readonly root: string;
  /** The stage's WORKDIR, as a container path. */
  workdir: string;
}

function hostPath(folder: StageFolder, containerPath: string): string {
  const absolute = posix.isAbsolute(containerPath) ? containerPath : posix.join(folder.workdir, containerPath);
  const path = join(folder.root, ...posix.normalize(absolute).split('/').filter(Boolean));
  if (path !== folder.root && !path.startsWith(folder.root + sep)) throw new Error(`${containerPath} leaves the stage's filesystem`);
  return path;
}

function replayCopy(spec: CopySpec, target: StageFolder, folders: ReadonlyMap<string, StageFolder>, ignore: readonly string[]): string[] {
  const intoFolder = spec.sources.length > 1 || spec.destination.endsWith('/');
  const destination = hostPath(target, spec.destination);
  const copied: string[] = [];
  for (const source of spec.sources) {
    let sourcePath: string;
    let filter: ((path: string) => boolean) | undefined;
    if (spec.from === undefined) {
      sourcePath = resolve(PROJECT_ROOT, source);
      const inContext = relative(PROJECT_ROOT, sourcePath).split(sep).join('/');
      if (inContext.startsWith('..') || isAbsolute(inContext)) throw new Error(`Dockerfile line ${spec.line}: ${source} is outside the build context`);
      if (isDockerIgnored(inContext, ignore)) throw new Error(`Dockerfile line ${spec.line}: ${source} is excluded by .dockerignore`);
      filter = (path) => !isDockerIgnored(relative(PROJECT_ROOT, path).split(sep).join('/'), ignore);
    } else {
      const from = folders.get(spec.from);
      if (from === undefined) throw new Error(`Dockerfile line ${spec.line}: no earlier stage named ${spec.from}`);
      sourcePath = hostPath(from, source);
    }
    if (!existsSync(sourcePath)) throw new Error(`Dockerfile line ${spec.line}: COPY source ${source} does not exist`);
    const isFolder = lstatSync(sourcePath).isDirectory();
    // Docker copies a folder's contents (not the folder) to the destination; a file into a destination ending in /.
    const to = !isFolder && intoFolder ? join(destination, source.split('/').filter(Boolean).at(-1) ?? source) : destination;
    mkdirSync(isFolder ? to : dirname(to), { recursive: true });
    cpSync(sourcePath, to, { recursive: true, verbatimSymlinks: true, ...(filter === undefined ? {} : { filter }) });
    copied.push(`${spec.from === undefined ? '' : `${spec.from}:`}${source} -> ${posix.join(target.workdir, spec.destination)}`);
  }
  return copied;
}

interface RunRule {
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

const RUN_RULES: readonly RunRule[] = [
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

export interface AssembledArtifact {
  readonly stage: Stage;
  /** The runtime stage's WORKDIR on this machine. */
  readonly appFolder: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cmd: readonly string[];
  readonly healthCheck: HealthCheck | undefined;
}

async function assemble(dockerfile: ParsedDockerfile, workRoot: string, step: StepRunner): Promise<AssembledArtifact> {
  const ignore = readDockerignore();
  const folders = new Map<string, StageFolder>();
  for (const stage of dockerfile.stages) {
    const folder: StageFolder = { stage, root: join(workRoot, `stage-${stage.name}`), workdir: '/' };
    mkdirSync(folder.root, { recursive: true });
    for (const instruction of stage.instructions) {
      const label = `[${stage.name}] ${instruction.keyword} ${instruction.args}`.replace(/\s+/g, ' ');
      switch (instruction.keyword) {
        case 'WORKDIR':
          folder.workdir = posix.resolve(folder.workdir, instruction.args.trim());
          mkdirSync(hostPath(folder, '.'), { recursive: true });
          break;
        case 'COPY':
          await step(label.length > 100 ? `${label.slice(0, 97)}...` : label, () =>
            Promise.resolve(replayCopy(parseCopy(instruction), folder, folders, ignore).join('; ')),
          );
          break;
        case 'RUN': {
          const command = instruction.args.replace(/\s+/g, ' ').trim();
          const rule = RUN_RULES.find((candidate) => candidate.pattern.test(command));
          if (rule === undefined) throw new Error(`Dockerfile line ${instruction.line}: the check does not know how to replay RUN ${command}`);
          await step(label.length > 100 ? `${label.slice(0, 97)}...` : label, () => rule.replay(folder, command));
          break;
        }
        case 'ADD':
          throw new Error(`Dockerfile line ${instruction.line}: ADD is not replayed by the check; use COPY`);
        default:
          // ENV, USER, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD, LABEL, ARG: read below or nothing to assemble
          break;
      }
    }
    folders.set(stage.name, folder);
  }
  const stage = runtimeStage(dockerfile);
  const folder = folders.get(stage.name);
  if (folder === undefined) throw new Error('the runtime stage was not assembled');
  const cmdInstruction = stage.instructions.findLast((instruction) => instruction.keyword === 'CMD');
  const cmd = cmdInstruction === undefined ? undefined : execForm(cmdInstruction.args);
  if (cmd === undefined) throw new Error('the runtime stage needs an exec-form CMD');
  const health = stage.instructions.findLast((instruction) => instruction.keyword === 'HEALTHCHECK');
  return {
    stage,
    appFolder: hostPath(folder, '.'),
    env: stageEnv(stage),
    cmd,
    healthCheck: health === undefined ? undefined : parseHealthCheck(health.args),
  };
}

// ---------------------------------------------------------------------------------------------
// Proving that no devDependency is there

interface Lockfile {
  readonly packages?: Readonly<Record<string, { readonly dev?: boolean }>>;
}

/** The devDependencies that the production tree does not need (by the lockfile's `dev` flags). */
function devOnlyPackages(packageJson: PackageJson, lockfile: Lockfile): string[] {
  return Object.keys(packageJson.devDependencies ?? {}).filter((name) => lockfile.packages?.[`node_modules/${name}`]?.dev !== false);
}

/** Which of `names` `import.meta.resolve` finds from `cwd`, in a fresh Node with no inherited settings. */
async function resolvable(names: readonly string[], cwd: string): Promise<string[]> {
  const probe = `const found = []; for (const name of ${JSON.stringify(names)}) { try { import.meta.resolve(name); found.push(name); } catch {} } console.log(JSON.stringify(found));`;
  const output = await runCommand(process.execPath, ['--input-type=module', '-e', probe], cwd, PROBE_TIMEOUT_MS, {
    PATH: dirname(process.execPath),
    HOME: cwd,
  });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '[]') as string[];
}

async function proveNoDevDependencies(artifact: AssembledArtifact): Promise<string> {
  const packageJson = JSON.parse(readFileSync(join(artifact.appFolder, 'package.json'), 'utf8')) as PackageJson;
  const lockfile = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const devOnly = devOnlyPackages(packageJson, lockfile);
  const problems: string[] = [];

  const installed = devOnly.filter((name) => existsSync(join(artifact.appFolder, 'node_modules', name)));
  if (installed.length > 0) problems.push(`devDependencies in the runtime node_modules: ${installed.join(', ')}`);

  for (let folder = dirname(artifact.appFolder); ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'node_modules'))) problems.push(`${join(folder, 'node_modules')} exists above the app folder: Node would find packages there`);
    if (dirname(folder) === folder) break;
  }

  const fromProject = await resolvable(devOnly, PROJECT_ROOT);
  const fromRuntime = await resolvable(devOnly, artifact.appFolder);
  if (fromRuntime.length > 0) problems.push(`devDependencies resolvable from the runtime folder: ${fromRuntime.join(', ')}`);
  if (fromProject.length === 0) problems.push('no devDependency resolves from the project either: the resolvability probe proves nothing');

  const scan = scanImports(artifact.appFolder, packageJson);
  problems.push(...scan.problems);
  if (scan.files === 0) problems.push('the runtime stage holds no compiled JavaScript');

  if (problems.length > 0) throw new Error(`the runtime artifact is not self-contained:\n  ${problems.join('\n  ')}`);
  return (
    `${devOnly.length} devDependency-only packages absent; ${fromProject.length} of them resolve from the project and none from the artifact ` +
    `(${fromProject.slice(0, 4).join(', ')}${fromProject.length > 4 ? ', ...' : ''}); ${scan.files} compiled files import only ` +
    `builtins and ${scan.packages.join(', ')}`
  );
}

// ---------------------------------------------------------------------------------------------
// Running it against the local stack

interface Emulator {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly region: string;
  readonly stderr: () => string;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) throw new Error(`${url} is not on loopback`);
}

async function startEmulator(): Promise<Emulator> {
  const child = spawn(process.execPath, [EMULATOR_SCRIPT], {
    cwd: PROJECT_ROOT,
    env: { ...commandEnv(), LOCAL_EMULATOR_PORT: '0', LOCAL_EMULATOR_STOP_ON_STDIN_END: '1' },
    // stdin stays open: if this process dies without cleaning up, the emulator sees its end and stops.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const stderr = tail(child.stderr);
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise<string>((resolveLine, reject) => {
    lines.once('line', resolveLine);
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the emulator exited before listening (code ${code}, signal ${signal})\n${stderr()}`)));
  });
  try {
    const line = await withTimeout(firstLine, EMULATOR_START_TIMEOUT_MS, 'emulator start');
    const { endpoint, region } = JSON.parse(line) as { endpoint?: unknown; region?: unknown };
    if (typeof endpoint !== 'string' || typeof region !== 'string') throw new Error(`the emulator printed an unexpected line: ${line}`);
    assertLoopback(endpoint);
    return { child, endpoint, region, stderr };
  } finally {
    lines.close();
    child.stdout.resume(); // keep draining, so the emulator never blocks on a full pipe
  }
}

type LogLine = Record<string, unknown>;

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly stderrText: () => string;
  readonly lines: LogLine[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
}

function startArtifact(artifact: AssembledArtifact, env: Record<string, string>): WorkerProcess {
  const [program, ...args] = artifact.cmd;
  // The image's `node` is the Node on PATH; here this script's Node (the same major) stands in for it.
  if (program !== 'node') throw new Error(`the runtime CMD starts ${program}, not node: the check cannot stand in for it`);
  const child = spawn(process.execPath, args, { cwd: artifact.appFolder, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderrText = '';
  child.stderr.on('data', (chunk: Buffer) => (stderrText += chunk.toString('utf8')));
  const stderr = tail(child.stderr);
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  createInterface({ input: child.stdout }).on('line', (text) => {
    raw.push(text);
    if (raw.length > 30) raw.shift();
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, unparsed: true };
    }
    lines.push(line);
    for (const waiter of waiters) waiter(line);
  });
  return {
    child,
    lines,
    stdout: () => raw.join('\n'),
    stderr,
    stderrText: () => stderrText,
    waitForLog(predicate, timeoutMs, what) {
      const earlier = lines.find(predicate);
      if (earlier !== undefined) return Promise.resolve(earlier);
      let waiter: ((line: LogLine) => void) | undefined;
      let onExit: (() => void) | undefined;
      const found = new Promise<LogLine>((resolveLine, reject) => {
        waiter = (line) => {
          if (predicate(line)) resolveLine(line);
        };
        waiters.add(waiter);
        onExit = () => reject(new Error(`the worker exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for ${what}\n${stderr()}`));
        if (!isRunning(child)) onExit();
        else child.once('exit', onExit);
      });
      return withTimeout(found, timeoutMs, `waiting for ${what}`).finally(() => {
        if (waiter !== undefined) waiters.delete(waiter);
        if (onExit !== undefined) child.off('exit', onExit);
      });
    },
  };
}

const INPUT_LINES = [
  '{"device_id":"sensor-alpha","temperature":21.5,"humidity":40.5,"timestamp":"2025-07-11T11:00:00Z"}',
  '{"device_id":"sensor-beta","temperature":5,"humidity":50}',
  'not json',
];
const EXPECTED_PROCESSED =
  '{"device_id":"sensor-alpha","temperature":21.5,"humidity":40.5,"timestamp":"2025-07-11T11:00:00Z","location_id":"loc-warehouse-a","temp_fahrenheit":70.7}';

function objectField(value: unknown, field: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
}

async function runAgainstLocalStack(artifact: AssembledArtifact, workRoot: string, step: StepRunner): Promise<void> {
  // The Dockerfile and ops/production-runtime.ts (what the measurements ran) must describe the same process.
  const nodeOptions = artifact.env['NODE_OPTIONS'];
  if (nodeOptions !== PRODUCTION_NODE_OPTIONS) {
    throw new Error(`the Dockerfile's NODE_OPTIONS (${nodeOptions}) is not PRODUCTION_NODE_OPTIONS (${PRODUCTION_NODE_OPTIONS})`);
  }
  if (artifact.cmd.join(' ') !== `node ${COMPILED_WORKER_ENTRY}`) {
    throw new Error(`the Dockerfile's CMD (${JSON.stringify(artifact.cmd)}) does not start ${COMPILED_WORKER_ENTRY}`);
  }
  const emulator = await step('start the emulator (ops/emulator.ts, loopback)', startEmulator);
  const clients = createAwsClients({ region: emulator.region, endpoint: emulator.endpoint });
  let worker: WorkerProcess | undefined;
  try {
    const suffix = `${Date.now().toString(36)}-${process.pid.toString(36)}`;
    const resources = await step('create buckets, queue and DLQ (ops/local-resources.ts)', () =>
      withTimeout(
        createPipelineResources(
          clients,
          { rawBucket: `artifact-raw-${suffix}`, processedBucket: `artifact-out-${suffix}`, queueName: `artifact-q-${suffix}`, dlqName: `artifact-dlq-${suffix}` },
          { maxReceiveCount: 3 },
        ),
        RESOURCES_TIMEOUT_MS,
        'creating the pipeline resources',
      ),
    );

    const home = join(workRoot, 'home');
    mkdirSync(home, { recursive: true });
    const env: Record<string, string> = {
      // What the image gives the process: its PATH (here: only this script's Node), its ENV, the task's settings.
      PATH: dirname(process.execPath),
      HOME: home,
      ...artifact.env,
      AWS_REGION: emulator.region,
      AWS_ENDPOINT_URL: emulator.endpoint,
      QUEUE_URL: resources.queueUrl,
      PROCESSED_BUCKET: resources.processedBucket,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      WAIT_TIME_SECONDS: '1',
      SHUTDOWN_GRACE_SECONDS: '5',
      LOG_LEVEL: 'info',
    };
    const running = startArtifact(artifact, env);
    worker = running;
    const started = await step(`start \`${artifact.cmd.join(' ')}\` in the artifact (NODE_ENV=${artifact.env['NODE_ENV']}, NODE_OPTIONS="${nodeOptions}")`, () =>
      running.waitForLog((line) => line['msg'] === 'worker started', WORKER_START_TIMEOUT_MS, "'worker started'"),
    );
    const httpAddress = started['httpAddress'];
    if (typeof httpAddress !== 'string') throw new Error(`'worker started' has no httpAddress: ${JSON.stringify(started)}`);
    assertLoopback(httpAddress);
    const port = new URL(httpAddress).port;

    if (artifact.healthCheck !== undefined) {
      const [program, ...args] = artifact.healthCheck.command;
      if (program !== 'node') throw new Error(`the HEALTHCHECK runs ${program}, which the slim image may not have`);
      await step('run the HEALTHCHECK command (exit 0 expected)', async () => {
        await runCommand(process.execPath, args, artifact.appFolder, HEALTHCHECK_TIMEOUT_MS, { ...env, HTTP_PORT: port });
        return `healthy on ${httpAddress}/healthz`;
      });
    }

    const key = `artifact-check/${suffix}.jsonl`;
    const processedLine = await step(`put s3://${resources.rawBucket}/${key} and wait for 'file processed'`, async () => {
      await withTimeout(
        clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: `${INPUT_LINES.join('\n')}\n` })),
        S3_CALL_TIMEOUT_MS,
        'PutObject',
      );
      const outcome = await running.waitForLog(
        (line) => line['key'] === key && typeof line['msg'] === 'string' && /^file (processed|failed|skipped)/.test(line['msg']),
        FILE_TIMEOUT_MS,
        `the worker's outcome for ${key}`,
      );
      if (outcome['msg'] !== 'file processed') throw new Error(`the worker did not process the file: ${JSON.stringify(outcome)}`);
      return outcome;
    });
    const records = processedLine['records'];
    if (objectField(records, 'processed') !== 1 || objectField(records, 'filtered') !== 1 || objectField(records, 'rejected') !== 1) {
      throw new Error(`unexpected record counts: ${JSON.stringify(records)}`);
    }

    await step('read the processed output', async () => {
      const processed = objectField(processedLine['outputs'], 'processed');
      const bucket = objectField(processed, 'bucket');
      const outputKey = objectField(processed, 'key');
      if (typeof bucket !== 'string' || typeof outputKey !== 'string') throw new Error(`'file processed' names no processed output: ${JSON.stringify(processedLine)}`);
      const { Body } = await withTimeout(clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: outputKey })), S3_CALL_TIMEOUT_MS, 'GetObject');
      const text = (await Body?.transformToString('utf8')) ?? '';
      if (text !== `${EXPECTED_PROCESSED}\n`) throw new Error(`unexpected processed output in s3://${bucket}/${outputKey}:\n${text}`);
      return `s3://${bucket}/${outputKey}: ${text.length} bytes, as expected`;
    });

    await step('SIGTERM the worker (exit 0 expected)', async () => {
      const stopped = await stopChild(running.child, WORKER_STOP_TIMEOUT_MS);
      if (stopped.killed) throw new Error(`the worker did not exit within ${WORKER_STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed`);
      if (stopped.exit?.code !== 0) throw new Error(`the worker exited with code ${stopped.exit?.code} (signal ${stopped.exit?.signal}) after SIGTERM\n${running.stderr()}`);
      if (!running.lines.some((line) => line['msg'] === 'worker stopped')) throw new Error("the worker exited without logging 'worker stopped'");
      if (running.stderrText() !== '') throw new Error(`the worker wrote to stderr:\n${running.stderrText()}`);
      const errors = running.lines.filter((line) => typeof line['level'] === 'number' && line['level'] >= 50);
      if (errors.length > 0) throw new Error(`the worker logged errors:\n${errors.map((line) => JSON.stringify(line)).join('\n')}`);
      return "exit 0, 'worker stopped', stderr empty";
    });
  } catch (error) {
    if (worker !== undefined) {
      process.stderr.write(`worker stdout (last lines):\n${worker.stdout()}\nworker stderr (last lines):\n${worker.stderr()}\n`);
    }
    process.stderr.write(`emulator stderr (last lines):\n${emulator.stderr()}\n`);
    throw error;
  } finally {
    if (worker !== undefined && isRunning(worker.child)) await stopChild(worker.child, WORKER_STOP_TIMEOUT_MS);
    destroyAwsClients(clients);
    const stopped = await stopChild(emulator.child, EMULATOR_STOP_TIMEOUT_MS);
    if (stopped.killed) process.stderr.write('note: the emulator did not stop within the bound and was killed\n');
  }
}

// ---------------------------------------------------------------------------------------------

/** Temporary folders still to remove when a signal cuts the check short. */
const foldersToRemove = new Set<string>();

type StepRunner = <T>(name: string, action: () => Promise<T>) => Promise<T>;

export interface CheckOptions {
  /** Keep the temporary folder (its path is printed). */
  readonly keep?: boolean;
  readonly log?: Log;
}

export interface CheckReport {
  readonly folder: string;
  readonly steps: readonly StepRecord[];
  readonly totalSeconds: number;
}

/** Assembles the artifact as the Dockerfile does, proves it self-contained and runs it; throws on any failure. */
export async function checkProductionArtifact(options: CheckOptions = {}): Promise<CheckReport> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = performance.now();
  const steps: StepRecord[] = [];
  const step: StepRunner = async (name, action) => {
    const stepStart = performance.now();
    log(`... ${name}`);
    const result = await action();
    const seconds = (performance.now() - stepStart) / 1000;
    steps.push({ name, seconds });
    log(`ok  ${seconds.toFixed(2).padStart(6)} s  ${typeof result === 'string' ? result : name}`);
    return result;
  };

  const dockerfile = readDockerfile();
  if (runtimeStage(dockerfile).instructions.every((instruction) => instruction.keyword !== 'COPY')) {
    throw new Error('the runtime stage copies nothing');
  }
  const workRoot = mkdtempSync(join(tmpdir(), 'iot-ingest-artifact-'));
  if (!options.keep) foldersToRemove.add(workRoot);
  log(`Dockerfile: ${dockerfile.stages.map((stage) => `${stage.name} (${stage.base})`).join(' -> ')}; replaying it in ${workRoot}`);
  try {
    const artifact = await assemble(dockerfile, workRoot, step);
    await step('prove the artifact holds no devDependency', () => proveNoDevDependencies(artifact));
    await runAgainstLocalStack(artifact, workRoot, step);
  } finally {
    killAllChildren();
    if (options.keep) log(`kept ${workRoot}`);
    else rmSync(workRoot, { recursive: true, force: true, maxRetries: 3 });
    foldersToRemove.delete(workRoot);
  }
  const totalSeconds = (performance.now() - started) / 1000;
  log(`production artifact check passed in ${totalSeconds.toFixed(1)} s`);
  return { folder: workRoot, steps, totalSeconds };
}

if (import.meta.main) {
  const keep = process.argv.slice(2).includes('--keep');
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--keep');
  if (unknown.length > 0) {
    process.stderr.write(`unknown arguments: ${unknown.join(' ')}\nusage: node ops/check-production-artifact.ts [--keep]\n`);
    process.exit(2);
  }
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the children\n`);
      killAllChildren();
      for (const folder of foldersToRemove) rmSync(folder, { recursive: true, force: true });
      process.exit(130);
    });
  }
  try {
    await checkProductionArtifact({ keep });
  } catch (error) {
    process.stderr.write(`production artifact check FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killAllChildren();
    process.exitCode = 1;
  }
}
