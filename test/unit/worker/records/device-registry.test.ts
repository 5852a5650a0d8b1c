import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, expect } from '@jest/globals';
import { S3Client } from '@aws-sdk/client-s3';
import {
  loadDeviceRegistry,
  parseRegistryDocument,
  parseRegistrySource,
  RegistryError,
  type DeviceRegistryEvents,
} from '../../../../worker/records/device-registry.ts';

describe('parseRegistrySource', () => {
  it('reads "builtin"', () => {
    expect(parseRegistrySource('builtin')).toStrictEqual({ kind: 'builtin' });
  });

  it('splits s3://bucket/key at the first slash after the bucket', () => {
    expect(parseRegistrySource('s3://config/devices/v2/registry.json')).toStrictEqual({
      kind: 's3',
      bucket: 'config',
      key: 'devices/v2/registry.json',
    });
  });

  it('takes anything else as a file path', () => {
    expect(parseRegistrySource('/etc/iot/devices.json')).toStrictEqual({ kind: 'file', path: '/etc/iot/devices.json' });
    expect(parseRegistrySource('devices.json')).toStrictEqual({ kind: 'file', path: 'devices.json' });
  });

  it('refuses an s3: source without a key', () => {
    expect(() => parseRegistrySource('s3://bucket-only')).toThrow(
      new RegistryError('DEVICE_REGISTRY must look like s3://bucket/key; got "s3://bucket-only"'),
    );
  });
});

describe('parseRegistryDocument', () => {
  it('maps each device_id to its location_id', () => {
    const locations = parseRegistryDocument('{"sensor-a":"loc-1","sensor-b":"loc-2"}', 'test.json');
    expect([...locations]).toStrictEqual([
      ['sensor-a', 'loc-1'],
      ['sensor-b', 'loc-2'],
    ]);
  });

  it.each([
    ['not JSON', '{oops', 'device registry s3://cfg/devices.json is not valid JSON'],
    ['an array', '[["sensor-a","loc-1"]]', 'device registry s3://cfg/devices.json must be a JSON object of device_id to location_id'],
    ['null', 'null', 'device registry s3://cfg/devices.json must be a JSON object of device_id to location_id'],
    ['a non-string location', '{"sensor-a":7}', 'device registry s3://cfg/devices.json: the location of "sensor-a" must be a non-empty string'],
    ['an empty location', '{"sensor-a":""}', 'device registry s3://cfg/devices.json: the location of "sensor-a" must be a non-empty string'],
  ])('refuses %s, naming the source', (_what, text, message) => {
    expect(() => parseRegistryDocument(text, 's3://cfg/devices.json')).toThrow(new RegistryError(message));
  });
});

describe('loadDeviceRegistry from a file', () => {
  let dir: string;
  const s3 = new S3Client({ region: 'us-east-1' });
  const loaded: Array<[number, string]> = [];
  const events: DeviceRegistryEvents = {
    loaded: (devices, source) => loaded.push([devices, source]),
    refreshFailed: () => undefined,
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'device-registry-'));
  });
  afterAll(async () => {
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the JSON file and reports how many devices it holds', async () => {
    const path = join(dir, 'devices.json');
    await writeFile(path, JSON.stringify({ 'sensor-a': 'loc-1', 'sensor-b': 'loc-2' }));
    loaded.length = 0;
    const registry = await loadDeviceRegistry({ kind: 'file', path }, s3, 300, events);
    registry.stop();
    expect(Object.fromEntries(registry.current())).toStrictEqual({ 'sensor-a': 'loc-1', 'sensor-b': 'loc-2' });
    expect(loaded).toStrictEqual([[2, path]]);
  });

  it('fails with the path when the file holds no registry', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '["sensor-a"]');
    await expect(loadDeviceRegistry({ kind: 'file', path }, s3, 0, events)).rejects.toThrow(
      new RegistryError(`device registry ${path} must be a JSON object of device_id to location_id`),
    );
  });

  it('fails with the path when the file cannot be read', async () => {
    const path = join(dir, 'absent.json');
    await expect(loadDeviceRegistry({ kind: 'file', path }, s3, 0, events)).rejects.toThrow(`device registry ${path} cannot be read: `);
  });

  it('loads the built-in registry of the sample devices', async () => {
    const registry = await loadDeviceRegistry({ kind: 'builtin' }, s3, 0, events);
    expect(registry.current().get('sensor-gamma')).toBe('loc-server-room-1');
    expect(registry.current().size).toBe(3);
  });
});
