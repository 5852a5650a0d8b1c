#!/usr/bin/env node
/**
 * The operator CLI: `npm run ops -- <command>` or `iot-ingest-ops <command>`; `--help` on every
 * command. The commands live in ops/cli/; this file only binds them to the real process.
 */
import { SYSTEM_CLOCK } from './context.ts';
import { runCli } from './program.ts';

// `npm run ops` starts this in the project's folder; a relative path the user names (generate -o, upload,
// the dlq drop journal) means the folder they typed the command in, which npm passes as INIT_CWD.
if (process.env['npm_lifecycle_event'] === 'ops' && process.env['INIT_CWD']) process.chdir(process.env['INIT_CWD']);

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  process.stderr.write('\nstopping once the work in hand is safely done (Ctrl-C again to quit at once)\n');
  interrupt.abort();
});
// `ops generate | head` closes stdout early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupt.signal,
  clock: SYSTEM_CLOCK,
});
