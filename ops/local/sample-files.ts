/**
 * The sample files `npm start` puts through the pipeline (S3 put → notification → queue → worker) and
 * what became of each: the worker's report and the first lines of both outputs, read back from S3.
 */
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FileReport } from '../../worker/telemetry.ts';
import { withTimeout } from './child-processes.ts';

export interface SampleFile {
  /** Under data/. */
  readonly file: URL;
  readonly key: string;
}

export const SAMPLE_FILES: readonly SampleFile[] = [
  // The original system's five records, all processed.
  { file: new URL('../../data/sample_data.jsonl', import.meta.url), key: 'samples/sample_data.jsonl' },
  // One line of each kind: processed (a known and an unknown device), filtered, and rejected for three reasons.
  { file: new URL('../../data/sample_outcomes.jsonl', import.meta.url), key: 'samples/sample_outcomes.jsonl' },
];

/** A line of the rejected output, as the worker writes it. */
export interface RejectedLine {
  readonly line: number;
  readonly reason: string;
  readonly field?: string;
  readonly message: string;
}

export interface SampleOutcome {
  readonly bucket: string;
  readonly key: string;
  readonly report: FileReport;
  /** The first lines of the JSON Lines processed output; none for Parquet or gzip. */
  readonly firstRecords: readonly string[];
  /** The first lines of the rejected output. */
  readonly rejectedLines: readonly RejectedLine[];
}

export interface SampleRunDeps {
  readonly s3: S3Client;
  /** Registers a listener for every file the worker finishes. */
  readonly onFile: (listener: (report: FileReport) => void) => void;
}

/** Puts every sample into `bucket` and resolves with each one's report, in SAMPLE_FILES order; bounded by timeoutMs. */
export async function runSamples(deps: SampleRunDeps, bucket: string, timeoutMs: number): Promise<FileReport[]> {
  const reports = SAMPLE_FILES.map((sample) => {
    let resolveReport: (report: FileReport) => void = () => undefined;
    const promise = new Promise<FileReport>((resolve) => (resolveReport = resolve));
    return { key: sample.key, promise, resolve: (report: FileReport) => resolveReport(report) };
  });
  deps.onFile((report) => {
    if (report.ref.bucket !== bucket) return;
    reports.find((entry) => entry.key === report.ref.key)?.resolve(report);
  });
  await Promise.all(
    SAMPLE_FILES.map(async ({ file, key }) =>
      deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file), ContentType: 'application/x-ndjson' })),
    ),
  );
  return withTimeout(Promise.all(reports.map((entry) => entry.promise)), timeoutMs, 'the sample files');
}

async function readLines(s3: S3Client, bucket: string, key: string, limit: number): Promise<string[]> {
  const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await output.Body?.transformToString('utf8')) ?? '';
  return text.split('\n').filter(Boolean).slice(0, limit);
}

function parseRejectedLine(text: string): RejectedLine {
  const parsed = JSON.parse(text) as Partial<RejectedLine>;
  return {
    line: Number(parsed.line),
    reason: String(parsed.reason),
    ...(typeof parsed.field === 'string' ? { field: parsed.field } : {}),
    message: String(parsed.message ?? ''),
  };
}

/** The report with the first `limit` lines of each output read back from S3. */
export async function readSampleOutcome(s3: S3Client, report: FileReport, limit: number): Promise<SampleOutcome> {
  const base = { bucket: report.ref.bucket, key: report.ref.key, report };
  const result = report.result;
  if (result?.outcome !== 'succeeded') return { ...base, firstRecords: [], rejectedLines: [] };
  const [processed] = result.outputs.processed;
  const { rejected } = result.outputs;
  const jsonLines = processed !== undefined && result.parquetObjects === undefined && !result.gzip;
  const [firstRecords, rejectedLines] = await Promise.all([
    jsonLines ? readLines(s3, processed.bucket, processed.key, limit) : Promise.resolve([]),
    result.gzip || rejected.bytes === 0 ? Promise.resolve([]) : readLines(s3, rejected.bucket, rejected.key, limit),
  ]);
  return { ...base, firstRecords, rejectedLines: rejectedLines.map(parseRejectedLine) };
}
