/**
 * What the CLI's exit code tells a script, and the errors that choose one. Any other error is an
 * operation that failed (1).
 */
export const EXIT_CODES = {
  ok: 0,
  /** The operation failed; what was done before the failure is reported, and a rerun is safe. */
  failed: 1,
  /** Bad flags or a missing setting: nothing was touched. */
  usage: 2,
  /** Stopped early (Ctrl-C): what was done is reported; run the same command again to go on. */
  partial: 3,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** A missing or malformed setting or argument; its message is the one line printed before exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
