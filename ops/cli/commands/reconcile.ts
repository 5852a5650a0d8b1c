/**
 * `reconcile`: compare every raw object (listed, or read from an S3 Inventory report) with its outputs'
 * provenance, and re-enqueue through the ingest queue those whose outputs are missing, stale or incomplete.
 */
import type { Command } from 'commander';
import type { S3Client } from '@aws-sdk/client-s3';
import { isArchiveCopy } from '../../../worker/after-success/source-action.ts';
import { sendRetry, withAwsClients } from '../aws-session.ts';
import type { CliContext, CommandHost } from '../context.ts';
import { addConnectionOptions, addExpectedOwnerOption } from '../connection-options.ts';
import { EXIT_CODES, UsageError, type ExitCode } from '../exit-codes.ts';
import { inventoryPages, readManifest } from '../object-sweep/inventory/inventory-source.ts';
import { parseS3Url } from '../object-sweep/inventory/manifest.ts';
import { keyLine } from '../object-sweep/key-line.ts';
import { listedPages } from '../object-sweep/list-source.ts';
import { DEFAULT_SUFFIXES, inScope, underAnyPrefix } from '../object-sweep/scope.ts';
import { parseSince } from '../object-sweep/since.ts';
import { sweep, type Decided, type SourcePage, type SweepPosition, type SweepTally } from '../object-sweep/sweep.ts';
import { addTally, keptObjects, sweepEach } from '../object-sweep/sweep-many.ts';
import { bucketOwners, describeTarget, keyPlace, sweepTargets, type RawSide, type SweepTarget } from '../object-sweep/sweep-plan.ts';
import type { BucketOwners } from '../object-sweep/bucket-owners.ts';
import { readSweepState, removeSweepState, writeSweepState } from '../object-sweep/sweep-state.ts';
import { positiveNumber, repeatable, wholeNumber } from '../option-parsers.ts';
import { PROGRESS_UNITS, startProgress, writeLines } from '../output.ts';
import { queueUrlOf } from '../queue-targets.ts';
import { createRateLimiter } from '../rate-limiter.ts';
import { WORKER_SETTINGS } from '../../../worker/config.ts';
import type { OutputLocation } from '../../../worker/output/output-keys.ts';
import { requireBucketsExist, type CheckedBucket } from '../reconcile/output-buckets.ts';
import { reconcileDecide, UNPROCESSABLE } from '../reconcile/output-check.ts';
import { failedBeforeSweep, reportCounts, summaryLines, type ReconcileReport } from '../reconcile/report.ts';
import { resolveConnection, resolveOutputFormat, resolveOutputLocation, resolveQueue, resolveRawSide, resolveSourceAction, SETTINGS, type ConnectionFlags } from '../settings.ts';

interface ReconcileFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly prefix: string;
  readonly since?: string;
  readonly inventory?: string;
  readonly suffix: readonly string[];
  readonly excludePrefix: readonly string[];
  readonly rate?: number;
  readonly dryRun?: boolean;
  readonly state?: string;
  readonly pageSize: number;
  readonly expectedBucketOwner?: string;
}

/** One sweep of the run: a listing (one per source with SOURCES), or the inventory. */
interface SweepSpec {
  readonly description: string;
  /** The bucket swept (for the inventory, known once its manifest is read) and its pages after `after`. */
  readonly open: (s3: S3Client, after: SweepPosition | undefined) => Promise<{ readonly target: SweepTarget; readonly pages: AsyncIterable<SourcePage> }>;
}

function inventorySpec(flags: ReconcileFlags, raw: RawSide, owners: BucketOwners, inventory: string): SweepSpec {
  let url: ReturnType<typeof parseS3Url>;
  try {
    url = parseS3Url(inventory);
  } catch (error) {
    throw new UsageError(`--inventory: ${(error as Error).message}`);
  }
  return {
    description: `inventory s3://${url.bucket}/${url.key}${flags.prefix === '' ? '' : ` prefix ${flags.prefix}`}`,
    open: async (s3, after) => {
      const manifest = await readManifest(s3, url, owners);
      const bucket = manifest.sourceBucket;
      if (raw.bucket !== undefined && bucket !== raw.bucket) throw new UsageError(`the inventory is of bucket ${bucket}, not the raw bucket ${raw.bucket}`);
      if (raw.bucket === undefined && !(raw.sources ?? []).some((source) => source.bucket === bucket)) {
        throw new UsageError(`the inventory is of bucket ${bucket}, which no source in SOURCES names`);
      }
      const owner = owners.get(bucket);
      return { target: { bucket, prefix: flags.prefix, ...(owner === undefined ? {} : { expectedBucketOwner: owner }) }, pages: inventoryPages(s3, manifest, { rawBucket: bucket, after, owners }) };
    },
  };
}

