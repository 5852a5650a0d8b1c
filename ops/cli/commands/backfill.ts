/** `backfill`: enqueue objects already in the raw bucket, as the trigger would have. */
import type { Command } from 'commander';
import { sendRetry, withAwsClients } from '../aws-session.ts';
import { backfill, BackfillError, DEFAULT_SUFFIXES, type BackfillTally } from '../backfill-objects.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import { EXIT_CODES, type ExitCode } from '../exit-codes.ts';
import { positiveNumber, repeatable, wholeNumber } from '../option-parsers.ts';
import { printReport, PROGRESS_UNITS, startProgress, writeLines } from '../output.ts';
import { keyLine } from '../object-sweep/key-line.ts';
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
  /** Dry run only: the keys a real run would send, in order (`sent` stays 0). */
  readonly wouldSend?: readonly string[];
  readonly stoppedBy: 'done' | 'interrupted' | 'failed';
  readonly error?: string;
}

function summaryLine(report: BackfillReport, wouldSend: number): string {
  const counts = `listed ${report.listed}, matched ${report.matched}, skipped (already processed) ${report.skippedProcessed}`;
  if (report.dryRun) return `dry run: ${counts}, would send ${wouldSend}${wouldSend > 0 ? ' (the keys above)' : ''}; nothing was sent`;
  return `${counts}, sent ${report.sent}`;
}

function backfillLines(report: BackfillReport, wouldSend: number): string[] {
  const lines = [summaryLine(report, wouldSend), `s3://${report.rawBucket}/${report.prefix}* -> ${report.queueUrl}`];
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
    .option('--dry-run', 'list the keys that would be sent, one a line, and count them; send nothing')
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
    const dryRun = flags.dryRun === true;
    // A dry run's text output streams the keys as they are listed (so a big bucket is not held in memory);
    // its JSON collects them. The keys themselves show progress, so no bar over them.
    const wouldSend: string[] = [];
    let wouldSendCount = 0;
    const onWouldSend = (keys: readonly string[]) => {
      wouldSendCount += keys.length;
      if (json) wouldSend.push(...keys);
      else writeLines(context.stdout, keys.map(keyLine));
    };
    const [report, exitCode] = await withAwsClients(context, connection, async (clients): Promise<[BackfillReport, ExitCode]> => {
      const queueUrl = await queueUrlOf(clients.sqs, queue);
      const base = { dryRun, rawBucket, prefix: flags.prefix, queueUrl };
      const keys = dryRun && json ? { wouldSend } : {};
      const progress = startProgress(context, json || dryRun, 0, PROGRESS_UNITS.objects);
      try {
        const { tally, interrupted } = await backfill(clients, {
          rawBucket,
          prefix: flags.prefix,
          suffixes: flags.suffix,
          pageSize: flags.pageSize,
          startAfter: flags.startAfter,
          queueUrl,
          skipProcessed,
          dryRun,
          onWouldSend,
          rateLimiter: createRateLimiter(flags.rate, context.clock),
          retry: sendRetry(context),
          signal: context.signal,
          onProgress: (tally) => progress.update(tally.sent + tally.skippedProcessed, tally.matched),
        });
        return [{ ...base, ...tally, stoppedBy: interrupted ? 'interrupted' : 'done', ...keys }, interrupted ? EXIT_CODES.partial : EXIT_CODES.ok];
      } catch (error) {
        if (!(error instanceof BackfillError)) throw error;
        return [{ ...base, ...error.tally, stoppedBy: 'failed', error: error.message, ...keys }, EXIT_CODES.failed];
      } finally {
        progress.stop();
      }
    });
    printReport(context, json, { data: report, human: () => backfillLines(report, wouldSendCount) });
    if (report.error !== undefined) context.stderr.write(`error: ${report.error}\n`);
    host.exit(exitCode);
  });
}
