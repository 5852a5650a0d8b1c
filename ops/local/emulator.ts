// The local stack in a process of its own: `node ops/local/emulator.ts`. It prints one JSON line,
// {"endpoint":"http://127.0.0.1:PORT","region":"us-east-1"}, on stdout once it listens, and
// stops on SIGTERM or SIGINT (exit 0). Tests and benchmarks run it as a child process so that
// the worker's CPU and memory are measured without the emulator's.
//
// LOCAL_EMULATOR_PORT            port, default 4566; 0 picks a free one
// LOCAL_EMULATOR_REGION          region, default us-east-1
// LOCAL_EMULATOR_STOP_ON_STDIN_END=1  also stop when stdin closes, so that a parent that dies
//                                     without cleaning up (a crashed test run) takes it along
import { startLocalStack } from './local-stack.ts';

const STOP_TIMEOUT_MS = 10_000;

function portFromEnv(): number {
  const raw = process.env['LOCAL_EMULATOR_PORT'] ?? '4566';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) {
    process.stderr.write(`LOCAL_EMULATOR_PORT must be a port number from 0 to 65535, got "${raw}"\n`);
    process.exit(2);
  }
  return port;
}

const stack = await startLocalStack({
  port: portFromEnv(),
  region: process.env['LOCAL_EMULATOR_REGION'] || 'us-east-1',
}).catch((error: unknown) => {
  process.stderr.write(`local stack failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
process.stdout.write(`${JSON.stringify({ endpoint: stack.endpoint, region: stack.region })}\n`);

let stopping = false;
function stopAndExit(reason: string): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    process.stderr.write(`local stack did not stop within ${STOP_TIMEOUT_MS} ms after ${reason}\n`);
    process.exit(1);
  }, STOP_TIMEOUT_MS).unref();
  stack.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`local stack failed to stop: ${String(error)}\n`);
      process.exit(1);
    },
  );
}

process.once('SIGTERM', () => stopAndExit('SIGTERM'));
process.once('SIGINT', () => stopAndExit('SIGINT'));
if (process.env['LOCAL_EMULATOR_STOP_ON_STDIN_END'] === '1') {
  process.stdin.once('end', () => stopAndExit('stdin end')).resume();
}
