/**
 * The ops CLI as a function of its arguments and context, returning the exit code: `ops/cli/main.ts` runs
 * it on the real process, tests run it in-process.
 */
import { Command, CommanderError } from 'commander';
import { registerBackfillCommand } from './commands/backfill.ts';
import { registerDlqCommands } from './commands/dlq.ts';
import { registerGenerateCommand } from './commands/generate.ts';
import { registerReconcileCommand } from './commands/reconcile.ts';
import { registerRedriveCommand } from './commands/redrive.ts';
import { registerSmokeCommand } from './commands/smoke.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerUploadCommand } from './commands/upload.ts';
import type { CliContext, CommandHost } from './context.ts';
import { EXIT_CODES, UsageError, type ExitCode } from './exit-codes.ts';

export const PROGRAM_NAME = 'iot-ingest-ops';

const GENERAL_HELP = `
Settings: a flag wins over its environment variable (the worker's: AWS_ENDPOINT_URL, AWS_REGION, QUEUE_URL,
DLQ_URL, PROCESSED_BUCKET, PROCESSED_PREFIX, REJECTED_BUCKET, REJECTED_PREFIX, OUTPUT_FORMAT; plus RAW_BUCKET). --local means
the npm start stack: http://127.0.0.1:4566 (or LOCAL_EMULATOR_PORT), us-east-1, buckets iot-raw and
iot-processed, queues iot-ingest and iot-ingest-dlq. Credentials come from the SDK's default chain.

Exit codes: 0 done; 1 the operation failed (what was done is reported, a rerun is safe); 2 usage or
configuration error (nothing touched); 3 partially done (interrupted by Ctrl-C: run the command again to go on).`;

function buildProgram(host: CommandHost): Command {
  const { context } = host;
  const program = new Command(PROGRAM_NAME)
    .description('operate the IoT ingestion pipeline: queue status, DLQ peek, drop and redrive, backfill, reconcile, upload, test data, smoke test')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', GENERAL_HELP);
  registerStatusCommand(program, host);
  registerDlqCommands(program, host);
  registerRedriveCommand(program, host);
  registerBackfillCommand(program, host);
  registerReconcileCommand(program, host);
  registerUploadCommand(program, host);
  registerGenerateCommand(program, host);
  registerSmokeCommand(program, host);
  return program;
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

function errorLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const name = error.name === 'Error' ? '' : `${error.name}: `;
  return `${name}${error.message}`.replace(/\s*\n\s*/g, ' ');
}

/** Runs one command line (without the node and script arguments) and returns its exit code. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.ok;
  const program = buildProgram({
    context,
    exit: (code) => {
      exitCode = code;
    },
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already printed its own one-line message (or the help).
    if (error instanceof CommanderError) return HELP_CODES.has(error.code) ? EXIT_CODES.ok : EXIT_CODES.usage;
    if (error instanceof UsageError) {
      context.stderr.write(`configuration error: ${error.message}\n`);
      return EXIT_CODES.usage;
    }
    context.stderr.write(`error: ${errorLine(error)}\n`);
    return EXIT_CODES.failed;
  }
}
