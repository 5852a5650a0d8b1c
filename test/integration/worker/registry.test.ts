/**
 * The device registry kept in S3: loaded at start, refreshed on its interval, and kept when a refresh fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import type { LocalResources } from '../../../ops/local/resources.ts';
import { createTestStack, readObjectText, testClients, waitFor } from '../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../support/worker-harness.ts';

const RECORD = '{"device_id":"sensor-new","temperature":21,"humidity":40}\n';

let clients: AwsClients;
let resources: LocalResources;
let harness: TestWorker;

async function putRegistry(body: string): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: resources.processedBucket, Key: 'config/devices.json', Body: body }));
}

async function locationOf(key: string): Promise<unknown> {
  await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: RECORD }));
  await harness.waitForReport((report) => report.ref.key === key, key);
  const output = await readObjectText(clients.s3, resources.processedBucket, key);
  return (JSON.parse(output ?? '{}') as { location_id?: unknown }).location_id;
}

beforeAll(async () => {
  clients = testClients();
  resources = await createTestStack(clients);
  await putRegistry('{"sensor-new": "loc-first"}');
  harness = await startTestWorker(resources, {
    DEVICE_REGISTRY: `s3://${resources.processedBucket}/config/devices.json`,
    DEVICE_REGISTRY_REFRESH_SECONDS: '1',
  });
});

afterAll(async () => {
  await harness?.stop();
  clients?.s3.destroy();
  clients?.sqs.destroy();
});

describe('a device registry in S3', () => {
  it('is loaded at start and enriches records with it', async () => {
    expect(await locationOf('first.jsonl')).toBe('loc-first');
    expect(await harness.metric('iot_ingest_device_registry_devices')).toBe(1);
  });

  it('is refreshed on its interval', async () => {
    await putRegistry('{"sensor-new": "loc-second", "sensor-other": "loc-other"}');
    await waitFor(async () => ((await harness.metric('iot_ingest_device_registry_devices')) === 2 ? true : undefined), {
      what: 'the refreshed registry',
    });

    expect(await locationOf('second.jsonl')).toBe('loc-second');
  });

  it('keeps the last good registry when a refresh finds a broken document', async () => {
    await putRegistry('{"sensor-new": ');
    await waitFor(async () => ((await harness.metric('iot_ingest_device_registry_refresh_failures_total')) >= 1 ? true : undefined), {
      what: 'a failed refresh',
    });

    expect(await locationOf('third.jsonl')).toBe('loc-second');
    expect(harness.logLines().some((line) => line.msg === 'device registry refresh failed; keeping the last good registry')).toBe(true);
  });
});
