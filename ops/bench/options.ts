/**
 * The command line of `npm run bench`: which scenarios, at which size, and where the JSON goes. Pure.
 */
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
} as const;

export type ScenarioId = keyof typeof SCENARIOS;
export const SCENARIO_IDS = Object.keys(SCENARIOS).map(Number) as ScenarioId[];

export interface BenchOptions {
  /** Every scenario at 1/20 of its size: the CI smoke run. */
  readonly quick: boolean;
  readonly jsonFile: string | undefined;
  readonly only: ReadonlySet<ScenarioId>;
  /** Profile the workers of scenario 3 and of scenario 5's default run with --cpu-prof into this folder; their figures then carry the profiler's cost. */
  readonly cpuProfileDir: string | undefined;
}

export const USAGE = 'usage: npm run bench -- [--quick] [--json FILE] [--only N,N] [--cpu-prof DIR]';

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

/** The options, or 'help' for --help. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        only: { type: 'string' },
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
  return {
    quick: values.quick,
    jsonFile: values.json,
    only: values.only === undefined ? new Set(SCENARIO_IDS) : parseScenarioList(values.only),
    cpuProfileDir: values['cpu-prof'],
  };
}
