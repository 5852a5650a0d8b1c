/**
 * SOURCE_AFTER_SUCCESS on the local stack: what each mode leaves in the raw bucket once a file's outputs
 * are stored, with the real worker, the real SDK and the emulator's S3 notifications.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Environment } from '../../../worker/config.ts';
import { isObjectMissing } from '../../../worker/errors.ts';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import type { LocalResources } from '../../../ops/local/resources.ts';
import { createTestStack, readObjectText, testClients, uniqueName, waitFor } from '../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../support/worker-harness.ts';

const BODY = [
  JSON.stringify({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40 }),
  JSON.stringify({ device_id: 'sensor-beta', temperature: 5, humidity: 40 }),
  'not json',
].join('\n');

const clients: AwsClients = testClients();
const running: Array<{ stop(): Promise<void> }> = [];

afterEach(async () => {
  for (const item of running.splice(0)) await item.stop();
});

afterAll(() => {
  clients.s3.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
});

/** A fresh stack and a worker with these settings; `beforeStart` runs first (e.g. to upload and tag before the worker can see the object). */
async function stackWithWorker(env: Environment, beforeStart?: (resources: LocalResources) => Promise<void>, prepareS3?: (s3: S3Client) => void) {
  const resources = await createTestStack(clients);
  await beforeStart?.(resources);
  const harness = await startTestWorker(resources, env, prepareS3);
  running.push({ stop: async () => (await harness.stop(), harness.clients.sns.destroy()) });
  return { resources, harness };
}

async function put(bucket: string, key: string, body: string): Promise<string> {
  const { ETag } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return (ETag ?? '').replace(/"/g, '');
}

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isObjectMissing(error)) return false;
    throw error;
  }
}

function sourceActions(harness: TestWorker, action: string, result: string): Promise<number> {
  return harness.metric('iot_ingest_source_actions_total', { action, result });
}

/** Waits until the worker has counted `count` results for `action`. */
function actionCounted(harness: TestWorker, action: string, result: string, count = 1): Promise<true> {
  return waitFor(async () => ((await sourceActions(harness, action, result)) >= count ? true : undefined), {
    what: `${count} ${action} ${result}`,
    timeoutMs: 15_000,
  });
}

async function probe(check: (bucket: string) => Promise<boolean>): Promise<boolean> {
  const bucket = uniqueName('probe');
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return check(bucket);
}

/** Whether the emulator refuses a DeleteObject whose If-Match names another ETag, as S3 does (412). */
const conditionalDeleteHonoured = await probe(async (bucket) => {
  await put(bucket, 'k', 'v');
  try {
    await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '"0000"' }));
  } catch {
    return true;
  }
  return false;
});

/** Whether the emulator keeps object versions (a PUT answers with a version id once versioning is enabled). */
const versioningSupported = await probe(async (bucket) => {
  try {
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  } catch {
    return false;
  }
  const { VersionId } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  return VersionId !== undefined && VersionId !== 'null';
});

/** Whether the local stack has the object tagging API yet. */
const taggingSupported = await probe(async (bucket) => {
  await put(bucket, 'k', 'v');
  try {
    await clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }));
    return true;
  } catch {
    return false;
  }
});

