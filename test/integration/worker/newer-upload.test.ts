/**
 * Two uploads of one key in flight at once: the older one, still being processed when the newer one has been
 * processed and stored its outputs, must not replace them (a new user's walk lost the newer records this way:
 * with SOURCE_AFTER_SUCCESS=delete the raw object was gone too). With the real worker, the real SDK and the
 * emulator's S3 notifications, on an unversioned and a versioned raw bucket.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Environment } from '../../../worker/config.ts';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import { readProvenance } from '../../../worker/common/provenance.ts';
import { createTestStack, readObjectText, testClients } from '../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../support/worker-harness.ts';

const OLDER = [JSON.stringify({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40 }), 'older-line-not-json'].join('\n');
const NEWER = [JSON.stringify({ device_id: 'sensor-beta', temperature: 22.5, humidity: 41 }), 'newer-line-not-json'].join('\n');
const KEY = 'site-1/readings.jsonl';

const clients: AwsClients = testClients();
const running: TestWorker[] = [];

afterEach(async () => {
  for (const harness of running.splice(0)) await harness.stop();
});

afterAll(() => {
  clients.s3.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
});

/**
 * Holds the worker's first GetObject of KEY (the older upload) until the newer upload, put just then, has been
 * processed to the end by the same worker; then lets the older file go on, its body already read.
 */
function holdOlderUntilNewerDone(raw: { bucket: string; harness?: TestWorker }) {
  const newer: { eTag?: string; versionId?: string | undefined } = {};
  const prepare = (s3: S3Client) => {
    let held = false;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string; Key?: string };
        if (context.commandName !== 'GetObjectCommand' || held || input.Bucket !== raw.bucket || input.Key !== KEY) return next(args);
        held = true;
        const answer = await next(args);
        const put = await new Promise<{ ETag?: string; VersionId?: string }>((resolve, reject) => {
          clients.s3.send(new PutObjectCommand({ Bucket: raw.bucket, Key: KEY, Body: NEWER })).then(resolve, reject);
        });
        newer.eTag = (put.ETag ?? '').replace(/"/g, '');
        newer.versionId = put.VersionId;
        await raw.harness?.waitForReport((report) => report.ref.eTag === newer.eTag && report.outcome === 'succeeded', 'the newer upload processed');
        return answer;
      },
      { step: 'initialize', name: 'holdOlderUntilNewerDone' },
    );
  };
  return { prepare, newer };
}

async function raceOnOneKey(env: Environment, versioned: boolean) {
  const raw: { bucket: string; harness?: TestWorker } = { bucket: '' };
  const race = holdOlderUntilNewerDone(raw);
  const resources = await createTestStack(clients);
  raw.bucket = resources.rawBucket;
  if (versioned) {
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: resources.rawBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const harness = await startTestWorker(resources, { MAX_FILES_IN_FLIGHT: '4', FILES_IN_FLIGHT_MODE: 'fixed', ...env }, race.prepare);
  raw.harness = harness;
  running.push(harness);
  const older = await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: KEY, Body: OLDER }));
  const olderReport = await harness.waitForReport((report) => report.ref.eTag === (older.ETag ?? '').replace(/"/g, ''), 'the older upload ended', 30_000);
  return { resources, harness, olderReport, newer: race.newer, olderVersionId: older.VersionId };
}

async function outputsProvenance(bucket: string, keys: readonly string[]) {
  return Promise.all(
    keys.map(async (key) => readProvenance((await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata)?.sourceETag),
  );
}

describe('an older upload that ends after a newer one of the same key', () => {
  it.each([
    ['unversioned', false],
    ['versioned', true],
  ])('on a %s bucket with SOURCE_AFTER_SUCCESS=delete ends superseded and leaves the newer outputs in place', async (_name, versioned) => {
    const { resources, harness, olderReport, newer } = await raceOnOneKey({ SOURCE_AFTER_SUCCESS: 'delete' }, versioned);

    expect(olderReport.outcome).toBe('superseded');
    expect(await outputsProvenance(resources.processedBucket, [KEY, `rejected/${KEY}`])).toStrictEqual([newer.eTag, newer.eTag]);
    expect(await readObjectText(clients.s3, resources.processedBucket, KEY)).toContain('sensor-beta');
    expect(await readObjectText(clients.s3, resources.processedBucket, `rejected/${KEY}`)).toContain('newer-line-not-json');
    expect(await harness.metric('iot_ingest_files_total', { outcome: 'superseded' })).toBe(1);
    expect(await harness.metric('iot_ingest_source_actions_total', { action: 'delete', result: 'done' })).toBe(1);
    if (versioned) {
      // The newer version was processed and deleted; the older one, never stored, is left for the operator.
      const listing = await clients.s3.send(new ListObjectVersionsCommand({ Bucket: resources.rawBucket, Prefix: KEY }));
      expect((listing.Versions ?? []).map((version) => version.VersionId)).not.toContain(newer.versionId);
    }
  });

  it('with SOURCE_AFTER_SUCCESS=keep stores no second set of outputs for the older upload and counts only the newer one as succeeded', async () => {
    const { resources, harness, olderReport, newer } = await raceOnOneKey({}, false);

    expect(olderReport.outcome).toBe('superseded');
    expect(await outputsProvenance(resources.processedBucket, [KEY])).toStrictEqual([newer.eTag]);
    expect(harness.reports.filter((report) => report.outcome === 'succeeded').map((report) => report.ref.eTag)).toStrictEqual([newer.eTag]);
  });
});
