import { fileURLToPath } from 'node:url';

/** An absolute path inside this repository, whatever the working directory of `cdk` is. */
export function projectPath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
