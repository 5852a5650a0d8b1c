/**
 * The version of the worker that is running: the `version` of the package.json it was built from.
 * Read from the file, not imported: the image holds /app/package.json next to /app/dist/worker, and a
 * JSON import would resolve to dist/package.json, which the build does not produce. Found by walking up
 * from this module, so it works from source (worker/common) and compiled (dist/worker/common) alike.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package whose version this is; another package.json on the way up (a dependency's, say) is passed over. */
export const PACKAGE_NAME = 'iot-ingest';

function readPackage(path: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}

/** The version in the nearest package.json named PACKAGE_NAME at or above `folder`; throws when there is none. */
export function packageVersionAbove(folder: string): string {
  for (let current = folder; ; current = dirname(current)) {
    const found = readPackage(join(current, 'package.json'));
    if (found?.name === PACKAGE_NAME && typeof found.version === 'string' && found.version !== '') return found.version;
    if (dirname(current) === current) throw new Error(`no package.json named ${PACKAGE_NAME} with a version at or above ${folder}`);
  }
}

let cached: string | undefined;

/** Read once, on first use. */
export function workerVersion(): string {
  cached ??= packageVersionAbove(dirname(fileURLToPath(import.meta.url)));
  return cached;
}
