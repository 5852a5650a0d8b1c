/**
 * `reconcile` and `backfill` with SOURCES, through the real CLI against the emulator: two sources (a prefix of the
 * pipeline's raw bucket, and a second bucket "in another account" with an expectedBucketOwner), outputs under each
 * source's outputPrefix. Only the objects whose outputs are missing there are re-enqueued, each from its own source;
 * every request on the owned bucket carries ExpectedBucketOwner on the wire.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalResources } from '../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../worker/common/aws-clients.ts';
import { provenanceMetadata } from '../../../worker/common/provenance.ts';
import { readSweepState, writeSweepState } from '../../../ops/cli/object-sweep/sweep-state.ts';
import { pipelineEnv, runOps } from '../../support/cli-harness.ts';
import { testClients, uniqueName } from '../../support/emulator.ts';
import { COUNTS, putRaw, queuedMessages, silentStack, type ReconcileJson } from './cli/reconcile-support.ts';

const PARTNER_ACCOUNT = '111122223333';

let clients: AwsClients;
const folder = mkdtempSync(join(tmpdir(), 'reconcile-sources-'));

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
  rmSync(folder, { recursive: true, force: true });
});

interface SourcesStack {
  readonly resources: LocalResources;
  readonly partnerBucket: string;
  readonly env: Record<string, string>;
}

/** Writes both outputs of s3://bucket/key as the worker does with this outputPrefix (PROCESSED_PREFIX "", REJECTED_PREFIX "rejected/"). */
async function putOutputsAt(resources: LocalResources, outputPrefix: string, bucket: string, key: string, eTag: string): Promise<void> {
  const Metadata = provenanceMetadata({ bucket, key, eTag }, COUNTS, '0.1.0');
  for (const outputKey of [`${outputPrefix}${key}`, `rejected/${outputPrefix}${key}`]) {
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.processedBucket, Key: outputKey, Body: '\n', Metadata }));
  }
}

/**
 * Source 1: the raw bucket's fleet/ (outputs under fleet-out/); source 2: a partner bucket's in/ (outputs under
 * partner/, owned by PARTNER_ACCOUNT). In each, one object with its outputs and one without; outside both, objects
 * no sweep may touch.
 */
async function sourcesStack(): Promise<SourcesStack> {
  const resources = await silentStack(clients);
  const partnerBucket = uniqueName('partner');
  await clients.s3.send(new CreateBucketCommand({ Bucket: partnerBucket }));
  const sources = [
    { bucket: resources.rawBucket, prefix: 'fleet/', outputPrefix: 'fleet-out/' },
    { bucket: partnerBucket, prefix: 'in/', outputPrefix: 'partner/', expectedBucketOwner: PARTNER_ACCOUNT },
  ];
  const done = await putRaw(clients, resources.rawBucket, 'fleet/done.jsonl', '{"a":1}\n');
  const lost = await putRaw(clients, resources.rawBucket, 'fleet/lost.jsonl', '{"a":2}\n');
  await putRaw(clients, resources.rawBucket, 'other/outside.jsonl', '{"a":3}\n');
  const partnerDone = await putRaw(clients, partnerBucket, 'in/done.jsonl.zst', 'zstd bytes');
  await putRaw(clients, partnerBucket, 'in/lost.jsonl', '{"b":2}\n');
  await putRaw(clients, partnerBucket, 'elsewhere/outside.jsonl', '{"b":3}\n');
  await putOutputsAt(resources, 'fleet-out/', resources.rawBucket, 'fleet/done.jsonl', done);
  // Outputs at the raw key itself, where they were before SOURCES: not where the worker now writes fleet/lost.jsonl's.
  await putOutputsAt(resources, '', resources.rawBucket, 'fleet/lost.jsonl', lost);
  await putOutputsAt(resources, 'partner/', partnerBucket, 'in/done.jsonl.zst', partnerDone);
  // RAW_BUCKET stays set, as a deployment moving to SOURCES may leave it: SOURCES is what is swept.
  return { resources, partnerBucket, env: { ...pipelineEnv(resources), SOURCES: JSON.stringify(sources) } };
}

interface RecordedRequest {
  readonly command: string;
  readonly bucket: string | undefined;
  readonly inputOwner: string | undefined;
  readonly headerOwner: string | undefined;
}

