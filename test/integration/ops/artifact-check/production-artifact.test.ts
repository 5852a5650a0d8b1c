/**
 * The container image: what the Dockerfile and .dockerignore promise (fast, read from the files), and
 * the production artifact assembled from the Dockerfile and run without devDependencies
 * (ops/artifact-check/main.ts, as `npm run check:artifact` runs it: a process of its own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  DOCKERFILE_PATH,
  execForm,
  parseCopy,
  parseDockerfile,
  parseHealthCheck,
  readDockerfile,
  runtimeStage,
  stageEnv,
  type Stage,
} from '../../../../ops/artifact-check/dockerfile.ts';
import { isDockerIgnored, readDockerignore } from '../../../../ops/artifact-check/dockerignore.ts';
import { scanImports } from '../../../../ops/artifact-check/import-scan.ts';
import { productionRuntimeDrift } from '../../../../ops/artifact-check/production-runtime-drift.ts';
import { COMPILED_WORKER_ENTRY, HEALTH_CHECK, PRODUCTION_HTTP_PORT, PRODUCTION_NODE_OPTIONS } from '../../../../worker/production-runtime.ts';

const CHECK_SCRIPT = fileURLToPath(new URL('../../../../ops/artifact-check/main.ts', import.meta.url));
const CHECK_TIMEOUT_MS = 240_000;
const children: ChildProcess[] = [];

afterAll(() => {
  // SIGTERM: the check kills its own children (emulator, worker, npm) before it exits.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});

/** The ops CLI's modules outside ops/cli/ and worker/: what the Dockerfile and .dockerignore must let in besides ops/cli. */
const CLI_PROJECT_IMPORTS_OUTSIDE_CLI = ['ops/local/resources.ts', 'ops/local/synthetic-data.ts'] as const;

/** Every project file `entry` imports, directly or not, outside ops/cli/ (relative imports followed from the sources). */
function cliImportsOutside(entry: string): string[] {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) visit(posix.normalize(posix.join(posix.dirname(file), match[1] ?? '')));
  };
  visit(entry);
  return [...seen].filter((file) => !file.startsWith('ops/cli/') && !file.startsWith('worker/'));
}

function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