function listSpec(flags: ReconcileFlags, raw: RawSide, target: SweepTarget): SweepSpec {
  return {
    description: describeTarget(target),
    open: (s3, after) => {
      const listed = listedPages(s3, { bucket: target.bucket, prefix: target.prefix, pageSize: flags.pageSize, startAfter: after?.key, expectedBucketOwner: target.expectedBucketOwner });
      // A nested source's keys are listed here too: its own sweep checks them.
      const pages = keptObjects(listed, (object) => keyPlace(raw.sources, target, object.key).kind !== 'other-source');
      return Promise.resolve({ target, pages });
    },
  };
}

/** The run's sweeps: the inventory, or one listing per target (the named bucket, or each source). */
function sweepSpecs(flags: ReconcileFlags, raw: RawSide, owners: BucketOwners): SweepSpec[] {
  if (flags.inventory !== undefined) return [inventorySpec(flags, raw, owners, flags.inventory)];
  return sweepTargets(raw, flags.prefix).map((target) => listSpec(flags, raw, target));
}

/** One line per object re-enqueued (or, on a dry run, to be): JSON on stderr with --json, else `reason key` on stdout. */
function objectLogger(context: CliContext, json: boolean, dryRun: boolean): (rawBucket: string, batch: readonly Decided[]) => void {
  if (json) {
    const msg = dryRun ? 'would re-enqueue' : 're-enqueued';
    return (rawBucket, batch) => writeLines(context.stderr, batch.map(({ object, verdict }) => JSON.stringify({ msg, reason: verdict.outcome, bucket: rawBucket, key: object.key })));
  }
  return (_rawBucket, batch) => writeLines(context.stdout, batch.map(({ object, verdict }) => `${verdict.outcome.padEnd(10)} ${keyLine(object.key)}`));
}

/** The output buckets HeadObject will look in, with the settings that name them. */
function outputBuckets(location: OutputLocation): CheckedBucket[] {
  const processed = { bucket: location.processedBucket, setting: `${SETTINGS.processedBucket.flag} or ${SETTINGS.processedBucket.variable}` };
  const rejectedBucket = location.rejectedBucket ?? location.processedBucket;
  if (rejectedBucket === location.processedBucket) return [processed];
  return [processed, { bucket: rejectedBucket, setting: WORKER_SETTINGS.output.rejectedBucket.variable }];
}

function excludePrefixes(prefixes: readonly string[]): readonly string[] {
  if (prefixes.includes('')) throw new UsageError('--exclude-prefix "" would exclude every key; name a prefix');
  return prefixes;
}

/** The error as runCli prints it, on one line: the JSON summary's `error`. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' || error instanceof UsageError ? '' : `${error.name}: `}${error.message}` : String(error);
  return text.replace(/\s*\n\s*/g, ' ');
}

function sinceFlag(value: string, now: number): Date {
  try {
    return parseSince(value, now);
  } catch (error) {
    throw new UsageError(`--since ${JSON.stringify(value)} ${(error as Error).message}`);
  }
}

/** Objects finished with: those needing nothing, and those sent. */
function progressDone(tally: SweepTally): number {
  const { current = 0, [UNPROCESSABLE]: unprocessable = 0 } = tally.outcomes;
  return current + unprocessable + tally.sent;
}

const NO_PREFIXES: readonly string[] = [];

