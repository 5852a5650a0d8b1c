/**
 * `npm start`: the whole pipeline on this machine. Starts the S3 + SQS emulator with notifications,
 * creates the buckets, the queue and its DLQ, runs the worker, uploads the sample file and shows
 * what came out. Runs until Ctrl-C. Worker settings come from the same variables as on AWS.
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
import { createLocalResources, DEFAULT_LOCAL_NAMES } from './resources.ts';
import { startLocalStack } from './stack/server.ts';

const SAMPLE_FILE = new URL('../../data/sample_data.jsonl', import.meta.url);
const SAMPLE_KEY = 'samples/sample_data.jsonl';
const SAMPLE_TIMEOUT_MS = 30_000;

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

const local = orExit(() => readSettings(process.env, LOCAL_SETTINGS));
const stack = await startLocalStack({ port: local.emulatorPort }).catch((error: unknown) =>
  fail(`cannot start the emulator: ${errorMessage(error)} (set LOCAL_EMULATOR_PORT to use another port)`),
);
const clients = createAwsClients({ region: stack.region, endpoint: stack.endpoint });
const resources = await createLocalResources(clients, DEFAULT_LOCAL_NAMES, { maxReceiveCount: local.maxReceiveCount });

const config = orExit(() =>
  parseConfig({
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '8080',
    ...process.env,
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.endpoint,
    QUEUE_URL: resources.queueUrl,
    DLQ_URL: resources.dlqUrl,
    PROCESSED_BUCKET: process.env.PROCESSED_BUCKET ?? resources.processedBucket,
  }),
);

const logger = pino({ level: config.logLevel, base: { service: 'iot-ingest-worker' } });
const worker = await startWorker({ config, logger, ...clients }).catch((error: unknown) =>
  fail(`cannot start the worker: ${errorMessage(error)} (set HTTP_PORT to use another port)`),
);

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
  `Local pipeline running. Emulator (S3 + SQS): ${stack.endpoint}  region ${stack.region}`,
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
  `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region ${stack.region} --endpoint-url ${stack.endpoint} s3 cp readings.jsonl s3://${resources.rawBucket}/`,
  'Press Ctrl-C to stop.',
  '',
);
process.stdout.write(lines.join('\n'));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    worker
      .stop()
      .then(() => stack.stop())
      .then(
        () => {
          destroyAwsClients(clients);
          process.exit(0);
        },
        (error: unknown) => fail(`shutdown error: ${errorMessage(error)}`),
      );
  });
}
