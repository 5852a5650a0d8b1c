/**
 * The production entry point, the one the container runs. Settings come from the environment
 * only; there is no local fallback: without QUEUE_URL it stops, naming the variable.
 */
import { pino } from 'pino';
import { createAwsClients, destroyAwsClients, workerSocketPools } from './common/aws-clients.ts';
import { ConfigError, parseConfig, type WorkerConfig } from './config.ts';
import { errorMessage } from './common/error-message.ts';
import { receiveLoopCount } from './queue/receive-loop.ts';
import { startWorker } from './worker.ts';

function fail(line: string, exitCode: number): never {
  process.stderr.write(`${line}\n`);
  process.exit(exitCode);
}

let config: WorkerConfig;
try {
  config = parseConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) fail(`configuration error: ${error.message}`, 2);
  throw error;
}

const logger = pino({ level: config.logLevel, base: { service: 'iot-ingest-worker' } });
const { maxFilesInFlight } = config.consumer;
const maxSockets = workerSocketPools({ maxFilesInFlight, uploadQueueSize: config.upload.queueSize, receiveLoops: receiveLoopCount(maxFilesInFlight) });
const clients = createAwsClients({ ...config.aws, maxSockets });
const worker = await startWorker({ config, logger, ...clients }).catch((error: unknown) =>
  fail(`startup error: ${errorMessage(error)}`, 1),
);

let signalled = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (signalled) return;
  signalled = true;
  logger.info({ signal }, 'shutdown requested');
  await worker.stop();
  destroyAwsClients(clients);
  logger.flush();
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => fail(`shutdown error: ${errorMessage(error)}`, 1),
    );
  });
}