describe('SOURCE_AFTER_SUCCESS on the local stack', () => {
  it('keep (the default) leaves the raw object as it was', async () => {
    const { resources, harness } = await stackWithWorker({});
    await put(resources.rawBucket, 'keep/a.jsonl', BODY);

    await harness.waitForReport((report) => report.ref.key === 'keep/a.jsonl', 'keep/a.jsonl processed');

    expect(await readObjectText(clients.s3, resources.rawBucket, 'keep/a.jsonl')).toBe(BODY);
    for (const action of ['tag', 'delete', 'move']) expect(await sourceActions(harness, action, 'done')).toBe(0);
  });

  it('delete removes the raw object once its outputs are stored', async () => {
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'delete' });
    await put(resources.rawBucket, 'delete/a.jsonl', BODY);

    await actionCounted(harness, 'delete', 'done');

    expect(await exists(resources.rawBucket, 'delete/a.jsonl')).toBe(false);
    expect(await readObjectText(clients.s3, resources.processedBucket, 'delete/a.jsonl')).toContain('sensor-alpha');
    expect(await exists(resources.processedBucket, 'rejected/delete/a.jsonl')).toBe(true);
  });

  it('move copies the raw object, same bytes, under the archive prefix, deletes the original, and ignores the archived copy', async () => {
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'move' });
    await put(resources.rawBucket, 'move/a.jsonl', BODY);

    await actionCounted(harness, 'move', 'done');
    // The raw bucket announces the archived copy too: acknowledged without work, never processed.
    await waitFor(async () => ((await harness.metric('iot_ingest_messages_ignored_total', { kind: 'archive_copy' })) >= 1 ? true : undefined), {
      what: "the archived copy's event acknowledged",
    });

    expect(await readObjectText(clients.s3, resources.rawBucket, 'archive/move/a.jsonl')).toBe(BODY);
    expect(await exists(resources.rawBucket, 'move/a.jsonl')).toBe(false);
    expect(harness.reports.map((report) => report.ref.key)).toStrictEqual(['move/a.jsonl']);
    expect(await harness.metric('iot_ingest_files_total', { outcome: 'succeeded' })).toBe(1);
  });

  it('move to SOURCE_ARCHIVE_BUCKET puts the copy there, under SOURCE_ARCHIVE_PREFIX', async () => {
    const archiveBucket = uniqueName('archive');
    await clients.s3.send(new CreateBucketCommand({ Bucket: archiveBucket }));
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_BUCKET: archiveBucket, SOURCE_ARCHIVE_PREFIX: 'done/' });
    await put(resources.rawBucket, 'site 1/b.jsonl', BODY);

    await actionCounted(harness, 'move', 'done');

    expect(await readObjectText(clients.s3, archiveBucket, 'done/site 1/b.jsonl')).toBe(BODY);
    expect(await exists(resources.rawBucket, 'site 1/b.jsonl')).toBe(false);
  });

  it('sends the delete and the archive copy conditional on the ETag processed (unversioned bucket)', async () => {
    const sent: Record<string, string | undefined> = {};
    const recordHeaders = (s3: S3Client) => {
      s3.middlewareStack.add(
        (next, context) => (args) => {
          const given = (args.request as { headers?: Record<string, string> }).headers ?? {};
          const headers = Object.fromEntries(Object.entries(given).map(([name, value]) => [name.toLowerCase(), value]));
          if (context.commandName === 'DeleteObjectCommand') sent.deleteIfMatch = headers['if-match'];
          if (context.commandName === 'CopyObjectCommand') sent.copyIfMatch = headers['x-amz-copy-source-if-match'];
          return next(args);
        },
        { step: 'finalizeRequest', name: 'recordConditionalHeaders' },
      );
    };
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'move' }, undefined, recordHeaders);
    const eTag = await put(resources.rawBucket, 'cond/a.jsonl', BODY);

    await actionCounted(harness, 'move', 'done');

    expect(sent).toStrictEqual({ copyIfMatch: `"${eTag}"`, deleteIfMatch: `"${eTag}"` });
  });

  /**
   * Just before the worker's first call of `commandName` (its first step on the raw object), someone uploads a
   * new object under the key; right after that call, what the key holds is noted: its current ETag, its versions,
   * the newer version's tags. (The newer upload is then processed for its own event, as on S3.)
   */
  function uploadBeforeFirst(commandName: string, raw: { bucket: string }, key: string, newerBody: string) {
    const seen: {
      newerETag?: string;
      newerVersionId?: string | undefined;
      currentAfterCall?: string | undefined;
      versionsAfterCall?: Awaited<ReturnType<typeof versionsOf>>;
      newerTagsAfterCall?: unknown;
    } = {};
    const prepare = (s3: S3Client) => {
      let done = false;
      s3.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== commandName || done) return next(args);
          done = true;
          const newer = await clients.s3.send(new PutObjectCommand({ Bucket: raw.bucket, Key: key, Body: newerBody }));
          seen.newerETag = (newer.ETag ?? '').replace(/"/g, '');
          seen.newerVersionId = newer.VersionId;
          try {
            return await next(args);
          } finally {
            const head = await clients.s3.send(new HeadObjectCommand({ Bucket: raw.bucket, Key: key })).catch(() => undefined);
            seen.currentAfterCall = head?.ETag?.replace(/"/g, '');
            if (seen.newerVersionId !== undefined) {
              seen.versionsAfterCall = await versionsOf(raw.bucket, key);
              const tagging = new GetObjectTaggingCommand({ Bucket: raw.bucket, Key: key, VersionId: seen.newerVersionId });
              seen.newerTagsAfterCall = (await clients.s3.send(tagging)).TagSet;
            }
          }
        },
        { step: 'initialize', name: `uploadBeforeFirst${commandName}` },
      );
    };
    return { prepare, seen };
  }

  /** A stack whose raw bucket is versioned, and a worker whose first `commandName` meets a newer upload of `key`. */
  async function versionedRace(env: Environment, commandName: string, key: string) {
    const raw = { bucket: '' };
    const race = uploadBeforeFirst(commandName, raw, key, `${BODY}\n`);
    const stack = await stackWithWorker(
      env,
      async ({ rawBucket }) => {
        raw.bucket = rawBucket;
        await clients.s3.send(new PutBucketVersioningCommand({ Bucket: rawBucket, VersioningConfiguration: { Status: 'Enabled' } }));
      },
      race.prepare,
    );
    const processed = await clients.s3.send(new PutObjectCommand({ Bucket: stack.resources.rawBucket, Key: key, Body: BODY }));
    return { ...stack, seen: race.seen, processedVersionId: processed.VersionId };
  }

  /** Every version and delete marker of `key`, newest first. */
  async function versionsOf(bucket: string, key: string) {
    const listing = await clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    return {
      versions: (listing.Versions ?? []).filter((version) => version.Key === key).map((version) => version.VersionId),
      deleteMarkers: (listing.DeleteMarkers ?? []).filter((marker) => marker.Key === key).length,
    };
  }

  (conditionalDeleteHonoured ? it : it.skip)('delete leaves a newer upload of the same key alone (conditional delete, unversioned bucket)', async () => {
    const raw = { bucket: '' };
    const race = uploadBeforeFirst('DeleteObjectCommand', raw, 'race/a.jsonl', `${BODY}\n`);
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'delete' }, ({ rawBucket }) => Promise.resolve(void (raw.bucket = rawBucket)), race.prepare);
    await put(resources.rawBucket, 'race/a.jsonl', BODY);

    await actionCounted(harness, 'delete', 'superseded');

    expect(race.seen.currentAfterCall).toBe(race.seen.newerETag);
  });

  (versioningSupported ? it : it.skip)('delete on a versioned bucket removes the version processed, leaving no delete marker', async () => {
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'delete' }, ({ rawBucket }) =>
      clients.s3.send(new PutBucketVersioningCommand({ Bucket: rawBucket, VersioningConfiguration: { Status: 'Enabled' } })).then(() => undefined),
    );
    const { VersionId } = await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'versioned/only.jsonl', Body: BODY }));

    await actionCounted(harness, 'delete', 'done');

    expect(VersionId).toMatch(/^[\w-]{32}$/);
    expect(harness.reports.map((report) => report.ref.versionId)).toStrictEqual([VersionId]);
    expect(await versionsOf(resources.rawBucket, 'versioned/only.jsonl')).toStrictEqual({ versions: [], deleteMarkers: 0 });
  });

  (versioningSupported ? it : it.skip)('delete removes only the version processed from a versioned bucket, never a newer one', async () => {
    const { resources, harness, seen, processedVersionId } = await versionedRace({ SOURCE_AFTER_SUCCESS: 'delete' }, 'DeleteObjectCommand', 'versioned/a.jsonl');

    // The processed version's delete, then the newer version's own.
    await actionCounted(harness, 'delete', 'done', 2);

    expect(seen.currentAfterCall).toBe(seen.newerETag);
    expect(seen.newerVersionId).not.toBe(processedVersionId);
    expect(seen.versionsAfterCall).toStrictEqual({ versions: [seen.newerVersionId], deleteMarkers: 0 });
    expect(harness.reports.map((report) => report.ref.versionId).sort()).toStrictEqual([processedVersionId, seen.newerVersionId].sort());
    expect(await versionsOf(resources.rawBucket, 'versioned/a.jsonl')).toStrictEqual({ versions: [], deleteMarkers: 0 });
  });

  (versioningSupported ? it : it.skip)('move on a versioned bucket archives the version processed and deletes only it, never a newer one', async () => {
    const { resources, harness, seen } = await versionedRace({ SOURCE_AFTER_SUCCESS: 'move' }, 'CopyObjectCommand', 'versioned/m.jsonl');

    // The processed version's move, then the newer version's own.
    await actionCounted(harness, 'move', 'done', 2);

    expect(seen.currentAfterCall).toBe(seen.newerETag);
    const archived = await versionsOf(resources.rawBucket, 'archive/versioned/m.jsonl');
    const archivedBodies = await Promise.all(
      archived.versions.map(async (VersionId) => {
        const { Body } = await clients.s3.send(new GetObjectCommand({ Bucket: resources.rawBucket, Key: 'archive/versioned/m.jsonl', VersionId }));
        return Body?.transformToString();
      }),
    );
    expect(archivedBodies.sort()).toStrictEqual([BODY, `${BODY}\n`]);
    expect(await versionsOf(resources.rawBucket, 'versioned/m.jsonl')).toStrictEqual({ versions: [], deleteMarkers: 0 });
  });

  (versioningSupported ? it : it.skip)('tag on a versioned bucket tags the version processed, not a newer one', async () => {
    const { resources, harness, seen, processedVersionId } = await versionedRace({ SOURCE_AFTER_SUCCESS: 'tag' }, 'PutObjectTaggingCommand', 'versioned/t.jsonl');

    await actionCounted(harness, 'tag', 'done');

    const tagsOf = async (VersionId: string | undefined) =>
      (await clients.s3.send(new GetObjectTaggingCommand({ Bucket: resources.rawBucket, Key: 'versioned/t.jsonl', VersionId }))).TagSet;
    expect(await tagsOf(processedVersionId)).toContainEqual({ Key: 'iot-ingest', Value: 'processed' });
    expect(seen.newerTagsAfterCall).toStrictEqual([]);
  });

  (taggingSupported ? it : it.skip)('tag marks the raw object processed with its counts, keeping its own tags', async () => {
    const { resources, harness } = await stackWithWorker({ SOURCE_AFTER_SUCCESS: 'tag' }, async ({ rawBucket }) => {
      await clients.s3.send(new PutObjectCommand({ Bucket: rawBucket, Key: 'tag/a.jsonl', Body: BODY, Tagging: 'owner=team-a' }));
    });

    await actionCounted(harness, 'tag', 'done');

    const { TagSet } = await clients.s3.send(new GetObjectTaggingCommand({ Bucket: resources.rawBucket, Key: 'tag/a.jsonl' }));
    expect(TagSet).toStrictEqual([
      { Key: 'owner', Value: 'team-a' },
      { Key: 'iot-ingest', Value: 'processed' },
      { Key: 'iot-ingest-processed', Value: '1' },
      { Key: 'iot-ingest-filtered', Value: '1' },
      { Key: 'iot-ingest-rejected', Value: '1' },
    ]);
    expect(await readObjectText(clients.s3, resources.rawBucket, 'tag/a.jsonl')).toBe(BODY);
  });
});
