/** The command line of `node ops/load/main.ts`. Pure. */
import { parseArgs } from 'node:util';

export interface LoadOptions {
  readonly files: number;
  /** Mean records per file; each file has 1 to 3 × this many. */
  readonly recordsPerFile: number;
  readonly workers: number;
  readonly seed: number;
  readonly jsonFile: string | undefined;
}

export const USAGE = 'usage: node ops/load/main.ts [--files 10000] [--records-per-file 100] [--workers 2] [--seed 7] [--json FILE]';

export const DEFAULT_LOAD_OPTIONS = { files: 10_000, recordsPerFile: 100, workers: 2, seed: 7 } as const;

/** A bad command line; printed with the usage line, exit code 2. */
export class LoadUsageError extends Error {
  override readonly name = 'LoadUsageError';
}

function wholeNumber(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new LoadUsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

/** The options, or 'help' for --help. */
export function parseLoadOptions(argv: readonly string[]): LoadOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        files: { type: 'string' },
        'records-per-file': { type: 'string' },
        workers: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new LoadUsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  return {
    files: wholeNumber('files', values.files, DEFAULT_LOAD_OPTIONS.files, 1, 1_000_000),
    recordsPerFile: wholeNumber('records-per-file', values['records-per-file'], DEFAULT_LOAD_OPTIONS.recordsPerFile, 1, 100_000),
    workers: wholeNumber('workers', values.workers, DEFAULT_LOAD_OPTIONS.workers, 1, 16),
    seed: wholeNumber('seed', values.seed, DEFAULT_LOAD_OPTIONS.seed, 0, 2 ** 31 - 1),
    jsonFile: values.json,
  };
}
