/**
 * `reconcile` with the real worker on the emulator: the raw bucket announces nothing, so every object
 * here has lost its event and only reconcile brings it to the worker. A deleted processed output comes
 * back; a raw object overwritten without an event is found stale and its new version processed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { readProvenance } from '../../../../worker/common/provenance.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { pipelineEnv, runOps } from '../../../support/cli-harness.ts';
import { readObjectText, testClients, waitFor } from '../../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../../support/worker-harness.ts';
import { deleteObject, objectLines, putRaw, silentStack, type ReconcileJson } from './reconcile-support.ts';

let clients: AwsClients;
let resources: LocalResources;
let worker: TestWorker;

const LINE_A = '{"device_id":"sensor-alpha","temperature":21.5,"humidity":40.5,"timestamp":"2025-07-11T11:00:00Z"}';
const LINE_B1 = '{"device_id":"sensor-alpha","temperature":10,"humidity":50,"timestamp":"2025-07-11T12:00:00Z"}';
const LINE_B2 = '{"device_id":"sensor-alpha","temperature":30,"humidity":60,"timestamp":"2025-07-11T13:00:00Z"}';

beforeAll(async () => {
  clients = testClients();
  resources = await silentStack(clients);
  worker = await startTestWorker(resources);
});

afterAll(async () => {
  await worker.stop();
  destroyAwsClients(clients);
});

async function reconcile(): Promise<ReconcileJson & { keys: string[] }> {
  const run = await runOps(['reconcile', '--json'], { env: pipelineEnv(resources) });
  expect(run.exitCode).toBe(0);
  return { ...run.json<ReconcileJson>(), keys: objectLines(run.stderr).map((line) => line.key) };
}

async function sourceETagOf(key: string): Promise<string | undefined> {
  const head = await clients.s3.send(new HeadObjectCommand({ Bucket: resources.processedBucket, Key: key }));
  return readProvenance(head.Metadata)?.sourceETag;
}

/** Waits until the worker has written both outputs of `key` from the raw version `eTag`, with counts. */
async function processedFrom(key: string, eTag: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        const outputs = await Promise.all([key, `rejected/${key}`].map((output) => clients.s3.send(new HeadObjectCommand({ Bucket: resources.processedBucket, Key: output }))));
        const carried = outputs.map((head) => readProvenance(head.Metadata));
        return carried.every((provenance) => provenance?.sourceETag === eTag && provenance.lines !== undefined) ? true : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 20_000, what: `the worker's outputs of ${key} from ${eTag}` },
  );
}

describe('reconcile with the worker', () => {
  it('brings back objects whose event was lost, a deleted processed output, and the new version of an object overwritten without an event', async () => {
    const eTagA = await putRaw(clients, resources.rawBucket, 'in/a.jsonl', `${LINE_A}\n`);
    const eTagB1 = await putRaw(clients, resources.rawBucket, 'in/b.jsonl', `${LINE_B1}\n`);

    // Never announced: both missing; reconcile sends them and the worker processes them.
    const first = await reconcile();
    expect(first).toMatchObject({ matched: 2, missing: 2, sent: 2 });
    await processedFrom('in/a.jsonl', eTagA);
    await processedFrom('in/b.jsonl', eTagB1);
    expect(await reconcile()).toMatchObject({ matched: 2, current: 2, missing: 0, stale: 0, incomplete: 0, sent: 0 });

    // A processed output deleted: missing, and the worker writes it again.
    const processedA = await readObjectText(clients.s3, resources.processedBucket, 'in/a.jsonl');
    await deleteObject(clients, resources.processedBucket, 'in/a.jsonl');
    const afterDelete = await reconcile();
    expect(afterDelete).toMatchObject({ current: 1, missing: 1, sent: 1, keys: ['in/a.jsonl'] });
    await processedFrom('in/a.jsonl', eTagA);
    expect(await readObjectText(clients.s3, resources.processedBucket, 'in/a.jsonl')).toBe(processedA);

    // b overwritten while its event is lost: its outputs were made from the old version.
    const eTagB2 = await putRaw(clients, resources.rawBucket, 'in/b.jsonl', `${LINE_B2}\n`);
    expect(eTagB2).not.toBe(eTagB1);
    const afterOverwrite = await reconcile();
    expect(afterOverwrite).toMatchObject({ current: 1, stale: 1, sent: 1, keys: ['in/b.jsonl'] });
    await processedFrom('in/b.jsonl', eTagB2);
    expect(await sourceETagOf('in/b.jsonl')).toBe(eTagB2);
    expect(await readObjectText(clients.s3, resources.processedBucket, 'in/b.jsonl')).toContain('"temperature":30');

    expect(await reconcile()).toMatchObject({ matched: 2, current: 2, sent: 0 });
  }, 90_000);
});