/** Records every S3 request of the CLI's own client: the command's Bucket and ExpectedBucketOwner, and the header sent. */
function recordS3(into: RecordedRequest[]) {
  return (cliClients: AwsClients) => {
    cliClients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string; ExpectedBucketOwner?: string };
        const { headers } = args.request as { headers: Record<string, string> };
        into.push({ command: String(context.commandName), bucket: input.Bucket, inputOwner: input.ExpectedBucketOwner, headerOwner: headers['x-amz-expected-bucket-owner'] });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordExpectedBucketOwner' },
    );
  };
}

type SourcesReport = ReconcileJson & { sources: Array<{ source: string; listed: number; matched: number; current: number; missing: number; sent: number }> };

describe('reconcile with SOURCES', () => {
  it('sweeps each source under its prefix, finds outputs under its outputPrefix, and re-enqueues exactly the missing ones from each', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();

    const run = await runOps(['reconcile', '--json'], { env });

    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const report = run.json<SourcesReport>();
    expect(report).toMatchObject({ listed: 4, excluded: 0, matched: 4, current: 2, missing: 2, stale: 0, incomplete: 0, sent: 2, stoppedBy: 'done' });
    expect(report.source).toBe(`s3://${resources.rawBucket}/fleet/, s3://${partnerBucket}/in/`);
    expect(report.sources).toEqual([
      expect.objectContaining({ source: `s3://${resources.rawBucket}/fleet/`, listed: 2, matched: 2, current: 1, missing: 1, sent: 1 }),
      expect.objectContaining({ source: `s3://${partnerBucket}/in/`, listed: 2, matched: 2, current: 1, missing: 1, sent: 1 }),
    ]);
    const messages = await queuedMessages(clients, resources.queueUrl);
    expect(messages.map(({ bucket, key }) => ({ bucket, key })).sort((a, b) => a.bucket.localeCompare(b.bucket))).toEqual(
      [
        { bucket: resources.rawBucket, key: 'fleet/lost.jsonl' },
        { bucket: partnerBucket, key: 'in/lost.jsonl' },
      ].sort((a, b) => a.bucket.localeCompare(b.bucket)),
    );
    for (const message of messages) expect(message).toMatchObject({ type: 'iot-ingest.object', version: 1, size: expect.any(Number), eTag: expect.any(String) });
  });

  it('without --json: the totals, what was checked, then one line per source', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();

    const run = await runOps(['reconcile', '--dry-run'], { env });

    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().split('\n').slice(-4)).toEqual([
      'dry run: listed 4, matched 4: current 2, missing 2, stale 0, incomplete 0; would send 2 (the keys above); nothing was sent',
      `checked s3://${resources.rawBucket}/fleet/, s3://${partnerBucket}/in/`,
      `  s3://${resources.rawBucket}/fleet/: listed 2, matched 2, would send 1`,
      `  s3://${partnerBucket}/in/: listed 2, matched 2, would send 1`,
    ]);
  });

  it('puts ExpectedBucketOwner on every request to the owned bucket, and on no other', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();
    const recorded: RecordedRequest[] = [];

    const run = await runOps(['reconcile', '--dry-run', '--json', '--page-size', '1'], { env, prepareClients: recordS3(recorded) });

    expect(run.exitCode).toBe(0);
    const onPartner = recorded.filter((request) => request.bucket === partnerBucket);
    expect(onPartner.map((request) => request.command)).toEqual(expect.arrayContaining(['ListObjectsV2Command']));
    expect(onPartner.filter((request) => request.command === 'ListObjectsV2Command').length).toBeGreaterThanOrEqual(2);
    for (const request of onPartner) expect(request).toMatchObject({ inputOwner: PARTNER_ACCOUNT, headerOwner: PARTNER_ACCOUNT });
    const elsewhere = recorded.filter((request) => request.bucket !== partnerBucket);
    expect(elsewhere.map((request) => request.bucket)).toEqual(expect.arrayContaining([resources.rawBucket, resources.processedBucket]));
    for (const request of elsewhere) expect(request).toMatchObject({ inputOwner: undefined, headerOwner: undefined });
  });

  it('--raw-bucket sweeps that bucket alone: with the owner SOURCES gives it, and its keys in no source left out as excluded', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();
    const recorded: RecordedRequest[] = [];

    const run = await runOps(['reconcile', '--json', '--raw-bucket', partnerBucket], { env, prepareClients: recordS3(recorded) });

    expect(run.exitCode).toBe(0);
    expect(run.json<SourcesReport>()).toMatchObject({ listed: 3, excluded: 1, matched: 2, current: 1, missing: 1, sent: 1, source: `s3://${partnerBucket}/` });
    expect(run.json<SourcesReport>().sources).toBeUndefined();
    expect((await queuedMessages(clients, resources.queueUrl)).map(({ bucket, key }) => `${bucket}/${key}`)).toEqual([`${partnerBucket}/in/lost.jsonl`]);
    for (const request of recorded.filter((each) => each.bucket === partnerBucket)) expect(request.headerOwner).toBe(PARTNER_ACCOUNT);
  });

  it('--expected-bucket-owner puts the account on every request to the bucket named with --raw-bucket, and only there', async () => {
    const { resources, env } = await sourcesStack();
    const recorded: RecordedRequest[] = [];

    const run = await runOps(['reconcile', '--dry-run', '--json', '--raw-bucket', resources.rawBucket, '--expected-bucket-owner', '444455556666'], {
      env,
      prepareClients: recordS3(recorded),
    });

    expect(run.exitCode).toBe(0);
    const onRaw = recorded.filter((request) => request.bucket === resources.rawBucket);
    expect(onRaw.length).toBeGreaterThan(0);
    for (const request of onRaw) expect(request).toMatchObject({ inputOwner: '444455556666', headerOwner: '444455556666' });
    for (const request of recorded.filter((each) => each.bucket !== resources.rawBucket)) expect(request.headerOwner).toBeUndefined();
  });

  it('--state goes on in the source it stopped in: the sources before it are not swept again', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();
    const state = join(folder, 'state.json');
    const sweep = `s3://${resources.rawBucket}/fleet/, s3://${partnerBucket}/in/`;
    writeSweepState(state, { version: 1, sweep, source: 1, after: { key: 'in/done.jsonl.zst' } });

    const run = await runOps(['reconcile', '--json', '--state', state], { env });

    expect(run.exitCode).toBe(0);
    expect(run.json<SourcesReport>()).toMatchObject({ listed: 1, missing: 1, sent: 1 });
    expect(run.json<SourcesReport>().sources.map(({ source }) => source)).toEqual([`s3://${partnerBucket}/in/`]);
    expect((await queuedMessages(clients, resources.queueUrl)).map(({ bucket, key }) => `${bucket}/${key}`)).toEqual([`${partnerBucket}/in/lost.jsonl`]);
    expect(readSweepState(state)).toBeUndefined();
  });
});

