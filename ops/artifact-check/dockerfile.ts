/** The Dockerfile, parsed: the subset of its syntax this project uses, and the runtime stage's settings. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The build context: the folder the Dockerfile's COPY sources are relative to. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const DOCKERFILE_PATH = join(PROJECT_ROOT, 'Dockerfile');

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
