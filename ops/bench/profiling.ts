/**
 * --cpu-prof DIR: the worker of a scenario run under `node --cpu-prof`, its profile written into a
 * folder of its own when it exits, and summarised. The profiler costs CPU, so a profiled run's
 * figures are not comparable with an unprofiled one's.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestCpuProfile, readCpuProfile, summariseCpuProfile, type CpuProfileSummary } from './cpu-profile.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type ProfileSummary = CpuProfileSummary & { readonly what: string; readonly file: string };

export interface Profiling {
  readonly nodeFlags: string[];
  /** After the worker exited: its profile's summary. */
  collect(): ProfileSummary | undefined;
}

/** Flags for a profiled worker, or none when the bench runs without --cpu-prof. */
export function profiling(cpuProfileDir: string | undefined, name: string, what: string): Profiling {
  if (cpuProfileDir === undefined) return { nodeFlags: [], collect: () => undefined };
  const dir = join(resolve(cpuProfileDir), name);
  mkdirSync(dir, { recursive: true });
  return {
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    collect() {
      const file = newestCpuProfile(dir);
      return file === undefined ? undefined : { what, file, ...summariseCpuProfile(readCpuProfile(file), PROJECT_ROOT) };
    },
  };
}
