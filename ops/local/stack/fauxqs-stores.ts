/**
 * fauxqs's in-memory stores, created here and handed to `buildApp({ stores })`, so that the local
 * stack holds the very SQS and S3 stores fauxqs answers from (visibility-expiry.ts and
 * object-tag-store.ts need them). fauxqs exports
 * the store types (through `BuildAppOptions`) but not the classes, so they are loaded from the files
 * next to its entry point; a fauxqs that moved or renamed them fails the start with a message that
 * says so, rather than a local stack that miscounts.
 */
import type { BuildAppOptions } from 'fauxqs';

export type FauxqsStores = NonNullable<BuildAppOptions['stores']>;
export type FauxqsSqsStore = FauxqsStores['sqsStore'];

/** Where each store class lives in fauxqs 2.x, relative to its entry point (dist/app.js). */
const STORE_MODULES = {
  sqsStore: { path: './sqs/sqsStore.js', exportName: 'SqsStore' },
  snsStore: { path: './sns/snsStore.js', exportName: 'SnsStore' },
  s3Store: { path: './s3/s3Store.js', exportName: 'S3Store' },
} as const;

type StoreConstructor<T> = new () => T;

async function storeClass<T>(entryPoint: string, store: keyof typeof STORE_MODULES): Promise<StoreConstructor<T>> {
  const { path, exportName } = STORE_MODULES[store];
  return fauxqsFunction<StoreConstructor<T>>(entryPoint, path, exportName);
}

/** A function (or class) fauxqs keeps in the file at `path` relative to its entry point, not exported from it. */
export async function fauxqsFunction<T>(entryPoint: string, path: string, exportName: string): Promise<T> {
  const url = new URL(path, entryPoint).href;
  const module = (await import(url).catch((error: unknown) => {
    throw new FauxqsLayoutError(`cannot load ${url}: ${error instanceof Error ? error.message : String(error)}`);
  })) as Record<string, unknown>;
  const exported = module[exportName];
  if (typeof exported !== 'function') throw new FauxqsLayoutError(`${url} no longer exports ${exportName}`);
  return exported as T;
}

/** fauxqs's files are not where this version of the local stack expects them (a fauxqs upgrade). */
export class FauxqsLayoutError extends Error {
  override readonly name = 'FauxqsLayoutError';

  constructor(detail: string) {
    super(`the local stack does not fit this fauxqs: ${detail} (see ops/local/stack/fauxqs-stores.ts)`);
  }
}

/** Fresh, empty stores of the installed fauxqs, checked to have what the local stack calls on them. */
export async function createFauxqsStores(): Promise<FauxqsStores> {
  const entryPoint = import.meta.resolve('fauxqs');
  const [SqsStore, SnsStore, S3Store] = await Promise.all([
    storeClass<FauxqsSqsStore>(entryPoint, 'sqsStore'),
    storeClass<FauxqsStores['snsStore']>(entryPoint, 'snsStore'),
    storeClass<FauxqsStores['s3Store']>(entryPoint, 's3Store'),
  ]);
  const stores: FauxqsStores = { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() };
  assertSqsStoreShape(stores.sqsStore);
  assertS3StoreShape(stores.s3Store);
  return stores;
}

/** The methods visibility-expiry.ts relies on, checked once at start (a queue's own ones on a probe queue). */
function assertSqsStoreShape(store: FauxqsSqsStore): void {
  for (const method of ['getQueue', 'getQueueByName', 'processAllTimers', 'createQueue', 'deleteQueue'] as const) {
    if (typeof store[method] !== 'function') throw new FauxqsLayoutError(`its SQS store has no method ${method}`);
  }
  const probeName = 'local-stack-shape-probe';
  const probe = store.createQueue(probeName, `http://localhost/000000000000/${probeName}`, `arn:aws:sqs:local:000000000000:${probeName}`);
  try {
    if (typeof probe.processTimers !== 'function') throw new FauxqsLayoutError('its SQS queues have no method processTimers');
    if (!(probe.inflightMessages instanceof Map)) throw new FauxqsLayoutError('its SQS queues keep no inflightMessages map');
  } finally {
    store.deleteQueue(probe.url);
  }
}

/**
 * What object-tag-store.ts and object-versions.ts rely on: `headObject` hands out the stored object
 * itself, the same one until the key is written or deleted again, and a new one after a write, and
 * `restoreObject` puts such an object back; and what conditional-requests.ts relies on: that object
 * carries its quoted ETag as `etag`.
 */
function assertS3StoreShape(store: FauxqsStores['s3Store']): void {
  for (const method of ['headObject', 'restoreObject', 'listObjects', 'hasBucket', 'deleteObject'] as const) {
    if (typeof store[method] !== 'function') throw new FauxqsLayoutError(`its S3 store has no method ${method}`);
  }
  const probeBucket = 'local-stack-shape-probe';
  store.createBucket(probeBucket);
  try {
    store.putObject(probeBucket, 'probe', Buffer.from('1'));
    const first = store.headObject(probeBucket, 'probe');
    const again = store.headObject(probeBucket, 'probe');
    store.putObject(probeBucket, 'probe', Buffer.from('1'));
    if (first !== again || store.headObject(probeBucket, 'probe') === first) {
      throw new FauxqsLayoutError('its S3 store no longer keeps one object per write (object tags would follow the wrong object)');
    }
    store.restoreObject(probeBucket, first);
    if (store.headObject(probeBucket, 'probe') !== first) {
      throw new FauxqsLayoutError('its S3 store no longer restores a stored object as it was (versions could not become current again)');
    }
    const { etag } = first as { etag?: unknown };
    if (typeof etag !== 'string' || !/^".+"$/.test(etag)) {
      throw new FauxqsLayoutError('its stored S3 objects no longer carry their quoted ETag as etag (preconditions could not be checked)');
    }
  } finally {
    store.deleteObject(probeBucket, 'probe');
    store.deleteBucket(probeBucket);
  }
}
