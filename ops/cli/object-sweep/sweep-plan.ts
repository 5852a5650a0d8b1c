/**
 * What `reconcile` and `backfill` sweep: with SOURCES and no bucket named, every source (its bucket, under its
 * prefix) one after another; else the one bucket. Which source a listed key belongs to says where the worker puts
 * its outputs, and whether the worker takes it at all. Pure.
 */
import { sourceOf, type Source } from '../../../worker/sources.ts';
import { UsageError } from '../exit-codes.ts';
import type { BucketOwners } from './bucket-owners.ts';

/** The raw side as the command was given it. */
export interface RawSide {
  /** SOURCES (or --sources), parsed; undefined when unset. */
  readonly sources: readonly Source[] | undefined;
  /** A bucket named for this run (--raw-bucket, or RAW_BUCKET without SOURCES): only it is swept. */
  readonly bucket: string | undefined;
  /** --expected-bucket-owner, for that bucket. */
  readonly expectedBucketOwner: string | undefined;
}

/** One listing: a bucket under a prefix. */
export interface SweepTarget {
  readonly bucket: string;
  readonly prefix: string;
  readonly expectedBucketOwner?: string;
  /** The source swept, when the sweep goes over SOURCES: its keys under a nested source's longer prefix are that source's. */
  readonly source?: Source;
}

/** The prefix both `a` and `b` hold a key under (the longer one), or undefined when no key is under both. */
export function narrowedPrefix(a: string, b: string): string | undefined {
  if (a.startsWith(b)) return a;
  if (b.startsWith(a)) return b;
  return undefined;
}

/** The account SOURCES names for `bucket`; an error when two of its sources name different ones. */
function sourcesOwner(sources: readonly Source[] | undefined, bucket: string): string | undefined {
  const owners = new Set((sources ?? []).filter((source) => source.bucket === bucket && source.expectedBucketOwner !== undefined).map((source) => source.expectedBucketOwner));
  if (owners.size > 1) throw new UsageError(`SOURCES names different expectedBucketOwner accounts for bucket ${bucket} (${[...owners].join(', ')}); a bucket has one owner`);
  return [...owners][0];
}

/** The owner the named bucket must have: --expected-bucket-owner, else the one SOURCES names for it; both must agree. */
function namedBucketOwner(raw: RawSide, bucket: string): string | undefined {
  const fromSources = sourcesOwner(raw.sources, bucket);
  if (raw.expectedBucketOwner !== undefined && fromSources !== undefined && raw.expectedBucketOwner !== fromSources) {
    throw new UsageError(`--expected-bucket-owner ${raw.expectedBucketOwner} but SOURCES says bucket ${bucket} is owned by ${fromSources}`);
  }
  return raw.expectedBucketOwner ?? fromSources;
}

/**
 * The listings to make, in order: the named bucket under `prefix`; else each source under its prefix, narrowed
 * to `prefix` (a source with no key under `prefix` is left out).
 */
export function sweepTargets(raw: RawSide, prefix: string): SweepTarget[] {
  if (raw.bucket !== undefined) {
    const owner = namedBucketOwner(raw, raw.bucket);
    return [{ bucket: raw.bucket, prefix, ...(owner === undefined ? {} : { expectedBucketOwner: owner }) }];
  }
  if (raw.sources === undefined) throw new UsageError('no raw bucket: pass --raw-bucket or set RAW_BUCKET or SOURCES');
  if (raw.expectedBucketOwner !== undefined) throw new UsageError('--expected-bucket-owner is for a bucket named with --raw-bucket; SOURCES names each source\'s owner');
  const targets: SweepTarget[] = [];
  for (const source of raw.sources) {
    const listed = narrowedPrefix(source.prefix, prefix);
    if (listed === undefined) continue;
    const owner = sourcesOwner(raw.sources, source.bucket);
    targets.push({ bucket: source.bucket, prefix: listed, ...(owner === undefined ? {} : { expectedBucketOwner: owner }), source });
  }
  if (targets.length === 0) throw new UsageError(`--prefix ${JSON.stringify(prefix)} is under none of the sources in SOURCES; nothing to sweep`);
  return targets;
}

/** Every bucket the run touches that must be owned by a given account. */
export function bucketOwners(raw: RawSide): BucketOwners {
  const owners = new Map<string, string>();
  for (const source of raw.sources ?? []) {
    const owner = sourcesOwner(raw.sources, source.bucket);
    if (owner !== undefined) owners.set(source.bucket, owner);
  }
  if (raw.bucket !== undefined) {
    const owner = namedBucketOwner(raw, raw.bucket);
    if (owner !== undefined) owners.set(raw.bucket, owner);
  }
  return owners;
}

/** What the sweep of `target` does with a listed key. */
export type KeyPlace =
  /** The worker takes it, and writes its outputs under this output prefix. */
  | { readonly kind: 'swept'; readonly outputPrefix: string }
  /** In no source: the worker does not take it. Counted as excluded, never sent. */
  | { readonly kind: 'outside' }
  /** A nested source's key: its own sweep handles it, this one does not count it. */
  | { readonly kind: 'other-source' };

export function keyPlace(sources: readonly Source[] | undefined, target: SweepTarget, key: string): KeyPlace {
  const source = sourceOf(sources, target.bucket, key);
  if (source === undefined) return { kind: 'outside' };
  if (target.source !== undefined && source !== target.source) return { kind: 'other-source' };
  return { kind: 'swept', outputPrefix: source.outputPrefix };
}

/** How a target is named in reports and state files. */
export function describeTarget(target: Pick<SweepTarget, 'bucket' | 'prefix'>): string {
  return `s3://${target.bucket}/${target.prefix}`;
}
