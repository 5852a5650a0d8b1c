/** `backfill`: enqueue objects already in the raw bucket, as the trigger would have. */
import type { Command } from 'commander';
import { sendRetry, withAwsClients } from '../aws-session.ts';
import { backfill, BackfillError, DEFAULT_SUFFIXES, type BackfillTally, type TargetBackfill } from '../backfill-objects.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addExpectedOwnerOption, addJsonOption } from '../connection-options.ts';
import { EXIT_CODES, UsageError, type ExitCode } from '../exit-codes.ts';
import { positiveNumber, repeatable, wholeNumber } from '../option-parsers.ts';
import { printReport, PROGRESS_UNITS, startProgress, writeLines } from '../output.ts';
import { keyLine } from '../object-sweep/key-line.ts';
import { bucketOwners, describeTarget, sweepTargets, type SweepTarget } from '../object-sweep/sweep-plan.ts';
import { queueUrlOf } from '../queue-targets.ts';
import { createRateLimiter } from '../rate-limiter.ts';
import { resolveConnection, resolveOutputLocation, resolveQueue, resolveRawSide, type ConnectionFlags } from '../settings.ts';

interface BackfillFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly prefix: string;
  readonly suffix: readonly string[];
  readonly rate?: number;
  readonly dryRun?: boolean;
  readonly skipProcessed?: boolean;
  readonly pageSize: number;
  readonly startAfter?: string;
  readonly expectedBucketOwner?: string;
}

/** One source's counts, with SOURCES: `source` is what was listed, s3://bucket/prefix. */
interface SourceBackfill extends Omit<BackfillTally, 'lastSentKey'> {
  readonly source: string;
}

interface BackfillReport extends BackfillTally {
  readonly dryRun: boolean;
  /** The bucket listed; with SOURCES, every source's bucket, comma separated. */
  readonly rawBucket: string;
  /** --prefix as given (with SOURCES it narrows each source's prefix). */
  readonly prefix: string;
  readonly queueUrl: string;
  /** Dry run only: the keys a real run would send, in order (`sent` stays 0). */
  readonly wouldSend?: readonly string[];
  readonly stoppedBy: 'done' | 'interrupted' | 'failed';
  readonly error?: string;
  /** With SOURCES: each source listed (those after an interruption or failure are absent), its own counts; the counts above are their sums. */
  readonly sources?: readonly SourceBackfill[];
}

function summaryLine(report: BackfillReport, wouldSend: number): string {
  const counts = `listed ${report.listed}${report.excluded > 0 ? `, excluded (in no source) ${report.excluded}` : ''}, matched ${report.matched}, skipped (already processed) ${report.skippedProcessed}`;
  if (report.dryRun) return `dry run: ${counts}, would send ${wouldSend}${wouldSend > 0 ? ' (the keys above)' : ''}; nothing was sent`;
  return `${counts}, sent ${report.sent}`;
}

/** How to go on after an interrupted or failed run: --start-after in the target it stopped in, then the targets not reached. */
function resumeLines(report: BackfillReport, targets: readonly SweepTarget[], stoppedIn: TargetBackfill | undefined): string[] {
  const lastSentKey = stoppedIn?.tally.lastSentKey;
  if (targets.length <= 1) {
    return [lastSentKey === undefined ? `${report.stoppedBy}: nothing was sent; run the same command again` : `${report.stoppedBy}: resume with --start-after ${JSON.stringify(lastSentKey)}`];
  }
  const reached = stoppedIn === undefined ? 0 : targets.indexOf(stoppedIn.target);
  const target = targets[reached];
  const notReached = targets.slice(reached + 1).map(describeTarget);
  const lines = [
    target === undefined || lastSentKey === undefined
      ? `${report.stoppedBy} in ${target === undefined ? 'the first source' : describeTarget(target)} before sending from it`
      : `${report.stoppedBy} in ${describeTarget(target)}: resume it with --raw-bucket ${target.bucket} --prefix ${JSON.stringify(target.prefix)} --start-after ${JSON.stringify(lastSentKey)}`,
  ];
  if (notReached.length > 0) lines.push(`not listed yet: ${notReached.join(', ')} (backfill each with --raw-bucket and --prefix)`);
  return lines;
}

