/** .dockerignore, with its documented syntax: `*`, `?`, `**`, `!` exceptions, last match wins. */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { PROJECT_ROOT } from './dockerfile.ts';

export const DOCKERIGNORE_PATH = join(PROJECT_ROOT, '.dockerignore');

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
