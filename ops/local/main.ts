/**
 * `npm start`: the whole pipeline on this machine, in the production topology: the S3 + SQS emulator with
 * notifications in a child process of its own (as S3 and SQS are elsewhere), the worker in this process.
 * Creates the buckets, the queue and its DLQ, uploads the sample file and shows what came out. Runs until
 * Ctrl-C or SIGTERM, which stop the worker, then the emulator. Worker settings come from the same variables
 * as on AWS.
 */
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { createAwsClients, destroyAwsClients } from '../../worker/common/aws-clients.ts';
import { parseConfig } from '../../worker/config.ts';
import { ConfigError, portNumber, readSettings, setting, wholeNumber } from '../../worker/common/settings.ts';
import { errorMessage } from '../../worker/common/error-message.ts';
import type { FileReport } from '../../worker/telemetry.ts';
import { startWorker } from '../../worker/worker.ts';
import { killTrackedChildren, stopChild } from './child-processes.ts';
import { EmulatorExitedError, startEmulatorProcess } from './emulator-process.ts';
import { createLocalResources, DEFAULT_LOCAL_NAMES } from './resources.ts';

const SAMPLE_FILE = new URL('../../data/sample_data.jsonl', import.meta.url);
const SAMPLE_KEY = 'samples/sample_data.jsonl';
const SAMPLE_TIMEOUT_MS = 30_000;
const EMULATOR_START_TIMEOUT_MS = 20_000;
/** Above the emulator's own 10 s bound on stopping, after which it exits by itself. */
const EMULATOR_STOP_TIMEOUT_MS = 15_000;
const ORPHAN_CHECK_INTERVAL_MS = 1_000;
/** The emulator's line when it cannot listen; the reason follows it. */
const EMULATOR_START_FAILURE = 'local stack failed to start: ';

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/** What `npm start` reads for itself; the worker's own settings come from the same environment. */
const LOCAL_SETTINGS = {
  emulatorPort: setting('LOCAL_EMULATOR_PORT', portNumber(0), { default: 4566 }),
  maxReceiveCount: setting('MAX_RECEIVE_COUNT', wholeNumber({ min: 1, max: 1000 }), { default: 5 }),
} as const;

function orExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
}

/** Why the emulator did not start, in one line: for a port in use, the listen error itself. */
function emulatorStartFailure(error: unknown): string {
  if (!(error instanceof EmulatorExitedError)) return errorMessage(error);
  const lastLine = error.stderr.trim().split('\n').at(-1) ?? '';
  if (lastLine.startsWith(EMULATOR_START_FAILURE)) return lastLine.slice(EMULATOR_START_FAILURE.length);
  return `it exited with code ${error.code}${lastLine === '' ? '' : `: ${lastLine}`}`;
}

const local = orExit(() => readSettings(process.env, LOCAL_SETTINGS));
// Every way out (fail(), a crash) takes the emulator along; a SIGKILL of this process it notices by itself (stdin ends).
process.on('exit', killTrackedChildren);
const emulator = await startEmulatorProcess({
  env: process.env,
  port: local.emulatorPort,
  ownProcessGroup: true,
  startTimeoutMs: EMULATOR_START_TIMEOUT_MS,
  stderrLines: 20,
}).catch((error: unknown) => fail(`cannot start the emulator: ${emulatorStartFailure(error)} (set LOCAL_EMULATOR_PORT to use another port)`));
const clients = createAwsClients({ region: emulator.region, endpoint: emulator.endpoint });

/** Until the worker runs, there is nothing to stop. */
let stopWorker = (): Promise<void> => Promise.resolve();
let stopping = false;
emulator.child.once('exit', (code, signal) => {
  if (!stopping) fail(`the emulator stopped unexpectedly (code ${code}, signal ${signal}); stopping too\n${emulator.stderr()}`);
});
/** The worker first (it may finish or release files, which needs S3 and SQS), then the emulator. */
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  stopWorker()
    .then(() => stopChild(emulator.child, EMULATOR_STOP_TIMEOUT_MS))
    .then(
      (stopped) => {
        destroyAwsClients(clients);
        if (stopped.killed) fail(`the emulator did not stop within ${EMULATOR_STOP_TIMEOUT_MS / 1000} s and was killed`);
        process.exit(0);
      },
      (error: unknown) => fail(`shutdown error: ${errorMessage(error)}`),
    );
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// A SIGTERM sent to npm kills the shell that npm runs this in, and the shell does not pass it on: stop when orphaned.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) shutdown();
}, ORPHAN_CHECK_INTERVAL_MS).unref();