function backfillLines(report: BackfillReport, wouldSend: number, targets: readonly SweepTarget[], stoppedIn: TargetBackfill | undefined): string[] {
  const listed = targets.length === 1 ? `s3://${report.rawBucket}/${targets[0]?.prefix ?? report.prefix}*` : targets.map((target) => `${describeTarget(target)}*`).join(', ');
  const lines = [summaryLine(report, wouldSend), `${listed} -> ${report.queueUrl}`];
  for (const source of report.sources ?? []) {
    lines.push(`  ${source.source}: listed ${source.listed}, matched ${source.matched}, skipped ${source.skippedProcessed}, ${report.dryRun ? 'listed only' : `sent ${source.sent}`}`);
  }
  if (report.stoppedBy !== 'done') lines.push(...resumeLines(report, targets, stoppedIn));
  return lines;
}

export function registerBackfillCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('backfill')
    .description('enqueue one object message per object already in the raw bucket under a prefix (with SOURCES: in every source)')
    .requiredOption('--prefix <prefix>', 'key prefix to list ("" for the whole bucket; with SOURCES, every source whole)')
    .option('--suffix <suffix>', `keep keys ending so; repeatable (default ${DEFAULT_SUFFIXES.join(', ')})`, repeatable(DEFAULT_SUFFIXES), DEFAULT_SUFFIXES)
    .option('--rate <n>', 'messages per second at most', positiveNumber)
    .option('--dry-run', 'list the keys that would be sent, one a line, and count them; send nothing')
    .option('--skip-processed', "skip objects whose processed output exists (HeadObject; PROCESSED_PREFIX + the source's outputPrefix, REJECTED_* as the worker)")
    .option('--page-size <n>', 'ListObjectsV2 page size (1 to 1000)', wholeNumber(1, 1000), 1000)
    .option('--start-after <key>', 'list only keys after this one (resume an interrupted backfill; one bucket only)');
  addConnectionOptions(command, ['rawBucket', 'queueUrl', 'processedBucket', 'processedPrefix', 'sources']);
  addExpectedOwnerOption(command);
  addJsonOption(command);
  command.addHelpText(
    'after',
    '\nWith SOURCES (or --sources) and no --raw-bucket, every source is listed in turn (its bucket, under its prefix, narrowed by\n' +
      "--prefix). A source's expectedBucketOwner goes on every call to its bucket; --expected-bucket-owner does so for --raw-bucket.",
  );
  command.action(async (flags: BackfillFlags) => {
    const { context } = host;
    const json = flags.json === true;
    const connection = resolveConnection(flags, context.env);
    const raw = resolveRawSide(flags, context.env);
    const targets = sweepTargets(raw, flags.prefix);
    const owners = bucketOwners(raw);
    if (flags.startAfter !== undefined && targets.length > 1) {
      throw new UsageError('--start-after resumes one listing: name the source with --raw-bucket and --prefix (the interrupted run printed them)');
    }
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
    const perSource = raw.bucket === undefined;
    const rawBuckets = [...new Set(targets.map((target) => target.bucket))].join(', ');
    let stoppedIn: TargetBackfill | undefined;
    const [report, exitCode] = await withAwsClients(context, connection, async (clients): Promise<[BackfillReport, ExitCode]> => {
      const queueUrl = await queueUrlOf(clients.sqs, queue);
      const base = { dryRun, rawBucket: rawBuckets, prefix: flags.prefix, queueUrl };
      const keys = dryRun && json ? { wouldSend } : {};
      const bySource = (each: readonly TargetBackfill[]) => {
        stoppedIn = each.at(-1);
        return perSource ? { sources: each.map(({ target, tally }) => ({ source: describeTarget(target), ...withoutLastKey(tally) })) } : {};
      };
      const progress = startProgress(context, json || dryRun, 0, PROGRESS_UNITS.objects);
      try {
        const { tally, each, interrupted } = await backfill(clients, {
          targets,
          sources: raw.sources,
          owners,
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
        return [{ ...base, ...tally, stoppedBy: interrupted ? 'interrupted' : 'done', ...keys, ...bySource(each) }, interrupted ? EXIT_CODES.partial : EXIT_CODES.ok];
      } catch (error) {
        if (!(error instanceof BackfillError)) throw error;
        return [{ ...base, ...error.tally, stoppedBy: 'failed', error: error.message, ...keys, ...bySource(error.each) }, EXIT_CODES.failed];
      } finally {
        progress.stop();
      }
    });
    printReport(context, json, { data: report, human: () => backfillLines(report, wouldSendCount, targets, stoppedIn) });
    if (report.error !== undefined) context.stderr.write(`error: ${report.error}\n`);
    host.exit(exitCode);
  });
}

function withoutLastKey(tally: BackfillTally): Omit<BackfillTally, 'lastSentKey'> {
  return { listed: tally.listed, excluded: tally.excluded, matched: tally.matched, skippedProcessed: tally.skippedProcessed, sent: tally.sent };
}
