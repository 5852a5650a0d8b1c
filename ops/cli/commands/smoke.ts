/** `smoke`: one small file through the deployed (or local) pipeline, every stage checked, a pass/fail table. */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { withAwsClients } from '../aws-session.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import { UsageError } from '../exit-codes.ts';
import { wholeNumber } from '../option-parsers.ts';
import { note, printReport } from '../output.ts';
import { deadLetterQueueUrlOf, queueUrlOf } from '../queue-targets.ts';
import { resolveBucket, resolveConnection, resolveDeadLetterQueue, resolveOutputLocation, resolveQueue, type ConnectionFlags } from '../settings.ts';
import { smokeTable, verdict } from '../smoke/checks.ts';
import type { SmokeCloudWatch } from '../smoke/cloudwatch.ts';
import { buildSmokeFile, smokeKey } from '../smoke/file.ts';
import { runSmoke, type AlarmPlan } from '../smoke/run.ts';
import { alarmLocator, metricsSource, parquetPrefix, smokeRules } from '../smoke/settings.ts';
import { environmentWithOutputs, readStackOutputs, STACK_OUTPUTS } from '../smoke/stack-outputs.ts';

interface SmokeFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly timeout: number;
  readonly metricsUrl?: string;
  /** False with --no-alarm. */
  readonly alarm: boolean;
  readonly alarmName?: string;
  readonly outputsFile?: string;
  readonly stack?: string;
  readonly keep?: boolean;
}

/** Default --timeout: long enough for a first task to start when minTasks=0. */
const DEFAULT_TIMEOUT_SECONDS = 300;
const POLL_INTERVAL_MS = { aws: 1_000, endpoint: 250 } as const;

const HELP = `
Puts smoke/<time>-<random>.jsonl into the raw bucket: one line to be processed, one filtered, one rejected
(missing humidity). Waits (at most --timeout) for its processed output (the line with location_id and
temp_fahrenheit appended, byte for byte; with OUTPUT_FORMAT=parquet a Parquet object) and its rejected line;
checks the DLQ is empty (visible and in flight); reads iot_ingest_files_total{outcome="succeeded"} from
--metrics-url (with --local, the npm start worker on HTTP_PORT, default 8080) and checks it counted the file,
or else checks the ingest queue drained (and, on AWS, CloudWatch's NumberOfMessagesDeleted); on AWS sets one
of the stack's alarms to ALARM and back to OK with SetAlarmState, so that its e-mail arrives; deletes the
smoke objects unless --keep. Expected outputs follow TEMPERATURE_THRESHOLD_CELSIUS and UNKNOWN_LOCATION_ID
(worker defaults 10 and "unknown") and the output prefixes, as the worker's variables say.

On AWS the settings come from --outputs-file (what \`npx cdk deploy --outputs-file FILE\` writes, or
\`aws cloudformation describe-stacks --stack-name NAME\`) or, as for every command, flags and variables.
The alarm: --alarm-name, else the stack output ${STACK_OUTPUTS.alarmName}, else the DeadLetterQueueNotEmpty
alarm among those acting on the output ${STACK_OUTPUTS.alarmTopicArn}, else among alarms named <stack>-Monitoring….
Exit codes: 0 every check passed or was skipped; 1 a check failed (or nothing could be reached); 2 usage;
3 interrupted by Ctrl-C (the smoke objects are still deleted).`;

function resolveAlarmPlan(found: ReturnType<typeof alarmLocator>, cloudWatch: SmokeCloudWatch | undefined): AlarmPlan {
  if ('skip' in found) return { kind: 'skip', why: found.skip };
  if (cloudWatch === undefined) return { kind: 'skip', why: 'no CloudWatch' };
  return { kind: 'fire', locator: found.locator, api: cloudWatch.alarms };
}

export function registerSmokeCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('smoke')
    .description('smoke test after a deploy: a file with all three outcomes through the pipeline, outputs, DLQ, metrics and one alarm checked')
    .option('--timeout <seconds>', 'how long to wait for the outputs, then the metrics', wholeNumber(1, 3_600), DEFAULT_TIMEOUT_SECONDS)
    .option('--metrics-url <url>', "a worker's /metrics, e.g. http://10.0.1.23:8080/metrics")
    .option('--outputs-file <file>', 'the stack outputs as JSON (npx cdk deploy --outputs-file FILE)')
    .option('--stack <name>', 'the stack in --outputs-file, and whose alarms to look for (default: the only one, or IotIngest)')
    .option('--alarm-name <name>', 'the CloudWatch alarm to set to ALARM and back to OK')
    .option('--no-alarm', 'skip the alarm step')
    .option('--keep', 'leave the smoke objects in the buckets');
  addConnectionOptions(command, ['queueUrl', 'dlqUrl', 'rawBucket', 'processedBucket', 'processedPrefix']);
  addJsonOption(command);
  command.addHelpText('after', HELP);
  command.action(async (flags: SmokeFlags) => {
    const { context } = host;
    if (flags.local === true && flags.outputsFile !== undefined) {
      throw new UsageError('--outputs-file names a deployed stack and --local the npm start stack: pass one of them');
    }
    const outputs = flags.outputsFile === undefined ? undefined : await readStackOutputs(flags.outputsFile, flags.stack);
    const env = outputs === undefined || flags.outputsFile === undefined ? context.env : environmentWithOutputs(context.env, outputs, flags.outputsFile);
    const connection = resolveConnection(flags, env);
    const queue = resolveQueue(flags, env);
    const dlq = resolveDeadLetterQueue(flags, env);
    const rawBucket = resolveBucket(flags, env, 'rawBucket');
    const output = { ...resolveOutputLocation(flags, env), parquetPrefix: parquetPrefix(env) };
    const metrics = metricsSource(flags.metricsUrl, connection.local, env);
    const onAws = connection.aws.endpoint === undefined;
    const found = alarmLocator({ alarm: flags.alarm, alarmName: flags.alarmName, stack: flags.stack, local: connection.local, onAws }, outputs);
    const now = new Date(context.clock.now());
    const file = buildSmokeFile(smokeKey(now, randomBytes(4).toString('hex')), now, smokeRules(env));

    const cloudWatch = onAws ? (await import('../smoke/cloudwatch.ts')).createSmokeCloudWatch(connection.aws.region) : undefined;
    try {
      const report = await withAwsClients(context, connection, async ({ s3, sqs }) =>
        runSmoke(
          s3,
          sqs,
          file,
          {
            rawBucket,
            output,
            queueUrl: await queueUrlOf(sqs, queue),
            dlqUrl: await deadLetterQueueUrlOf(sqs, dlq),
            metrics,
            alarm: resolveAlarmPlan(found, cloudWatch),
            ...(cloudWatch === undefined ? {} : { deletedSince: cloudWatch.deletedSince }),
          },
          {
            timeoutSeconds: flags.timeout,
            pollIntervalMs: onAws ? POLL_INTERVAL_MS.aws : POLL_INTERVAL_MS.endpoint,
            keep: flags.keep === true,
            signal: context.signal,
            clock: context.clock,
            onProgress: (line) => note(context, flags.json === true, line),
          },
        ),
      );
      printReport(context, flags.json === true, { data: report, human: () => smokeTable(report.checks, report.interrupted) });
      host.exit(verdict(report.checks, report.interrupted).exitCode);
    } finally {
      cloudWatch?.destroy();
    }
  });
}
