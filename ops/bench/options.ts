/**
 * The command line of `npm run bench`: which scenarios, at which size, and where the report goes. Pure.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const SCENARIOS = {
  1: 'compute floor',
  2: 'I/O floor',
  3: 'worker, one large file',
  4: 'naive baseline',
  5: 'many small files',
  6: 'scale-out',
  7: 'latency',
  8: 'memory growth',
  9: 'parquet writer',
  10: 'latency per request',
  11: 'many large files at once',
  12: 'npm start',
  13: 'compressed input, gzip vs zstd',
} as const;

export type ScenarioId = keyof typeof SCENARIOS;
export const SCENARIO_IDS = Object.keys(SCENARIOS).map(Number) as ScenarioId[];

/** Scenarios that measure the plain large file and compare with scenario 3's run on it. */
const PLAIN_LARGE_FILE_SCENARIOS: readonly ScenarioId[] = [1, 2, 4, 9, 12];

/** The committed record of the last standard run. */
export const DEFAULT_RESULTS_FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

export interface ResultsFile {
  readonly path: string;
  /** Given with --results; the default file is not overwritten by a run in which a scenario failed. */
  readonly requested: boolean;
}

export interface BenchOptions {
  /** Every scenario at 1/20 of its size: the CI smoke run. */
  readonly quick: boolean;
  readonly jsonFile: string | undefined;
  /** Where the report is written as Markdown: --results, else RESULTS.md after a standard run (see isStandardRun), else nowhere. */
  readonly resultsFile: ResultsFile | undefined;
  readonly only: ReadonlySet<ScenarioId>;
  /** Records in the large file of scenarios 1–4, 9 and 12 instead of the size's default (--records). */
  readonly largeFileRecords: number | undefined;
  /** Scenario 3 puts the large file gzip-compressed, so the worker gunzips it and writes gzip (--gzip). */
  readonly gzipLargeFile: boolean;
  /** Profile the workers of scenario 3 and of scenario 5's default run with --cpu-prof into this folder; their figures then carry the profiler's cost. */
  readonly cpuProfileDir: string | undefined;
}

export const USAGE =
  'usage: npm run bench -- [--quick] [--only N,N] [--records N] [--gzip] [--json FILE] [--results FILE] [--cpu-prof DIR]';

/** A bad command line; its message is printed with the usage line, exit code 2. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

function isScenarioId(value: number): value is ScenarioId {
  return (SCENARIO_IDS as number[]).includes(value);
}

export function parseScenarioList(text: string): ReadonlySet<ScenarioId> {
  const ids = new Set<ScenarioId>();
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    const id = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !isScenarioId(id)) {
      throw new BenchUsageError(`--only takes scenario numbers from 1 to ${SCENARIO_IDS.length} separated by commas, got "${text}"`);
    }
    ids.add(id);
  }
  return ids;
}

function parseRecords(text: string): number {
  const records = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(records) || records < 1) {
    throw new BenchUsageError(`--records takes the number of lines in the large file, a whole number of 1 or more, got "${text}"`);
  }
  return records;
}

/** --gzip changes scenario 3's input, so it runs only without the scenarios that compare with the plain file. */
function checkGzipScenarios(only: ReadonlySet<ScenarioId>): void {
  if (!only.has(3)) throw new BenchUsageError('--gzip changes the input of scenario 3, which --only leaves out');
  const plain = PLAIN_LARGE_FILE_SCENARIOS.filter((id) => only.has(id));
  if (plain.length > 0) {
    throw new BenchUsageError(
      `--gzip: scenarios ${PLAIN_LARGE_FILE_SCENARIOS.join(', ')} measure the plain large file and compare with scenario 3, so run --gzip with --only 3 (and any of the others), not with ${plain.join(', ')}`,
    );
  }
}

/**
 * A run whose figures stand for the project: every scenario at full size, as the defaults set them,
 * without the profiler. Only such a run replaces RESULTS.md unasked.
 */
export function isStandardRun(options: Omit<BenchOptions, 'resultsFile'>): boolean {
  return (
    !options.quick &&
    options.only.size === SCENARIO_IDS.length &&
    options.largeFileRecords === undefined &&
    !options.gzipLargeFile &&
    options.cpuProfileDir === undefined
  );
}

/** The options, or 'help' for --help. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        results: { type: 'string' },
        only: { type: 'string' },
        records: { type: 'string' },
        gzip: { type: 'boolean', default: false },
        'cpu-prof': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const only = values.only === undefined ? new Set(SCENARIO_IDS) : parseScenarioList(values.only);
  if (values.gzip) checkGzipScenarios(only);
  const options = {
    quick: values.quick,
    jsonFile: values.json,
    only,
    largeFileRecords: values.records === undefined ? undefined : parseRecords(values.records),
    gzipLargeFile: values.gzip,
    cpuProfileDir: values['cpu-prof'],
  };
  let resultsFile: ResultsFile | undefined;
  if (values.results === '') throw new BenchUsageError('--results takes the path of the Markdown file to write');
  if (values.results !== undefined) resultsFile = { path: values.results, requested: true };
  else if (isStandardRun(options)) resultsFile = { path: DEFAULT_RESULTS_FILE, requested: false };
  return { ...options, resultsFile };
}