export function registerReconcileCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('reconcile')
    .description("re-enqueue raw objects whose outputs are missing, or were made from another version (stale) or never finished (incomplete), from the outputs' provenance")
    .option('--prefix <prefix>', 'key prefix to check ("" for the whole bucket)', '')
    .option('--since <when>', 'only objects last modified after this: a duration back from now (48h, 2d) or an ISO time')
    .option('--inventory <url>', 'read the objects from an S3 Inventory report (s3://bucket/…/manifest.json; CSV or Parquet) instead of listing')
    .option('--suffix <suffix>', `keep keys ending so; repeatable (default ${DEFAULT_SUFFIXES.join(', ')})`, repeatable(DEFAULT_SUFFIXES), DEFAULT_SUFFIXES)
    .option('--exclude-prefix <prefix>', 'leave out keys under this prefix (never checked nor sent, counted as excluded); repeatable', repeatable(NO_PREFIXES), NO_PREFIXES)
    .option('--rate <n>', 'messages per second at most, over any one second (batches of 10 from 10 a second, smaller below)', positiveNumber)
    .option('--dry-run', 'list the objects that would be re-enqueued, with the reason; send nothing')
    .option('--state <file>', 'remember the last key handled in FILE; a rerun goes on after it (removed when the run finishes)')
    .option('--page-size <n>', 'ListObjectsV2 page size (1 to 1000)', wholeNumber(1, 1000), 1000)
    .option('--json', 'print the counts as one line of JSON on stdout, and one JSON line per re-enqueued object on stderr');
  addConnectionOptions(command, ['rawBucket', 'queueUrl', 'processedBucket', 'processedPrefix', 'sources']);
  addExpectedOwnerOption(command);
  command.addHelpText(
    'after',
    '\nOutputs are found as the worker writes them: PROCESSED_BUCKET/PREFIX, REJECTED_BUCKET/PREFIX, OUTPUT_FORMAT (jsonl: the processed and\nthe rejected object are checked; parquet: the rejected one, always written). HeadObject per output: 1 or 2 requests per object.\n' +
      'A missing output bucket is refused before anything is checked.\n\n' +
      'With SOURCE_AFTER_SUCCESS=move the worker copies each raw object under SOURCE_ARCHIVE_PREFIX (default archive/) in the raw bucket,\n' +
      'unless SOURCE_ARCHIVE_BUCKET names another. Those copies are left out only when this command too gets SOURCE_AFTER_SUCCESS=move\n' +
      '(and the same archive settings), or when --exclude-prefix names the archive prefix; else they read as missing and are re-sent.\n\n' +
      'With SOURCES (or --sources) and no --raw-bucket, every source is swept in turn (its bucket, under its prefix, narrowed by --prefix),\n' +
      "and each object's outputs are looked for under PROCESSED_PREFIX / REJECTED_PREFIX + its source's outputPrefix. A source's\n" +
      'expectedBucketOwner goes on every call to its bucket; --expected-bucket-owner does so for a bucket named with --raw-bucket.\n' +
      'With --raw-bucket and SOURCES, keys of that bucket in no source are excluded (the worker does not take them).',
  );
  command.action(async (flags: ReconcileFlags) => {
    const { context } = host;
    let source = '';
    try {
      await reconcile(host, flags, (described) => {
        source = described;
      });
    } catch (error) {
      // The scheduled run's metrics come from the summary line: a run that fails before it sweeps still prints one.
      if (flags.json === true) context.stdout.write(`${JSON.stringify(failedBeforeSweep({ dryRun: flags.dryRun === true, source }, oneLine(error)))}\n`);
      throw error;
    }
  });
}

