/**
 * The whole check, step by step: compare the Dockerfile with worker/production-runtime.ts, replay it,
 * prove no devDependency, run against the local stack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTrackedChildren } from '../local/child-processes.ts';
import { proveNoDevDependencies } from './dev-dependencies.ts';
import { readDockerfile, runtimeStage } from './dockerfile.ts';
import { runAgainstLocalStack } from './local-stack-run.ts';
import { productionRuntimeDrift } from './production-runtime-drift.ts';
import { assembleArtifact } from './replay-stages.ts';
import { createStepRunner, logToStdout, type Log, type StepRecord } from './steps.ts';

/** Temporary folders still to remove when a signal cuts the check short. */
const foldersToRemove = new Set<string>();

export function removeUnfinishedWorkFolders(): void {
  for (const folder of foldersToRemove) rmSync(folder, { recursive: true, force: true });
}

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
  const log = options.log ?? logToStdout;
  const started = performance.now();
  const steps: StepRecord[] = [];
  const step = createStepRunner(log, steps);

  const dockerfile = readDockerfile();
  const runtime = runtimeStage(dockerfile);
  if (runtime.instructions.every((instruction) => instruction.keyword !== 'COPY')) throw new Error('the runtime stage copies nothing');
  const drift = productionRuntimeDrift(runtime);
  if (drift.length > 0) throw new Error(`the Dockerfile does not run what worker/production-runtime.ts declares:\n  ${drift.join('\n  ')}`);
  const workRoot = mkdtempSync(join(tmpdir(), 'iot-ingest-artifact-'));
  if (!options.keep) foldersToRemove.add(workRoot);
  log(`Dockerfile: ${dockerfile.stages.map((stage) => `${stage.name} (${stage.base})`).join(' -> ')}; replaying it in ${workRoot}`);
  try {
    const artifact = await assembleArtifact(dockerfile, workRoot, step);
    await step('prove the artifact holds no devDependency', () => proveNoDevDependencies(artifact));
    await runAgainstLocalStack(artifact, workRoot, step);
  } finally {
    killTrackedChildren();
    if (options.keep) log(`kept ${workRoot}`);
    else rmSync(workRoot, { recursive: true, force: true, maxRetries: 3 });
    foldersToRemove.delete(workRoot);
  }
  const totalSeconds = (performance.now() - started) / 1000;
  log(`production artifact check passed in ${totalSeconds.toFixed(1)} s`);
  return { folder: workRoot, steps, totalSeconds };
}
