/** What a command module receives: the outside world, and where to leave its exit code. */
import type { CliContext } from './context.ts';
import type { ExitCode } from './exit-codes.ts';

export interface CommandHost {
  readonly context: CliContext;
  exit(code: ExitCode): void;
}
