/**
 * Requests counted by service and operation, and what they cost per file: the proxy counts every
 * exchange once it has ended, the bench takes the difference of two readings. Pure.
 */
import type { RequestKind, Service } from './request-kind.ts';

export type RequestCounts = Readonly<Record<Service, Readonly<Record<string, number>>>>;

/** The SQS requests a file costs: its share of receives and deletes, and any visibility changes (heartbeats). */
export const SQS_FILE_OPERATIONS = [
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
] as const;

export function emptyCounts(): RequestCounts {
  return { s3: {}, sqs: {} };
}

/** A mutable tally, read as RequestCounts. */
export class RequestCounter {
  private readonly tally: Record<Service, Record<string, number>> = { s3: {}, sqs: {} };

  add(kind: RequestKind): void {
    const byOperation = this.tally[kind.service];
    byOperation[kind.operation] = (byOperation[kind.operation] ?? 0) + 1;
  }

  read(): RequestCounts {
    return { s3: { ...this.tally.s3 }, sqs: { ...this.tally.sqs } };
  }
}

function difference(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [operation, count] of Object.entries(after)) {
    const delta = count - (before[operation] ?? 0);
    if (delta !== 0) out[operation] = delta;
  }
  return out;
}

/** The requests between two readings of the same counter. */
export function countsBetween(before: RequestCounts, after: RequestCounts): RequestCounts {
  return { s3: difference(after.s3, before.s3), sqs: difference(after.sqs, before.sqs) };
}

/** Requests of a service, all operations or only the ones named. */
export function requestTotal(counts: RequestCounts, service: Service, operations?: readonly string[]): number {
  return Object.entries(counts[service])
    .filter(([operation]) => operations === undefined || operations.includes(operation))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** SQS requests per file (receives, deletes, visibility changes), null without files. */
export function sqsRequestsPerFile(counts: RequestCounts, files: number): number | null {
  return files > 0 ? requestTotal(counts, 'sqs', SQS_FILE_OPERATIONS) / files : null;
}

/** Every S3 request per file (the get and the outputs' puts, or their multipart requests), null without files. */
export function s3RequestsPerFile(counts: RequestCounts, files: number): number | null {
  return files > 0 ? requestTotal(counts, 's3') / files : null;
}

export function isRequestCounts(value: unknown): value is RequestCounts {
  const isTally = (tally: unknown) =>
    typeof tally === 'object' && tally !== null && Object.values(tally).every((count) => typeof count === 'number');
  const candidate = value as { s3?: unknown; sqs?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && isTally(candidate.s3) && isTally(candidate.sqs);
}
