/** Shared by the reconcile tests: a pipeline whose raw bucket announces nothing, raw objects and outputs written directly. */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import type { AwsClients } from '../../../../worker/common/aws-clients.ts';
import type { ObjectMessage } from '../../../../worker/common/object-message.ts';
import { provenanceMetadata, type ProvenanceCounts } from '../../../../worker/common/provenance.ts';
import { createTestStack, receiveAll } from '../../../support/emulator.ts';

export interface ReconcileJson {
  listed: number;
  excluded: number;
  matched: number;
  current: number;
  missing: number;
  stale: number;
  incomplete: number;
  unprocessable: number;
  sent: number;
  dryRun: boolean;
  source: string;
  modifiedAfter?: string;
  stoppedBy: string;
}

/**
 * A pipeline whose bucket announces no .jsonl key: every raw object put here has "lost its event",
 * and only backfill or reconcile enqueue it. The queue is drained of its s3:TestEvent.
 */
export async function silentStack(clients: AwsClients): Promise<LocalResources> {
  const resources = await createTestStack(clients, { suffixes: ['.never-announced'] });
  await receiveAll(clients.sqs, resources.queueUrl);
  return resources;
}

/** Puts a raw object; returns its ETag without quotes. */
export async function putRaw(clients: AwsClients, bucket: string, key: string, body: string): Promise<string> {
  const { ETag } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return (ETag ?? '').replace(/"/g, '');
}

export const COUNTS: ProvenanceCounts = { processed: 1, filtered: 0, rejected: 0 };

export interface OutputWrite {
  readonly key: string;
  /** The raw ETag the output claims to be made from. */
  readonly eTag: string;
  /** Without counts: an output whose writer never finished. */
  readonly counts?: ProvenanceCounts | undefined;
  /** No provenance at all (written before provenance existed). */
  readonly bare?: boolean;
}

/** Writes an output object as the worker would: PROCESSED_PREFIX "" or REJECTED_PREFIX "rejected/" + raw key, with provenance. */
export async function putOutput(clients: AwsClients, resources: LocalResources, kind: 'processed' | 'rejected', write: OutputWrite): Promise<void> {
  const key = kind === 'processed' ? write.key : `rejected/${write.key}`;
  const metadata = write.bare ? undefined : provenanceMetadata({ bucket: resources.rawBucket, key: write.key, eTag: write.eTag }, write.counts, '0.1.0');
  await clients.s3.send(new PutObjectCommand({ Bucket: resources.processedBucket, Key: key, Body: '\n', ...(metadata ? { Metadata: metadata } : {}) }));
}

export async function putBothOutputs(clients: AwsClients, resources: LocalResources, write: OutputWrite): Promise<void> {
  await putOutput(clients, resources, 'processed', write);
  await putOutput(clients, resources, 'rejected', write);
}

export async function deleteObject(clients: AwsClients, bucket: string, key: string): Promise<void> {
  await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export async function queuedMessages(clients: AwsClients, queueUrl: string): Promise<ObjectMessage[]> {
  return (await receiveAll(clients.sqs, queueUrl, { waitTimeSeconds: 1 })).map((body) => JSON.parse(body) as ObjectMessage);
}

/** The stderr JSON lines reconcile logs, one per object re-enqueued (or, on a dry run, to be). */
export function objectLines(stderr: string): Array<{ msg: string; reason: string; bucket: string; key: string }> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; reason: string; bucket: string; key: string });
}