const resources = await createLocalResources(clients, DEFAULT_LOCAL_NAMES, { maxReceiveCount: local.maxReceiveCount });

const config = orExit(() =>
  parseConfig({
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '8080',
    ...process.env,
    AWS_REGION: emulator.region,
    AWS_ENDPOINT_URL: emulator.endpoint,
    QUEUE_URL: resources.queueUrl,
    DLQ_URL: resources.dlqUrl,
    PROCESSED_BUCKET: process.env.PROCESSED_BUCKET ?? resources.processedBucket,
  }),
);

const logger = pino({ level: config.logLevel, base: { service: 'iot-ingest-worker' } });
const worker = await startWorker({ config, logger, ...clients }).catch((error: unknown) =>
  fail(`cannot start the worker: ${errorMessage(error)} (set HTTP_PORT to use another port)`),
);
stopWorker = () => worker.stop();

const sampleDone = new Promise<FileReport>((resolve) => {
  worker.telemetry.onFile((report) => {
    if (report.ref.bucket === resources.rawBucket && report.ref.key === SAMPLE_KEY) resolve(report);
  });
});
await clients.s3.send(
  new PutObjectCommand({ Bucket: resources.rawBucket, Key: SAMPLE_KEY, Body: await readFile(SAMPLE_FILE), ContentType: 'application/x-ndjson' }),
);
const timeout = AbortSignal.timeout(SAMPLE_TIMEOUT_MS);
const report = await Promise.race([
  sampleDone,
  new Promise<never>((_, reject) => timeout.addEventListener('abort', () => reject(new Error('no outcome within 30 s')))),
]).catch((error: unknown) => fail(`the sample file was not processed: ${errorMessage(error)}`));

const processedPrefix = config.output.format === 'parquet' ? config.output.parquetPrefix : config.output.processedPrefix;
const lines = [
  '',
  `Local pipeline running. Emulator (S3 + SQS): ${emulator.endpoint}  region ${emulator.region}`,
  `  raw bucket        s3://${resources.rawBucket}  (every object put here is announced on the queue)`,
  `  processed bucket  s3://${config.output.processedBucket}/${processedPrefix}  rejected lines: s3://${config.output.rejectedBucket}/${config.output.rejectedPrefix}`,
  `  ingest queue      ${resources.queueUrl}`,
  `  dead-letter queue ${resources.dlqUrl}  (after ${local.maxReceiveCount} receives)`,
  `  worker            ${worker.httpAddress}/healthz  /readyz  /metrics`,
  '',
];
if (report.result?.outcome === 'succeeded') {
  const { tally, outputs } = report.result;
  lines.push(
    `Sample file s3://${resources.rawBucket}/${SAMPLE_KEY} processed in ${Math.round(report.durationSeconds * 1000)} ms: ` +
      `${tally.processed} processed, ${tally.filtered} filtered, ${tally.rejected} rejected.`,
    ...outputs.processed.map((object) => `  processed output  s3://${object.bucket}/${object.key}  (${object.bytes} bytes)`),
    `  rejected output   s3://${outputs.rejected.bucket}/${outputs.rejected.key}  (${outputs.rejected.bytes} bytes)`,
    '',
  );
  const [first] = outputs.processed;
  if (report.result.parquetObjects) {
    lines.push('The processed records are Parquet: read them with DuckDB, Athena or any Parquet reader.');
  } else if (first && !report.result.gzip) {
    const output = await clients.s3.send(new GetObjectCommand({ Bucket: first.bucket, Key: first.key }));
    const text = await output.Body?.transformToString('utf8');
    lines.push('First records of the processed output:', ...(text ?? '').split('\n').filter(Boolean).slice(0, 5).map((line) => `  ${line}`));
  }
} else {
  lines.push(`Sample file ended as ${report.outcome}: ${report.error ?? ''}`);
}
lines.push(
  '',
  'Put your own files in with any S3 client, for example:',
  `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region ${emulator.region} --endpoint-url ${emulator.endpoint} s3 cp readings.jsonl s3://${resources.rawBucket}/`,
  'Press Ctrl-C to stop.',
  '',
);
process.stdout.write(lines.join('\n'));