describe('Dockerfile', () => {
  const dockerfile = readDockerfile();
  const runtime = runtimeStage(dockerfile);

  it('has at least three stages, all on the same Node 24 slim image', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    for (const stage of dockerfile.stages) {
      expect(stage.base).toMatch(/^public\.ecr\.aws\/docker\/library\/node:24(\.\d+)*-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/);
    }
    expect(new Set(dockerfile.stages.map((stage) => stage.name)).size).toBe(dockerfile.stages.length);
  });

  it('pulls nothing from Docker Hub by default: the base image from ECR Public, no syntax directive, a build arg to override', () => {
    // ECR Public's mirror of Docker's official images; Docker Hub limits anonymous pulls per address (CodeBuild's are shared).
    expect(dockerfile.globalArgs['NODE_IMAGE']).toMatch(/^public\.ecr\.aws\/docker\/library\/node:/);
    for (const stage of dockerfile.stages) expect(stage.from.args.split(/\s+/)[0]).toBe('${NODE_IMAGE}');
    // `# syntax=` makes BuildKit pull its Dockerfile frontend (docker/dockerfile) from Docker Hub before anything else.
    expect(readFileSync(DOCKERFILE_PATH, 'utf8')).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('builds with npm ci and npm run build, and installs production dependencies with --omit=dev', () => {
    const runs = dockerfile.stages.flatMap((stage) => instructions(stage, 'RUN').map((run) => ({ stage: stage.name, run })));
    expect(runs.some(({ run }) => /^npm ci\b(?!.*--omit)/.test(run))).toBe(true);
    expect(runs.some(({ run }) => run === 'npm run build')).toBe(true);
    const productionInstall = runs.find(({ run }) => /^npm ci\b.*--omit=dev/.test(run) && run.includes('--ignore-scripts'));
    expect(productionInstall).toBeDefined();
    // The runtime's node_modules come from that stage, and nothing else in the runtime comes from an install with devDependencies.
    const copies = instructions(runtime, 'COPY').map((args, index) => parseCopy({ keyword: 'COPY', args, line: index }));
    expect(copies.find((copy) => copy.destination.replace(/\/$/, '').endsWith('node_modules'))?.from).toBe(productionInstall?.stage);
  });

  it('copies only package.json, the production node_modules, dist/worker and dist/ops (the ops CLI) into the runtime stage', () => {
    const copies = instructions(runtime, 'COPY').map((args, index) => parseCopy({ keyword: 'COPY', args, line: index }));
    const copied = copies.flatMap((copy) => copy.sources.map((source) => `${copy.from ?? 'context'}:${source}`));
    expect(copied.sort()).toEqual(['build:/app/dist/ops', 'build:/app/dist/worker', 'context:package.json', 'prod-deps:/app/node_modules'].sort());
  });

  it('builds the ops CLI with every project module it imports, and nothing else of ops/', () => {
    const build = dockerfile.stages.find((stage) => stage.name === 'build');
    const copies = instructions(build ?? runtime, 'COPY').map((args, index) => parseCopy({ keyword: 'COPY', args, line: index }));
    const fromOps = copies.flatMap((copy) => copy.sources).filter((source) => source.startsWith('ops/'));
    expect(fromOps.sort()).toEqual([...CLI_PROJECT_IMPORTS_OUTSIDE_CLI, 'ops/cli'].sort());
    expect(cliImportsOutside('ops/cli/main.ts').filter((file) => file.startsWith('ops/')).sort()).toEqual([...CLI_PROJECT_IMPORTS_OUTSIDE_CLI].sort());
  });

  it('runs the compiled worker as the non-root node user, under tini, with NODE_ENV and the production NODE_OPTIONS', () => {
    expect(instructions(runtime, 'USER').at(-1)).toBe('node');
    expect(instructions(runtime, 'RUN').some((run) => /apt-get install .*\btini\b/.test(run))).toBe(true);
    const entrypoint = instructions(runtime, 'ENTRYPOINT').at(-1);
    expect(entrypoint && execForm(entrypoint)).toEqual(['/usr/bin/tini', '--']);
    const cmd = instructions(runtime, 'CMD').at(-1);
    expect(cmd && execForm(cmd)).toEqual(['node', COMPILED_WORKER_ENTRY]);
    const env = stageEnv(runtime);
    expect(env['NODE_ENV']).toBe('production');
    expect(env['NODE_OPTIONS']).toBe(PRODUCTION_NODE_OPTIONS);
    expect(instructions(runtime, 'EXPOSE')).toEqual([String(PRODUCTION_HTTP_PORT)]);
  });

  it('checks /healthz on HTTP_PORT with Node itself (slim images have no curl), with the command and timing of HEALTH_CHECK', () => {
    const healthcheck = instructions(runtime, 'HEALTHCHECK').at(-1);
    const { command, options } = parseHealthCheck(healthcheck ?? '');
    expect(command).toEqual(HEALTH_CHECK.command);
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toMatch(/'http:\/\/127\.0\.0\.1:'\+\(process\.env\.HTTP_PORT\|\|8080\)\+'\/healthz'/);
    expect(options).toEqual({ interval: '30s', timeout: '5s', 'start-period': '30s', retries: '3' });
    expect(productionRuntimeDrift(runtime)).toEqual([]);
  });
});

describe('the drift check between the Dockerfile and worker/production-runtime.ts', () => {
  const text = readFileSync(DOCKERFILE_PATH, 'utf8');
  const driftOf = (edited: string) => {
    expect(edited).not.toBe(text); // the edit below must have matched
    return productionRuntimeDrift(runtimeStage(parseDockerfile(edited)));
  };

  it.each([
    ['a changed HEALTHCHECK start period', (dockerfile: string) => dockerfile.replace('--start-period=30s', '--start-period=20s'), /^HEALTHCHECK differs in its timing; expected HEALTHCHECK --interval=30s .*--start-period=30s/],
    ['a changed HEALTHCHECK retry count', (dockerfile: string) => dockerfile.replace('--retries=3', '--retries=5'), /^HEALTHCHECK differs in its timing/],
    ['an extra HEALTHCHECK option', (dockerfile: string) => dockerfile.replace('--retries=3', '--retries=3 --start-interval=5s'), /^HEALTHCHECK differs in its timing/],
    ['a HEALTHCHECK on a fixed port', (dockerfile: string) => dockerfile.replace('(process.env.HTTP_PORT||8080)', '8080'), /^HEALTHCHECK differs in its command; expected HEALTHCHECK .*process\.env\.HTTP_PORT/],
    ['a missing HEALTHCHECK', (dockerfile: string) => dockerfile.replace(/^HEALTHCHECK .*\\\n.*\n/m, ''), /^HEALTHCHECK is missing/],
    ['a changed ENV NODE_OPTIONS', (dockerfile: string) => dockerfile.replace('--max-old-space-size=1536', '--max-old-space-size=1024'), /^ENV NODE_OPTIONS is "--max-semi-space-size=4 --max-old-space-size=1024"/],
    ['a changed CMD', (dockerfile: string) => dockerfile.replace('dist/worker/main.js', 'dist/worker/index.js'), /^CMD is \["node", "dist\/worker\/index\.js"\]/],
    ['a changed EXPOSE', (dockerfile: string) => dockerfile.replace('EXPOSE 8080', 'EXPOSE 3000'), /^EXPOSE is 3000; expected EXPOSE 8080$/],
  ])('reports %s', (_what, edit, expected) => {
    const drift = driftOf(edit(text));
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatch(expected);
  });
});

describe('.dockerignore', () => {
  const patterns = readDockerignore();

  it.each([
    'node_modules',
    'node_modules/fauxqs/package.json',
    'dist',
    'dist/worker/main.js',
    'cdk.out',
    'infra/cdk.out',
    '.git',
    'coverage',
    'test',
    'npm-debug.log',
    // What the image does not run: each would change the image asset's hash and roll the service on an unrelated commit.
    'infra/worker-service.ts',
    'ops/local/main.ts',
    'ops/local/emulator.ts',
    'ops/artifact-check/main.ts',
    'ops/bench/main.ts',
    'trigger/handler.ts',
    'data',
    'README.md',
    'cdk.json',
    '.github/workflows/ci.yml',
    'eslint.config.js',
    'jest.config.js',
    'a-file-a-later-commit-adds.ts',
    'worker/node_modules/pino/package.json',
    'worker/config.test.ts',
  ])(
    'keeps %s out of the build context',
    (path) => {
      expect(isDockerIgnored(path, patterns)).toBe(true);
    },
  );

  it.each([
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'worker/main.ts',
    'worker/output/parquet/schema.ts',
    'ops/cli/main.ts',
    'ops/cli/commands/reconcile.ts',
    ...CLI_PROJECT_IMPORTS_OUTSIDE_CLI,
  ])('keeps %s in it', (path) => {
    expect(isDockerIgnored(path, patterns)).toBe(false);
  });
});

describe('the import scan of ops/artifact-check/import-scan.ts', () => {
  it('reports an import of a devDependency, an undeclared package and a missing file; accepts builtins and dependencies', () => {
    const folder = mkdtempSync(join(tmpdir(), 'iot-ingest-scan-'));
    try {
      mkdirSync(join(folder, 'dist'));
      writeFileSync(
        join(folder, 'dist', 'main.js'),
        [
          "import { pino } from 'pino';",
          "import { readFile } from 'node:fs/promises';",
          "import os from 'os';",
          "import { x } from './here.js';",
          "import { y } from './gone.js';",
          "export { z } from '@aws-sdk/client-s3/dist-es/index.js';",
          "const lazy = () => import('fauxqs');",
          "import 'left-pad';",
        ].join('\n'),
      );
      writeFileSync(join(folder, 'dist', 'here.js'), 'export const x = 1;\n');
      const scan = scanImports(folder, { dependencies: { pino: '1', '@aws-sdk/client-s3': '3' }, devDependencies: { fauxqs: '2' } });
      expect(scan.packages).toEqual(['@aws-sdk/client-s3', 'fauxqs', 'left-pad', 'pino']);
      expect(scan.problems).toHaveLength(3);
      expect(scan.problems.join('\n')).toMatch(/fauxqs is only a devDependency/);
      expect(scan.problems.join('\n')).toMatch(/left-pad is not in package.json dependencies/);
      expect(scan.problems.join('\n')).toMatch(/\.\/gone\.js, which the image does not contain/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('the production artifact', () => {
  it(
    'assembled as the Dockerfile does, runs without devDependencies: processes a file and exits 0 on SIGTERM',
    async () => {
      const env = { ...process.env };
      delete env['NODE_OPTIONS']; // jest's --experimental-vm-modules is not the check's business
      const child = spawn(process.execPath, [CHECK_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGTERM');
          reject(new Error(`the check did not finish within ${CHECK_TIMEOUT_MS - 10_000} ms:\n${output}`));
        }, CHECK_TIMEOUT_MS - 10_000);
        child.once('error', reject);
        child.once('close', (exitCode) => {
          clearTimeout(timer);
          resolve(exitCode);
        });
      });

      if (code !== 0) throw new Error(`the check exited with code ${code}:\n${output}`);
      expect(output).toContain('production artifact check passed');
      expect(output).toMatch(/devDependency-only packages absent/);
      expect(output).toContain("exit 0, 'worker stopped', stderr empty");
    },
    CHECK_TIMEOUT_MS,
  );
});
