/**
 * The device registry: device_id → location_id, loaded at start from the built-in table, a JSON
 * file or an S3 object, and refreshed from S3 on an interval. A failed refresh keeps the last good table.
 */
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../common/error-message.ts';

/** The registry used when DEVICE_REGISTRY is `builtin`: the devices of the sample data. */
export const DEFAULT_DEVICE_LOCATIONS: Readonly<Record<string, string>> = {
  'sensor-alpha': 'loc-warehouse-a',
  'sensor-beta': 'loc-warehouse-b',
  'sensor-gamma': 'loc-server-room-1',
};

export type RegistrySource =
  | { readonly kind: 'builtin' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

/** `builtin`, `s3://bucket/key`, or a file path. */
export function parseRegistrySource(text: string): RegistrySource {
  if (text === 'builtin') return { kind: 'builtin' };
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(text);
  if (s3) return { kind: 's3', bucket: s3[1] as string, key: s3[2] as string };
  if (text.startsWith('s3:')) throw new RegistryError(`DEVICE_REGISTRY must look like s3://bucket/key; got ${JSON.stringify(text)}`);
  return { kind: 'file', path: text };
}

export function describeSource(source: RegistrySource): string {
  switch (source.kind) {
    case 'builtin':
      return 'builtin';
    case 'file':
      return source.path;
    case 's3':
      return `s3://${source.bucket}/${source.key}`;
  }
}

/** A registry document is one JSON object whose values are location ids: {"sensor-alpha": "loc-warehouse-a"}. */
export function parseRegistryDocument(text: string, where: string): ReadonlyMap<string, string> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new RegistryError(`device registry ${where} is not valid JSON`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new RegistryError(`device registry ${where} must be a JSON object of device_id to location_id`);
  }
  const locations = new Map<string, string>();
  for (const [deviceId, locationId] of Object.entries(document)) {
    if (typeof locationId !== 'string' || locationId === '') {
      throw new RegistryError(`device registry ${where}: the location of ${JSON.stringify(deviceId)} must be a non-empty string`);
    }
    locations.set(deviceId, locationId);
  }
  return locations;
}

async function readSource(source: RegistrySource, s3: S3Client): Promise<ReadonlyMap<string, string>> {
  const where = describeSource(source);
  switch (source.kind) {
    case 'builtin':
      return new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS));
    case 'file': {
      const text = await readFile(source.path, 'utf8').catch((error: unknown) => {
        throw new RegistryError(`device registry ${where} cannot be read: ${errorMessage(error)}`);
      });
      return parseRegistryDocument(text, where);
    }
    case 's3': {
      const response = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key })).catch((error: unknown) => {
        throw new RegistryError(`device registry ${where} cannot be read: ${errorMessage(error)}`);
      });
      const text = (await response.Body?.transformToString('utf8')) ?? '';
      return parseRegistryDocument(text, where);
    }
  }
}

export interface DeviceRegistryEvents {
  loaded(devices: number, source: string): void;
  refreshFailed(source: string, error: string): void;
}

export interface DeviceRegistry {
  current(): ReadonlyMap<string, string>;
  stop(): void;
}

/** Loads the registry (a failure here is fatal) and, for S3, keeps it fresh every `refreshSeconds` (0 = never). */
export async function loadDeviceRegistry(
  source: RegistrySource,
  s3: S3Client,
  refreshSeconds: number,
  events: DeviceRegistryEvents,
): Promise<DeviceRegistry> {
  const where = describeSource(source);
  let locations = await readSource(source, s3);
  events.loaded(locations.size, where);

  let timer: NodeJS.Timeout | undefined;
  if (source.kind === 's3' && refreshSeconds > 0) {
    timer = setInterval(() => {
      readSource(source, s3).then(
        (fresh) => {
          locations = fresh;
          events.loaded(fresh.size, where);
        },
        (error: unknown) => events.refreshFailed(where, errorMessage(error)),
      );
    }, refreshSeconds * 1000);
    timer.unref();
  }
  return {
    current: () => locations,
    stop: () => clearInterval(timer),
  };
}
