/** Which listed objects a sweep considers: a wanted suffix, not a folder marker, the latest version, modified after --since. Pure. */
import type { SweepObject } from './sweep-object.ts';

export const DEFAULT_SUFFIXES = ['.jsonl', '.jsonl.gz', '.jsonl.zst'] as const;

/** A key the worker would process: ends in a wanted suffix, and is not a folder marker. */
export function wantedKey(key: string, suffixes: readonly string[]): boolean {
  return !key.endsWith('/') && suffixes.some((suffix) => key.endsWith(suffix));
}

export interface Scope {
  readonly prefix: string;
  readonly suffixes: readonly string[];
  /** Only objects last modified after this instant. */
  readonly modifiedAfter?: Date | undefined;
}

export function inScope(object: SweepObject, scope: Scope): boolean {
  if (object.latest === false || !object.key.startsWith(scope.prefix) || !wantedKey(object.key, scope.suffixes)) return false;
  if (scope.modifiedAfter === undefined) return true;
  return object.lastModified !== undefined && object.lastModified.getTime() > scope.modifiedAfter.getTime();
}

/** Whether the key is under one of the prefixes (--exclude-prefix). */
export function underAnyPrefix(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => key.startsWith(prefix));
}
