/**
 * The smoke test end to end: put the smoke file into the raw bucket, wait (bounded) for its outputs and
 * check them, check the DLQ, read the metrics, fire an alarm, clean up. Every check ends as a row of
 * data; only the first reads of the two queues may throw (nothing reachable: the command's own error).
 * Clients, the clock and the abort signal are passed in.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isObjectMissing } from '../../../worker/errors.ts';
import { outputKeys, type OutputLocation } from '../../../worker/output/output-keys.ts';
import type { Clock } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { queueNameOf } from '../queue-targets.ts';
import { readQueueSnapshot } from '../queue-snapshot.ts';
import { fireSmokeAlarm, type AlarmApi, type AlarmLocator } from './alarm.ts';
import {
  CHECKS,
  fail,
  isDrained,
  judgeDeadLetterQueue,
  judgeProcessedJsonl,
  judgeProcessedParquet,
  judgeQueueMetrics,
  judgeRejected,
  judgeSucceededCounter,
  pass,
  skip,
  verdict,
  type CheckName,
  type CheckRow,
  type OutputRead,
  type QueueCounts,
} from './checks.ts';
import type { SmokeFile } from './file.ts';
import { fetchFailure, readSucceededFiles } from './metrics.ts';

/** Where the metrics check reads: a worker's /metrics, or (none reachable) the ingest queue itself. */
export type MetricsSource =
  | { readonly kind: 'prometheus'; readonly url: string; /** Given by the operator: unreachable is a failure, not a fallback. */ readonly explicit: boolean }
  | { readonly kind: 'queue'; readonly why: string };

export type AlarmPlan = { readonly kind: 'skip'; readonly why: string } | { readonly kind: 'fire'; readonly locator: AlarmLocator; readonly api: AlarmApi };

export interface SmokeTargets {
  readonly rawBucket: string;
  readonly output: OutputLocation & { readonly parquetPrefix: string };
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly metrics: MetricsSource;
  readonly alarm: AlarmPlan;
  /** On AWS: the queue's NumberOfMessagesDeleted, for the metrics check without a /metrics. */
  readonly deletedSince?: (queueName: string, sinceMs: number, nowMs: number) => Promise<number | undefined>;
}

export interface SmokeOptions {
  /** Bounds the wait for the outputs and then for the metrics, from the upload on. */
  readonly timeoutSeconds: number;
  readonly pollIntervalMs: number;
  /** Leave the smoke objects in place. */
  readonly keep: boolean;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Lines for people while the run waits (the command writes them to stderr). */
  readonly onProgress?: (line: string) => void;
}

export interface SmokeReport {
  readonly passed: boolean;
  readonly interrupted: boolean;
  readonly key: string;
  readonly objects: { readonly raw: string; readonly processed: string; readonly rejected: string };
  readonly checks: readonly CheckRow[];
}

interface Location {
  readonly bucket: string;
  readonly key: string;
}

type ObjectRead = { readonly found: true; readonly bytes: Uint8Array; readonly versionId?: string | undefined } | { readonly found: false; readonly lastError?: string };

const s3Uri = (location: Location) => `s3://${location.bucket}/${location.key}`;
const CLOUDWATCH_EVERY_MS = 15_000;
const INTERRUPTED = 'interrupted (Ctrl-C)';

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function readObject(s3: S3Client, location: Location): Promise<ObjectRead> {
  try {
    const { Body, VersionId } = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return { found: true, bytes: (await Body?.transformToByteArray()) ?? new Uint8Array(), versionId: VersionId };
  } catch (error) {
    // Without s3:ListBucket, S3 answers a missing key with 403: keep waiting, and say so if it lasts.
    return isObjectMissing(error) ? { found: false } : { found: false, lastError: describeError(error) };
  }
}

const asText = (read: ObjectRead): OutputRead => (read.found ? { found: true, text: Buffer.from(read.bytes).toString('utf8') } : read);

function countsOf(snapshot: QueueCounts): QueueCounts {
  return { visible: snapshot.visible, inFlight: snapshot.inFlight, delayed: snapshot.delayed };
}

class SmokeRun {
  private readonly s3: S3Client;
  private readonly sqs: SQSClient;
  private readonly file: SmokeFile;
  private readonly targets: SmokeTargets;
  private readonly options: SmokeOptions;
  private readonly rows: CheckRow[] = [];
  private readonly locations: { processed: Location; parquet: Location; rejected: Location; raw: Location };
  private rawVersionId: string | undefined;
  private uploaded = false;
  private processedRead: ObjectRead = { found: false };
  private processedFoundAt: Location | undefined;
  private rejectedRead: ObjectRead = { found: false };
  private deadlineMs = 0;
  private uploadedAtMs = 0;

