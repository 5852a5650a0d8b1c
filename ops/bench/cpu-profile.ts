/**
 * Where a process's CPU went, from the .cpuprofile that `node --cpu-prof` writes at exit: self time
 * per function and per source (npm package, Node internals, project file). Pure except for reading
 * the file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: CallFrame }>;
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  readonly timeDeltas?: readonly number[];
}

export interface CpuProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  /** Of the busy (non-idle) time. */
  readonly share: number;
}

export interface CpuProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  /** "name (source:line)", heaviest first. */
  readonly functions: readonly CpuProfileEntry[];
  readonly sources: readonly CpuProfileEntry[];
}

const IDLE = '(idle)';

/** An npm package name, a Node module (node:internal/...), a path relative to the project, or the V8 pseudo-frame's name. */
export function sourceOf(frame: CallFrame, projectRoot: string): string {
  const { url } = frame;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (inModules) return inModules[1] as string;
  const root = projectRoot.endsWith('/') ? projectRoot : `${projectRoot}/`;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

function top(selfMicros: Map<string, number>, busyMicros: number, count: number): CpuProfileEntry[] {
  return [...selfMicros.entries()]
    .filter(([name]) => name !== IDLE)
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => ({ name, selfMs: micros / 1000, share: busyMicros > 0 ? micros / busyMicros : 0 }));
}

export function summariseCpuProfile(profile: CpuProfile, projectRoot: string, count = 15): CpuProfileSummary {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  let idleMicros = 0;
  let totalMicros = 0;
  let timestamp = profile.startTime;
  samples.forEach((nodeId, index) => {
    timestamp += deltas[index] ?? 0;
    // A sample lasts until the next one is taken; the last one until the profile ends.
    const next = deltas[index + 1];
    const micros = Math.max(0, next ?? profile.endTime - timestamp);
    const frame = frames.get(nodeId);
    if (frame === undefined) return;
    totalMicros += micros;
    if (frame.functionName === IDLE) {
      idleMicros += micros;
      return;
    }
    const source = sourceOf(frame, projectRoot);
    const name = frame.url === '' ? source : `${frame.functionName || '(anonymous)'} (${source}:${frame.lineNumber + 1})`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    bySource.set(source, (bySource.get(source) ?? 0) + micros);
  });
  const busyMicros = totalMicros - idleMicros;
  return {
    busyMs: busyMicros / 1000,
    idleMs: idleMicros / 1000,
    functions: top(byFunction, busyMicros, count),
    sources: top(bySource, busyMicros, count),
  };
}

/** The newest .cpuprofile in `dir`. */
export function newestCpuProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

export function readCpuProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}