async function reconcile(host: CommandHost, flags: ReconcileFlags, onSource: (source: string) => void): Promise<void> {
  const { context } = host;
  const json = flags.json === true;
  const dryRun = flags.dryRun === true;
  const connection = resolveConnection(flags, context.env);
  const raw = resolveRawSide(flags, context.env);
  const owners = bucketOwners(raw);
  const queue = resolveQueue(flags, context.env);
  const location = { ...resolveOutputLocation(flags, context.env), format: resolveOutputFormat(context.env) };
  const sourceAction = resolveSourceAction(context.env);
  const excluded = excludePrefixes(flags.excludePrefix);
  const specs = sweepSpecs(flags, raw, owners);
  const description = specs.map((spec) => spec.description).join(', ');
  // With SOURCES the report says what each source held; its totals stay where they always were.
  const perSource = raw.bucket === undefined && flags.inventory === undefined;
  onSource(description);
  const state = flags.state === undefined ? undefined : readSweepState(flags.state);
  if (state !== undefined && state.sweep !== description) {
    throw new UsageError(`--state ${flags.state} is for "${state.sweep}", not "${description}"; remove it to start afresh`);
  }
  const firstSpec = state?.source ?? 0;
  const since = flags.since === undefined ? undefined : sinceFlag(flags.since, context.clock.now());
  // On resume, the window the sweep started with: a relative --since must not move between runs.
  const modifiedAfter = state?.modifiedAfter !== undefined && since !== undefined ? new Date(state.modifiedAfter) : since;
  const logBatch = objectLogger(context, json, dryRun);
  const saveState = (source: number, position: SweepPosition) => {
    if (flags.state === undefined) return;
    writeSweepState(flags.state, {
      version: 1,
      sweep: description,
      ...(modifiedAfter ? { modifiedAfter: modifiedAfter.toISOString() } : {}),
      ...(specs.length > 1 ? { source } : {}),
      after: position,
    });
  };

  const [report, exitCode] = await withAwsClients(context, connection, async (clients): Promise<[ReconcileReport, ExitCode]> => {
    const queueUrl = await queueUrlOf(clients.sqs, queue);
    await requireBucketsExist(clients.s3, outputBuckets(location), owners);
    const base = { dryRun, source: description, ...(modifiedAfter ? { modifiedAfter: modifiedAfter.toISOString() } : {}) };
    // In text mode the keys go to stdout as they are sent: no bar over them on the same terminal.
    const progress = startProgress(context, json || dryRun || context.stdout.isTTY === true, 0, PROGRESS_UNITS.objects);
    const rateLimiter = createRateLimiter(flags.rate, context.clock);
    try {
      const result = await sweepEach(specs.slice(firstSpec), async (spec, offset, before) => {
        const index = firstSpec + offset;
        const after = index === firstSpec ? state?.after : undefined;
        const { target, pages } = await spec.open(clients.s3, after);
        const outputPrefixOf = (key: string) => {
          const place = keyPlace(raw.sources, target, key);
          return place.kind === 'swept' ? place.outputPrefix : undefined;
        };
        return sweep(clients.sqs, {
          pages,
          // The move mode's archived copies have no outputs of their own, and the worker ignores them; so are keys in no source.
          excluded: (object) =>
            underAnyPrefix(object.key, excluded) || isArchiveCopy({ bucket: target.bucket, key: object.key }, sourceAction) || outputPrefixOf(object.key) === undefined,
          inScope: (object) => inScope(object, { prefix: flags.prefix, suffixes: flags.suffix, modifiedAfter }),
          decide: reconcileDecide(clients.s3, target.bucket, { location, outputPrefixOf, owners }),
          send: { rawBucket: target.bucket, queueUrl, dryRun, rateLimiter, retry: sendRetry(context) },
          signal: context.signal,
          onBatch: (batch) => logBatch(target.bucket, batch),
          onProgress: (tally) => {
            const sum = addTally(before, tally);
            progress.update(progressDone(sum), sum.matched);
          },
          ...(dryRun ? {} : { onCheckpoint: (position: SweepPosition) => saveState(index, position) }),
        });
      });
      if (result.stoppedBy === 'done' && !dryRun && flags.state !== undefined) removeSweepState(flags.state);
      const sources = perSource ? { sources: result.each.map(({ target: spec, tally }) => ({ source: spec.description, ...reportCounts(tally) })) } : {};
      const report: ReconcileReport = {
        ...reportCounts(result.total),
        ...base,
        stoppedBy: result.stoppedBy,
        ...(result.error === undefined ? {} : { error: result.error.message }),
        ...sources,
      };
      return [report, result.stoppedBy === 'done' ? EXIT_CODES.ok : result.stoppedBy === 'interrupted' ? EXIT_CODES.partial : EXIT_CODES.failed];
    } finally {
      progress.stop();
    }
  });
  if (json) context.stdout.write(`${JSON.stringify(report)}\n`);
  else writeLines(context.stdout, summaryLines(report, flags.state));
  if (report.error !== undefined) context.stderr.write(`error: ${report.error}\n`);
  host.exit(exitCode);
}
