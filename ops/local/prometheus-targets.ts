/**
 * The Prometheus file_sd target file that ops/observability/prometheus.yml reads: npm start writes its
 * worker's real address there, so that a moved HTTP_PORT (or a free port) is scraped too. Prometheus
 * watches the file and picks up a new address within seconds, without a restart.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Next to prometheus.yml, which names it relative to itself; gitignored. */
export const DEFAULT_PROMETHEUS_TARGETS_FILE = fileURLToPath(new URL('../observability/local-worker-targets.json', import.meta.url));

/** Wildcard listen addresses, and where on this machine they are reached. */
const REACHED_AT: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '[::]': '[::1]' };

/** `host:port` to scrape for a worker listening on `httpAddress` (e.g. http://127.0.0.1:8080). */
export function scrapeTarget(httpAddress: string): string {
  const { hostname, port } = new URL(httpAddress);
  if (port === '') throw new RangeError(`the worker's address has no port: ${httpAddress}`);
  return `${REACHED_AT[hostname] ?? hostname}:${port}`;
}

/** The file_sd document for one target: a JSON list of target groups. */
export function targetsDocument(target: string): string {
  return `${JSON.stringify([{ targets: [target], labels: {} }], null, 2)}\n`;
}

/**
 * Writes `text` to `path` through a temporary file in the same folder and a rename, so that a reader
 * (Prometheus, watching the folder) sees the old content or the new, never half of it.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  // A leading dot and another extension keep the temporary file out of any file_sd pattern.
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