describe('backfill with SOURCES', () => {
  it('--prefix "" sends every object of every source, each with its own bucket, and nothing outside them', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();
    const recorded: RecordedRequest[] = [];

    const run = await runOps(['backfill', '--prefix', '', '--json'], { env, prepareClients: recordS3(recorded) });

    expect(run.exitCode).toBe(0);
    const report = run.json<{ listed: number; matched: number; sent: number; sources: Array<{ source: string; sent: number }> }>();
    expect(report).toMatchObject({ listed: 4, matched: 4, sent: 4 });
    expect(report.sources.map(({ source, sent }) => [source, sent])).toEqual([
      [`s3://${resources.rawBucket}/fleet/`, 2],
      [`s3://${partnerBucket}/in/`, 2],
    ]);
    const sent = (await queuedMessages(clients, resources.queueUrl)).map(({ bucket, key }) => `${bucket}/${key}`).sort();
    expect(sent).toEqual(
      [`${resources.rawBucket}/fleet/done.jsonl`, `${resources.rawBucket}/fleet/lost.jsonl`, `${partnerBucket}/in/done.jsonl.zst`, `${partnerBucket}/in/lost.jsonl`].sort(),
    );
    for (const request of recorded.filter((each) => each.bucket === partnerBucket)) expect(request.headerOwner).toBe(PARTNER_ACCOUNT);
  });

  it('--skip-processed looks for the processed output under the source\'s outputPrefix', async () => {
    const { resources, partnerBucket, env } = await sourcesStack();

    const run = await runOps(['backfill', '--prefix', '', '--skip-processed', '--json'], { env });

    expect(run.json<{ skippedProcessed: number; sent: number }>()).toMatchObject({ skippedProcessed: 2, sent: 2 });
    const sent = (await queuedMessages(clients, resources.queueUrl)).map(({ bucket, key }) => `${bucket}/${key}`).sort();
    expect(sent).toEqual([`${resources.rawBucket}/fleet/lost.jsonl`, `${partnerBucket}/in/lost.jsonl`].sort());
  });
});
