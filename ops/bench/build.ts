/**
 * Compiles the worker and the bench's child scripts into dist/, as the container build does
 * (tsconfig.build.json's options), so that the bench measures the production artifact.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMPILED_WORKER_ENTRY } from '../../worker/production-runtime.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const PROJECT = fileURLToPath(new URL('./tsconfig.build-bench.json', import.meta.url));
const BUILD_TIMEOUT_MS = 120_000;

export const COMPILED = {
  worker: fileURLToPath(new URL(`../../${COMPILED_WORKER_ENTRY}`, import.meta.url)),
  recordPipeline: fileURLToPath(new URL('../../dist/ops/bench/children/record-pipeline.js', import.meta.url)),
  naiveBaseline: fileURLToPath(new URL('../../dist/ops/bench/children/naive-baseline.js', import.meta.url)),
} as const;

export function compileForBench(): void {
  execFileSync(process.execPath, [TSC, '-p', PROJECT], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
}
