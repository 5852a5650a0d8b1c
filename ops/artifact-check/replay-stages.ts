/**
 * Replays the Dockerfile's stages in a temporary folder, one folder per stage: WORKDIR, COPY (from the
 * build context, honouring .dockerignore, or `--from` an earlier stage) and RUN (by run-rules.ts).
 */
import { cpSync, existsSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import {
  execForm,
  parseCopy,
  parseHealthCheck,
  PROJECT_ROOT,
  runtimeStage,
  stageEnv,
  type CopySpec,
  type HealthCheck,
  type ParsedDockerfile,
  type Stage,
} from './dockerfile.ts';
import { isDockerIgnored, readDockerignore } from './dockerignore.ts';
import { RUN_RULES } from './run-rules.ts';
import { hostPath, type StageFolder } from './stage-folder.ts';
import { stepLabel, type StepRunner } from './steps.ts';

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

export interface AssembledArtifact {
  readonly stage: Stage;
  /** The runtime stage's WORKDIR on this machine. */
  readonly appFolder: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cmd: readonly string[];
  readonly healthCheck: HealthCheck;
}

export async function assembleArtifact(dockerfile: ParsedDockerfile, workRoot: string, step: StepRunner): Promise<AssembledArtifact> {
  const ignore = readDockerignore();
  const folders = new Map<string, StageFolder>();
  for (const stage of dockerfile.stages) {
    const folder: StageFolder = { stage, root: join(workRoot, `stage-${stage.name}`), workdir: '/' };
    mkdirSync(folder.root, { recursive: true });
    for (const instruction of stage.instructions) {
      const label = stepLabel(`[${stage.name}] ${instruction.keyword} ${instruction.args}`);
      switch (instruction.keyword) {
        case 'WORKDIR':
          folder.workdir = posix.resolve(folder.workdir, instruction.args.trim());
          mkdirSync(hostPath(folder, '.'), { recursive: true });
          break;
        case 'COPY':
          await step(label, () => Promise.resolve(replayCopy(parseCopy(instruction), folder, folders, ignore).join('; ')));
          break;
        case 'RUN': {
          const command = instruction.args.replace(/\s+/g, ' ').trim();
          const rule = RUN_RULES.find((candidate) => candidate.pattern.test(command));
          if (rule === undefined) throw new Error(`Dockerfile line ${instruction.line}: the check does not know how to replay RUN ${command}`);
          await step(label, () => rule.replay(folder, command));
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
  if (health === undefined) throw new Error('the runtime stage needs a HEALTHCHECK');
  return { stage, appFolder: hostPath(folder, '.'), env: stageEnv(stage), cmd, healthCheck: parseHealthCheck(health.args) };
}
