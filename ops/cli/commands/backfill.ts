/** `backfill`: enqueue objects already in the raw bucket, as the trigger would have. */
import type { Command } from 'commander';
import { sendRetry, withAwsClients } from '../aws-session.ts';
import { backfill, BackfillError, DEFAULT_SUFFIXES, type BackfillTally } from '../backfill-objects.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import { EXIT_CODES, type ExitCode } from '../exit-codes.ts';
import { positiveNumber, repeatable, wholeNumber } from '../option-parsers.ts';
import { printReport, PROGRESS_UNITS, startProgress } from '../output.ts';
import { queueUrlOf } from '../queue-targets.ts';
import { createRateLimiter } from '../rate-limiter.ts';
import { resolveBucket, resolveConnection, resolveOutputLocation, resolveQueue, type ConnectionFlags } from '../settings.ts';

interface BackfillFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly prefix: string;
  readonly suffix: readonly string[];
  readonly rate?: number;
  readonly dryRun?: boolean;
  readonly skipProcessed?: boolean;
  readonly pageSize: number;
  readonly startAfter?: string;
}

interface BackfillReport extends BackfillTally {
  readonly dryRun: boolean;
  readonly rawBucket: string;
  readonly prefix: string;
  readonly queueUrl: string;
  readonly stoppedBy: 'done' | 'interrupted' | 'failed';
  readonly error?: string;
}

function backfillLines(report: BackfillReport): string[] {
  const verb = report.dryRun ? 'would send' : 'sent';
  const lines = [
    `${report.dryRun ? 'dry run: ' : ''}listed ${report.listed}, matched ${report.matched}, skipped (already processed) ${report.skippedProcessed}, ${verb} ${report.sent}`,
    `s3://${report.rawBucket}/${report.prefix}* -> ${report.queueUrl}`,
  ];
  if (report.stoppedBy !== 'done' && report.lastSentKey !== undefined) {
    lines.push(`${report.stoppedBy}: resume with --start-after ${JSON.stringify(report.lastSentKey)}`);
  } else if (report.stoppedBy !== 'done') lines.push(`${report.stoppedBy}: nothing was sent; run the same command again`);
  return lines;
}

export function registerBackfillCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('backfill')
    .description('enqueue one object message per object already in the raw bucket under a prefix')
    .requiredOption('--prefix <prefix>', 'key prefix to list ("" for the whole bucket)')
    .option('--suffix <suffix>', `keep keys ending so; repeatable (default ${DEFAULT_SUFFIXES.join(' and ')})`, repeatable(DEFAULT_SUFFIXES), DEFAULT_SUFFIXES)
    .option('--rate <n>', 'messages per second at most', positiveNumber)
    .option('--dry-run', 'list and count; send nothing')
    .option('--skip-processed', 'skip objects whose processed output exists (HeadObject; PROCESSED_PREFIX, REJECTED_* as the worker)')
    .option('--page-size <n>', 'ListObjectsV2 page size (1 to 1000)', wholeNumber(1, 1000), 1000)
    .option('--start-after <key>', 'list only keys after this one (resume an interrupted backfill)');
  addConnectionOptions(command, ['rawBucket', 'queueUrl', 'processedBucket', 'processedPrefix']);
  addJsonOption(command);
  command.action(async (flags: BackfillFlags) => {
    const { context } = host;
    const json = flags.json === true;
    const connection = resolveConnection(flags, context.env);
    const rawBucket = resolveBucket(flags, context.env, 'rawBucket');
    const queue = resolveQueue(flags, context.env);
    const skipProcessed = flags.skipProcessed === true ? resolveOutputLocation(flags, context.env) : undefined;
    const [report, exitCode] = await withAwsClients(context, connection, async (clients): Promise<[BackfillReport, ExitCode]> => {
      const queueUrl = await queueUrlOf(clients.sqs, queue);
      const base = { dryRun: flags.dryRun === true, rawBucket, prefix: flags.prefix, queueUrl };
      const progress = startProgress(context, json, 0, PROGRESS_UNITS.objects);
      try {
        const { tally, interrupted } = await backfill(clients, {
          rawBucket,
          prefix: flags.prefix,
          suffixes: flags.suffix,
          pageSize: flags.pageSize,
          startAfter: flags.startAfter,
          queueUrl,
          skipProcessed,
          dryRun: flags.dryRun === true,
          rateLimiter: createRateLimiter(flags.rate, context.clock),
          retry: sendRetry(context),
          signal: context.signal,
          onProgress: (tally) => progress.update(tally.sent + tally.skippedProcessed, tally.matched),
        });
        return [{ ...base, ...tally, stoppedBy: interrupted ? 'interrupted' : 'done' }, interrupted ? EXIT_CODES.partial : EXIT_CODES.ok];
      } catch (error) {
        if (!(error instanceof BackfillError)) throw error;
        return [{ ...base, ...error.tally, stoppedBy: 'failed', error: error.message }, EXIT_CODES.failed];
      } finally {
        progress.stop();
      }
    });
    printReport(context, json, { data: report, human: () => backfillLines(report) });
    if (report.error !== undefined) context.stderr.write(`error: ${report.error}\n`);
    host.exit(exitCode);
  });
}
