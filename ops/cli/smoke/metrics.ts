/**
 * Reads a worker's /metrics for the smoke test: one counter summed over the series whose labels match.
 * The parser is pure; the fetch is bounded and follows the command's abort signal.
 */

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(value: string): string {
  return value.replace(/\\(["\\n])/g, (_match, character: string) => (character === 'n' ? '\n' : character));
}

function labelsOf(text: string | undefined): Map<string, string> {
  const labels = new Map<string, string>();
  for (const [, name, value] of (text ?? '').matchAll(LABEL)) if (name !== undefined && value !== undefined) labels.set(name, unescapeLabel(value));
  return labels;
}

/**
 * The sum of `name`'s samples whose labels include `wanted`, from Prometheus text exposition;
 * undefined when no sample matches (a worker that has not exposed the series yet).
 */
export function sumSamples(exposition: string, name: string, wanted: Readonly<Record<string, string>>): number | undefined {
  let sum: number | undefined;
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line.trim());
    if (match === null || match[1] !== name) continue;
    const labels = labelsOf(match[2]);
    if (!Object.entries(wanted).every(([label, value]) => labels.get(label) === value)) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

export const SUCCEEDED_FILES = { name: 'iot_ingest_files_total', labels: { outcome: 'succeeded' } } as const;

const FETCH_TIMEOUT_MS = 5_000;

/** iot_ingest_files_total{outcome="succeeded"} at `url` (0 when not exposed yet); throws when unreachable or not 2xx. */
export async function readSucceededFiles(url: string, signal: AbortSignal): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`);
  return sumSamples(await response.text(), SUCCEEDED_FILES.name, SUCCEEDED_FILES.labels) ?? 0;
}

/** Why a fetch failed, in a few words: "ECONNREFUSED", "the request timed out", the status line. */
export function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'the request timed out or was aborted';
  return error instanceof Error ? error.message : String(error);
}
