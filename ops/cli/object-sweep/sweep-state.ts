/**
 * `--state FILE`: where a sweep got to, so that a rerun goes on after the last key handled. Written
 * (atomically: a temporary file renamed over it) after every batch sent and every page; removed when
 * the sweep finishes, so the same command then starts afresh. The file names what was swept: a state
 * for another prefix, window or inventory is refused rather than silently skipping keys.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError } from '../exit-codes.ts';
import type { SweepPosition } from './sweep.ts';

export const STATE_VERSION = 1;

export interface SweepState {
  readonly version: typeof STATE_VERSION;
  /** What is swept, e.g. `list s3://raw/in/` or `inventory s3://inv/…/manifest.json` (with its prefix). */
  readonly sweep: string;
  /** The --since instant the sweep started with (kept on resume, so a relative window does not move). */
  readonly modifiedAfter?: string;
  /** With several listings (SOURCES), the index of the one `after` is in: those before it are done. */
  readonly source?: number;
  readonly after: SweepPosition;
}

function isPosition(value: unknown): value is SweepPosition {
  if (typeof value !== 'object' || value === null) return false;
  const { key, file } = value as Record<string, unknown>;
  return typeof key === 'string' && (file === undefined || (typeof file === 'number' && Number.isSafeInteger(file) && file >= 0));
}

/** The state in `path`, or undefined when there is none; a malformed one is a usage error. */
export function readSweepState(path: string): SweepState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--state ${path} is not JSON; remove it to start afresh`);
  }
  const state = parsed as Partial<SweepState> | null;
  if (
    state?.version !== STATE_VERSION ||
    typeof state.sweep !== 'string' ||
    !isPosition(state.after) ||
    (state.modifiedAfter !== undefined && typeof state.modifiedAfter !== 'string') ||
    (state.source !== undefined && !(Number.isSafeInteger(state.source) && state.source >= 0))
  ) {
    throw new UsageError(`--state ${path} is not a reconcile state file; remove it to start afresh`);
  }
  return state as SweepState;
}

export function writeSweepState(path: string, state: SweepState): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state)}\n`);
  renameSync(temporary, path);
}

export function removeSweepState(path: string): void {
  rmSync(path, { force: true });
}
