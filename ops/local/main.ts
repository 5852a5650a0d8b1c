/**
 * `npm start`: the whole pipeline on this machine, in the production topology: the S3 + SQS emulator with
 * notifications in a child process of its own (as S3 and SQS are elsewhere), the worker in this process.
 * Creates the buckets, the queue and its DLQ, uploads the sample files and shows where each line went.
 * Runs until Ctrl-C or SIGTERM, which stop the worker, then the emulator. Worker settings come from the
 * same variables as on AWS. The worker logs readable lines on a terminal and JSON lines elsewhere.
 */
import { pino } from 'pino';
import { createAwsClients, destroyAwsClients } from '../../worker/common/aws-clients.ts';
import { parseConfig } from '../../worker/config.ts';
import { ConfigError, oneOf, portNumber, readSettings, setting, text, wholeNumber } from '../../worker/common/settings.ts';
import { errorMessage } from '../../worker/common/error-message.ts';
import { startWorker } from '../../worker/worker.ts';
import { killTrackedChildren, stopChild } from './child-processes.ts';
import { EmulatorExitedError, startEmulatorProcess } from './emulator-process.ts';
import { firstScreenLines } from './first-screen.ts';
import { LOG_FORMATS, prettyDestination, resolveLogFormat, useColor } from './pretty-log.ts';
import { DEFAULT_PROMETHEUS_TARGETS_FILE, scrapeTarget, targetsDocument, writeFileAtomically } from './prometheus-targets.ts';
import { createFileEventsResources, createLocalResources, DEFAULT_FILE_EVENTS_NAMES, DEFAULT_LOCAL_NAMES } from './resources.ts';
import { readSampleOutcome, runSamples } from './sample-files.ts';

const DEFAULT_EMULATOR_PORT = 4566;
const SAMPLES_TIMEOUT_MS = 30_000;
/** Lines of each output shown per sample file. */
const SHOWN_LINES = 3;
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
  emulatorPort: setting('LOCAL_EMULATOR_PORT', portNumber(0), { default: DEFAULT_EMULATOR_PORT }),
  maxReceiveCount: setting('MAX_RECEIVE_COUNT', wholeNumber({ min: 1, max: 1000 }), { default: 5 }),
  /** auto: readable lines on a terminal, JSON lines otherwise. */
  logFormat: setting('LOG_FORMAT', oneOf(LOG_FORMATS), { default: 'auto' }),
  /** The Prometheus file_sd file that ops/observability/prometheus.yml reads, rewritten with the worker's address. */
  prometheusTargetsFile: setting('LOCAL_PROMETHEUS_TARGETS_FILE', text('a file path'), { default: DEFAULT_PROMETHEUS_TARGETS_FILE }),
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
// Completion events go to a topic with a queue subscribed, unless FILE_EVENTS_TOPIC_ARN names another topic.
const fileEvents = await createFileEventsResources(clients, DEFAULT_FILE_EVENTS_NAMES);

const config = orExit(() =>
  parseConfig({
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '8080',
    FILE_EVENTS_TOPIC_ARN: fileEvents.topicArn,
    ...process.env,
    AWS_REGION: emulator.region,
    AWS_ENDPOINT_URL: emulator.endpoint,
    QUEUE_URL: resources.queueUrl,
    DLQ_URL: resources.dlqUrl,
    PROCESSED_BUCKET: process.env.PROCESSED_BUCKET ?? resources.processedBucket,
  }),
);

const stdoutIsTerminal = process.stdout.isTTY === true;
const loggerOptions = { level: config.logLevel, base: { service: 'iot-ingest-worker' } };
const logger =
  resolveLogFormat(local.logFormat, stdoutIsTerminal) === 'pretty'
    ? pino(loggerOptions, prettyDestination(process.stdout, { color: useColor(stdoutIsTerminal, process.env) }))
    : pino(loggerOptions);
const worker = await startWorker({ config, logger, ...clients }).catch((error: unknown) =>
  fail(`cannot start the worker: ${errorMessage(error)} (set HTTP_PORT to use another port)`),
);
stopWorker = () => worker.stop();

/** Tells Prometheus (ops/observability/prometheus.yml) where this worker is; npm start runs on without it. */
async function publishScrapeTarget(): Promise<boolean> {
  const file = local.prometheusTargetsFile;
  try {
    await writeFileAtomically(file, targetsDocument(scrapeTarget(worker.httpAddress)));
    return file === DEFAULT_PROMETHEUS_TARGETS_FILE;
  } catch (error) {
    logger.warn({ file, err: errorMessage(error) }, 'cannot write the Prometheus target file; Prometheus will not find this worker');
    return false;
  }
}
const prometheusFindsWorker = await publishScrapeTarget();

const reports = await runSamples({ s3: clients.s3, onFile: worker.telemetry.onFile }, resources.rawBucket, SAMPLES_TIMEOUT_MS).catch((error: unknown) =>
  fail(`the sample files were not processed: ${errorMessage(error)}`),
);
const samples = await Promise.all(reports.map((report) => readSampleOutcome(clients.s3, report, SHOWN_LINES))).catch((error: unknown) =>
  fail(`cannot read back the outputs of the sample files: ${errorMessage(error)}`),
);

const { output } = config;
const processedPrefix = output.format === 'parquet' ? output.parquetPrefix : output.processedPrefix;
const screen = firstScreenLines({
  emulator,
  defaultEmulatorPort: DEFAULT_EMULATOR_PORT,
  rawBucket: resources.rawBucket,
  processedLocation: `s3://${output.processedBucket}/${processedPrefix}`,
  rejectedLocation: `s3://${output.rejectedBucket}/${output.rejectedPrefix}`,
  queueUrl: resources.queueUrl,
  dlqUrl: resources.dlqUrl,
  fileEvents: config.afterSuccess.fileEventsTopicArn === fileEvents.topicArn ? { topicArn: fileEvents.topicArn, queueUrl: fileEvents.queueUrl } : undefined,
  maxReceiveCount: local.maxReceiveCount,
  workerAddress: worker.httpAddress,
  temperatureThresholdCelsius: config.recordRules.temperatureThresholdCelsius,
  unknownLocationId: config.recordRules.unknownLocationId,
  samples,
  prometheusFindsWorker,
});
process.stdout.write(screen.join('\n'));
