// The local stack in a process of its own: `node ops/local/emulator.ts`. It prints one JSON line,
// {"endpoint":"http://127.0.0.1:PORT","region":"us-east-1"}, on stdout once it listens, and
// stops on SIGTERM or SIGINT (exit 0). Tests and benchmarks run it as a child process so that
// the worker's CPU and memory are measured without the emulator's.
//
// LOCAL_EMULATOR_PORT            port, default 4566; 0 picks a free one
// LOCAL_EMULATOR_REGION          region, default us-east-1
// LOCAL_EMULATOR_STOP_ON_STDIN_END=1  also stop when stdin closes, so that a parent that dies
//                                     without cleaning up (a crashed test run) takes it along
import { ConfigError, oneOf, portNumber, readSettings, setting, text } from '../../worker/common/settings.ts';
import { startLocalStack } from './stack/server.ts';

const STOP_TIMEOUT_MS = 10_000;

const EMULATOR_SETTINGS = {
  port: setting('LOCAL_EMULATOR_PORT', portNumber(0), { default: 4566 }),
  region: setting('LOCAL_EMULATOR_REGION', text('an AWS region name'), { default: 'us-east-1' }),
  stopOnStdinEnd: setting('LOCAL_EMULATOR_STOP_ON_STDIN_END', oneOf(['0', '1']), { default: '0' }),
} as const;

function readEmulatorSettings() {
  try {
    return readSettings(process.env, EMULATOR_SETTINGS);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

const settings = readEmulatorSettings();
const stack = await startLocalStack({ port: settings.port, region: settings.region }).catch((error: unknown) => {
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
if (settings.stopOnStdinEnd === '1') {
  process.stdin.once('end', () => stopAndExit('stdin end')).resume();
}
