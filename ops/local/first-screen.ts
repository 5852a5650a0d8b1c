/**
 * What `npm start` prints once the samples are through: where everything is, where each sample line
 * went, and what to try next. Pure: values in, lines out.
 */
import type { SampleOutcome } from './sample-files.ts';

export interface FirstScreen {
  readonly emulator: { readonly endpoint: string; readonly region: string };
  /** The port `npm run ops -- --local` assumes when LOCAL_EMULATOR_PORT is unset. */
  readonly defaultEmulatorPort: number;
  readonly rawBucket: string;
  /** s3://bucket/prefix of the processed records and of the rejected lines. */
  readonly processedLocation: string;
  readonly rejectedLocation: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** The completion events' topic and the queue subscribed to it; undefined when the worker publishes elsewhere (or nowhere). */
  readonly fileEvents?: { readonly topicArn: string; readonly queueUrl: string } | undefined;
  readonly maxReceiveCount: number;
  readonly workerAddress: string;
  readonly temperatureThresholdCelsius: number;
  readonly unknownLocationId: string;
  readonly samples: readonly SampleOutcome[];
  /** Whether ops/observability/prometheus.yml now finds this worker (npm start wrote its target file). */
  readonly prometheusFindsWorker: boolean;
}

export const READY_LINE = 'Press Ctrl-C to stop.';

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function sampleLines(sample: SampleOutcome, screen: FirstScreen): string[] {
  const { report } = sample;
  const source = `s3://${sample.bucket}/${sample.key}`;
  const result = report.result;
  if (result?.outcome !== 'succeeded') return [`${source}: ended as ${report.outcome}${report.error === undefined ? '' : `: ${report.error}`}`];
  const { tally, outputs } = result;
  const lines = [
    `${source}: ${tally.processed} processed, ${tally.filtered} filtered, ${tally.rejected} rejected (${Math.round(report.durationSeconds * 1000)} ms)`,
  ];
  for (const object of outputs.processed) {
    const records = sample.firstRecords.length > 0 ? `, first ${sample.firstRecords.length === 1 ? 'record' : 'records'}:` : '';
    lines.push(`  processed output  s3://${object.bucket}/${object.key}  (${object.bytes} bytes)${records}`);
  }
  lines.push(...sample.firstRecords.map((record) => `    ${record}`));
  if (result.parquetObjects !== undefined) lines.push('    (Parquet: read it with DuckDB, Athena or any Parquet reader)');
  if (tally.unknownDevices > 0) {
    lines.push(`    ${plural(tally.unknownDevices, 'record')} from a device not in the registry: location_id "${screen.unknownLocationId}" (see DEVICE_REGISTRY)`);
  }
  if (tally.filtered > 0) {
    lines.push(`  filtered          ${plural(tally.filtered, 'record')} at or below ${screen.temperatureThresholdCelsius} °C (TEMPERATURE_THRESHOLD_CELSIUS): counted, not stored`);
  }
  const { rejected } = outputs;
  lines.push(`  rejected output   s3://${rejected.bucket}/${rejected.key}  (${rejected.bytes} bytes)${sample.rejectedLines.length > 0 ? ':' : ''}`);
  const reasonWidth = Math.max(0, ...sample.rejectedLines.map((line) => line.reason.length));
  lines.push(...sample.rejectedLines.map((line) => `    line ${line.line}  ${line.reason.padEnd(reasonWidth)}  ${line.message}`));
  if (tally.rejected > sample.rejectedLines.length) lines.push(`    … and ${tally.rejected - sample.rejectedLines.length} more`);
  return lines;
}

/** The ops CLI finds the npm start stack by LOCAL_EMULATOR_PORT: name it when the port is not the default. */
function localOpsCommand(screen: FirstScreen, args: string): string {
  const port = Number(new URL(screen.emulator.endpoint).port);
  const prefix = port === screen.defaultEmulatorPort ? '' : `LOCAL_EMULATOR_PORT=${port} `;
  return `${prefix}npm run ops -- ${args} --local`;
}

function awsCli(screen: FirstScreen): string {
  return `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region ${screen.emulator.region} --endpoint-url ${screen.emulator.endpoint}`;
}

export function firstScreenLines(screen: FirstScreen): string[] {
  const { emulator } = screen;
  const tryNext: Array<[string, string]> = [
    [localOpsCommand(screen, 'status'), 'queue and DLQ depth, oldest message'],
    [localOpsCommand(screen, 'dlq peek'), 'dead-lettered messages and why they failed'],
    ['npm run ops -- generate --records 1000 -o readings.jsonl', 'make a file of sensor readings'],
    [localOpsCommand(screen, 'upload readings.jsonl'), 'put it in the raw bucket (or with any S3 client, below)'],
  ];
  const commandWidth = Math.max(...tryNext.map(([command]) => command.length));
  return [
    '',
    `Local pipeline running. Emulator (S3 + SQS): ${emulator.endpoint}  region ${emulator.region}`,
    `  raw bucket        s3://${screen.rawBucket}  (every object put here is announced on the queue)`,
    `  processed bucket  ${screen.processedLocation}  rejected lines: ${screen.rejectedLocation}`,
    `  ingest queue      ${screen.queueUrl}`,
    `  dead-letter queue ${screen.dlqUrl}  (after ${screen.maxReceiveCount} receives)`,
    ...(screen.fileEvents === undefined
      ? []
      : [`  file events       ${screen.fileEvents.topicArn}  → queue ${screen.fileEvents.queueUrl}  (one per file, in SNS's envelope)`]),
    `  worker            ${screen.workerAddress}/healthz  /readyz  /metrics`,
    '',
    'The samples went through S3 → queue → worker:',
    ...screen.samples.flatMap((sample) => ['', ...sampleLines(sample, screen)]),
    '',
    'Try next:',
    ...tryNext.map(([command, what]) => `  ${command.padEnd(commandWidth)}  # ${what}`),
    `  ${awsCli(screen)} s3 cp readings.jsonl s3://${screen.rawBucket}/`,
    ...(screen.fileEvents === undefined
      ? []
      : [
          `  ${awsCli(screen)} sqs receive-message --queue-url ${screen.fileEvents.queueUrl} --max-number-of-messages 10`,
          '    # the completion events: each Body is SNS\'s envelope, the event (eventId, counts, outputs) in its Message',
        ]),
    ...(screen.prometheusFindsWorker
      ? [
          `  Metrics: ${screen.workerAddress}/metrics; Prometheus with the alert rules, scraping this worker:`,
          '    prometheus --config.file=ops/observability/prometheus.yml --storage.tsdb.path=/tmp/iot-ingest-prometheus',
        ]
      : [`  Metrics: ${screen.workerAddress}/metrics`]),
    '',
    'The emulator keeps everything in memory: Ctrl-C stops the pipeline and every bucket, object and message is gone.',
    READY_LINE,
    '',
  ];
}