  constructor(s3: S3Client, sqs: SQSClient, file: SmokeFile, targets: SmokeTargets, options: SmokeOptions) {
    this.s3 = s3;
    this.sqs = sqs;
    this.file = file;
    this.targets = targets;
    this.options = options;
    let keys: ReturnType<typeof outputKeys>;
    try {
      keys = outputKeys(targets.output, file.key);
    } catch (error) {
      // Prefixes the worker itself would refuse the file for: a setting to fix, before anything is put.
      throw new UsageError(`the output prefixes do not work for ${file.key}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.locations = {
      raw: { bucket: targets.rawBucket, key: file.key },
      processed: keys.processed,
      parquet: { bucket: targets.output.processedBucket, key: targets.output.parquetPrefix + file.parquetKeyWithoutPrefix },
      rejected: keys.rejected,
    };
  }

  private get interrupted(): boolean {
    return this.options.signal.aborted;
  }

  private get waitedSeconds(): number {
    return Math.round((Math.min(this.options.clock.now(), this.deadlineMs) - this.uploadedAtMs) / 1000);
  }

  /** Runs a check unless Ctrl-C came first; its row either way. */
  private async check(name: CheckName, run: () => Promise<CheckRow>): Promise<void> {
    this.rows.push(this.interrupted ? skip(name, INTERRUPTED) : await run());
  }

  /** Sleeps one poll interval, never past the deadline; false once the deadline passed or Ctrl-C came. */
  private async pause(): Promise<boolean> {
    const remaining = this.deadlineMs - this.options.clock.now();
    if (remaining <= 0 || this.interrupted) return false;
    await this.options.clock.sleep(Math.min(this.options.pollIntervalMs, remaining), this.options.signal);
    return !this.interrupted;
  }

  async run(): Promise<SmokeReport> {
    // Both queues answer, or the command stops here with the SDK's error, before anything is put.
    await Promise.all([readQueueSnapshot(this.sqs, this.targets.queueUrl), readQueueSnapshot(this.sqs, this.targets.dlqUrl)]);
    const metricsBaseline = await this.readMetricsBaseline();

    await this.check(CHECKS.upload, () => this.upload());
    if (this.uploaded) {
      await this.waitForOutputs();
      // An output still missing after Ctrl-C was not waited for long enough to fail.
      const cut = this.interrupted;
      this.rows.push(
        cut && !this.processedRead.found ? skip(CHECKS.processed, INTERRUPTED) : this.judgeProcessed(),
        cut && !this.rejectedRead.found
          ? skip(CHECKS.rejected, INTERRUPTED)
          : judgeRejected(this.file.rejectedOutput, asText(this.rejectedRead), s3Uri(this.locations.rejected), this.waitedSeconds),
      );
    } else {
      for (const name of [CHECKS.processed, CHECKS.rejected]) this.rows.push(skip(name, this.interrupted ? INTERRUPTED : 'nothing was uploaded'));
    }
    await this.check(CHECKS.deadLetterQueue, () => this.checkDeadLetterQueue());
    await this.check(CHECKS.metrics, () => this.checkMetrics(metricsBaseline));
    await this.check(CHECKS.alarm, () => this.fireAlarm());
    this.rows.push(await this.cleanUp());

    const interrupted = this.interrupted;
    return {
      passed: verdict(this.rows, interrupted).passed,
      interrupted,
      key: this.file.key,
      objects: {
        raw: s3Uri(this.locations.raw),
        processed: s3Uri(this.processedFoundAt ?? this.locations.processed),
        rejected: s3Uri(this.locations.rejected),
      },
      checks: this.rows,
    };
  }

  private async upload(): Promise<CheckRow> {
    const where = s3Uri(this.locations.raw);
    try {
      const { VersionId } = await this.s3.send(
        new PutObjectCommand({ Bucket: this.locations.raw.bucket, Key: this.locations.raw.key, Body: this.file.body, ContentType: 'application/x-ndjson' }),
      );
      this.rawVersionId = VersionId;
      this.uploaded = true;
      this.options.onProgress?.(`put ${where}; waiting up to ${this.options.timeoutSeconds} s for its outputs (Ctrl-C stops and cleans up)`);
      return pass(CHECKS.upload, `${where}: 3 lines (processed, filtered, rejected), ${Buffer.byteLength(this.file.body)} bytes`);
    } catch (error) {
      return fail(CHECKS.upload, `${where}: ${describeError(error)}`);
    } finally {
      this.uploadedAtMs = this.options.clock.now();
      this.deadlineMs = this.uploadedAtMs + this.options.timeoutSeconds * 1000;
    }
  }

  /** Polls until both outputs are there (processed as JSON Lines, or as Parquet), the deadline, or Ctrl-C. */
  private async waitForOutputs(): Promise<void> {
    do {
      if (!this.rejectedRead.found) this.rejectedRead = await readObject(this.s3, this.locations.rejected);
      if (!this.processedRead.found) {
        for (const location of [this.locations.processed, this.locations.parquet]) {
          const read = await readObject(this.s3, location);
          if (read.found || location === this.locations.processed) this.processedRead = read;
          if (read.found) {
            this.processedFoundAt = location;
            break;
          }
        }
      }
      if (this.processedRead.found && this.rejectedRead.found) return;
    } while (await this.pause());
  }

  private judgeProcessed(): CheckRow {
    const read = this.processedRead;
    if (read.found && this.processedFoundAt === this.locations.parquet) return judgeProcessedParquet(read.bytes, s3Uri(this.locations.parquet));
    return judgeProcessedJsonl(this.file.processedOutput, asText(read), s3Uri(this.locations.processed), this.waitedSeconds);
  }

  private async checkDeadLetterQueue(): Promise<CheckRow> {
    try {
      const snapshot = await readQueueSnapshot(this.sqs, this.targets.dlqUrl);
      return judgeDeadLetterQueue(snapshot.name, countsOf(snapshot));
    } catch (error) {
      return fail(CHECKS.deadLetterQueue, `${queueNameOf(this.targets.dlqUrl)}: ${describeError(error)}`);
    }
  }

  private async readMetricsBaseline(): Promise<{ source: MetricsSource; before: number } | { failed: CheckRow }> {
    const { metrics } = this.targets;
    if (metrics.kind === 'queue') return { source: metrics, before: 0 };
    try {
      return { source: metrics, before: await readSucceededFiles(metrics.url, this.options.signal) };
    } catch (error) {
      const why = `cannot read ${metrics.url} (${fetchFailure(error)})`;
      if (metrics.explicit) return { failed: fail(CHECKS.metrics, why) };
      return { source: { kind: 'queue', why: `no /metrics: ${why}` }, before: 0 };
    }
  }

  /** Polls (at least once, until the deadline) until the metrics show the file. */
  private async checkMetrics(baseline: { source: MetricsSource; before: number } | { failed: CheckRow }): Promise<CheckRow> {
    if ('failed' in baseline) return baseline.failed;
    const { source, before } = baseline;
    let row: CheckRow;
    let lastCloudWatchMs = -Infinity;
    let deleted: number | undefined;
    do {
      if (source.kind === 'prometheus') {
        try {
          row = judgeSucceededCounter(source.url, before, await readSucceededFiles(source.url, this.options.signal));
        } catch (error) {
          row = fail(CHECKS.metrics, `cannot read ${source.url} (${fetchFailure(error)})`);
        }
      } else {
        try {
          const snapshot = await readQueueSnapshot(this.sqs, this.targets.queueUrl);
          const now = this.options.clock.now();
          if (this.targets.deletedSince && !isDrained(snapshot) && now - lastCloudWatchMs >= CLOUDWATCH_EVERY_MS) {
            lastCloudWatchMs = now;
            deleted = await this.targets.deletedSince(snapshot.name, this.uploadedAtMs, now).catch(() => deleted);
          }
          row = judgeQueueMetrics(snapshot.name, countsOf(snapshot), deleted, source.why);
        } catch (error) {
          row = fail(CHECKS.metrics, `${source.why}; ${queueNameOf(this.targets.queueUrl)}: ${describeError(error)}`);
        }
      }
      if (row.result === 'pass') return row;
    } while (await this.pause());
    return row;
  }

  private async fireAlarm(): Promise<CheckRow> {
    const { alarm } = this.targets;
    if (alarm.kind === 'skip') return skip(CHECKS.alarm, alarm.why);
    return fireSmokeAlarm(alarm.api, alarm.locator, { smokeKey: this.file.key });
  }

  /** Runs even after Ctrl-C: the smoke objects must not outlive the run unless --keep. */
  private async cleanUp(): Promise<CheckRow> {
    const found: Array<Location & { versionId?: string | undefined }> = [];
    if (this.uploaded) found.push({ ...this.locations.raw, versionId: this.rawVersionId });
    if (this.processedRead.found && this.processedFoundAt) found.push({ ...this.processedFoundAt, versionId: this.processedRead.versionId });
    if (this.rejectedRead.found) found.push({ ...this.locations.rejected, versionId: this.rejectedRead.versionId });
    if (found.length === 0) return skip(CHECKS.cleanup, 'nothing was stored');
    if (this.options.keep) return skip(CHECKS.cleanup, `--keep: ${found.map(s3Uri).join(', ')}`);
    const failures: string[] = [];
    for (const location of found) {
      try {
        // The raw bucket is versioned on AWS: deleting the version leaves no trace of the run.
        const version = location.versionId === undefined || location.versionId === 'null' ? {} : { VersionId: location.versionId };
        await this.s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key, ...version }));
      } catch (error) {
        failures.push(`${s3Uri(location)}: ${describeError(error)}`);
      }
    }
    if (failures.length > 0) return fail(CHECKS.cleanup, `could not delete ${failures.join('; ')}`);
    const notFound = [
      ...(this.processedRead.found ? [] : [s3Uri(this.locations.processed)]),
      ...(this.rejectedRead.found ? [] : [s3Uri(this.locations.rejected)]),
    ];
    const later = this.uploaded && notFound.length > 0 ? `; not found, so not deleted if they appear later: ${notFound.join(', ')}` : '';
    return pass(CHECKS.cleanup, `deleted ${found.length} object(s)${later}`);
  }
}

/** Runs the smoke test; throws only when the queues cannot be read at all (nothing was put then). */
export function runSmoke(s3: S3Client, sqs: SQSClient, file: SmokeFile, targets: SmokeTargets, options: SmokeOptions): Promise<SmokeReport> {
  return new SmokeRun(s3, sqs, file, targets, options).run();
}
