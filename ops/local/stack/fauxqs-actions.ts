/**
 * fauxqs's own GetObject, HeadObject and PutObject (incl. CopyObject) actions, run against a view of
 * its store in which one key holds another stored object: a noncurrent version (object-versions.ts).
 * So a version is read or copied by the emulator's own code (ranges, conditional headers, metadata,
 * checksums), not by a second implementation of it here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fauxqsFunction, type FauxqsStores } from './fauxqs-stores.ts';

type S3Store = FauxqsStores['s3Store'];
/** The emulator's stored S3 object. */
export type FauxqsStoredObject = ReturnType<S3Store['headObject']>;
type Action = (request: FastifyRequest, reply: FastifyReply, store: S3Store) => void;

export interface FauxqsObjectActions {
  getObject: Action;
  headObject: Action;
  putObject: Action;
}

/** Where each action lives in fauxqs 2.x, relative to its entry point (dist/app.js). */
const ACTION_MODULES = {
  getObject: './s3/actions/getObject.js',
  headObject: './s3/actions/headObject.js',
  putObject: './s3/actions/putObject.js',
} as const;

export async function loadFauxqsObjectActions(): Promise<FauxqsObjectActions> {
  const entryPoint = import.meta.resolve('fauxqs');
  const [getObject, headObject, putObject] = await Promise.all(
    (['getObject', 'headObject', 'putObject'] as const).map((name) => fauxqsFunction<Action>(entryPoint, ACTION_MODULES[name], name)),
  );
  return { getObject: getObject as Action, headObject: headObject as Action, putObject: putObject as Action };
}

/** The store as it is, except that reading `bucket`/`key` gives `object`. */
export function storeReading(store: S3Store, bucket: string, key: string, object: FauxqsStoredObject): S3Store {
  const reads = (name: PropertyKey, b: unknown, k: unknown) => (name === 'getObject' || name === 'headObject') && b === bucket && k === key;
  return new Proxy(store, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (reads(name, args[0], args[1]) ? object : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}
