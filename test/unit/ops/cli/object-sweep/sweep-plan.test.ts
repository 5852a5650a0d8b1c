import { describe, expect, it } from '@jest/globals';
import { ownerOf } from '../../../../../ops/cli/object-sweep/bucket-owners.ts';
import { UsageError } from '../../../../../ops/cli/exit-codes.ts';
import { bucketOwners, keyPlace, narrowedPrefix, sweepTargets, type RawSide } from '../../../../../ops/cli/object-sweep/sweep-plan.ts';
import { expectedOutputs } from '../../../../../ops/cli/reconcile/output-check.ts';
import { parseSources } from '../../../../../worker/sources.ts';

const OWNER = '111122223333';
const SOURCES = parseSources(
  JSON.stringify([
    { bucket: 'raw-a', prefix: 'fleet/', outputPrefix: 'a/' },
    { bucket: 'raw-a', prefix: 'fleet/eu/', outputPrefix: 'a-eu/' },
    { bucket: 'partner', prefix: '', outputPrefix: 'partner/', expectedBucketOwner: OWNER },
  ]),
);
const [FLEET, FLEET_EU, PARTNER] = SOURCES;
const withSources: RawSide = { sources: SOURCES, bucket: undefined, expectedBucketOwner: undefined };

describe('the sweep plan', () => {
  it('with SOURCES and no bucket named: every source in order, under its prefix, with its owner', () => {
    expect(sweepTargets(withSources, '')).toEqual([
      { bucket: 'raw-a', prefix: 'fleet/', source: FLEET },
      { bucket: 'raw-a', prefix: 'fleet/eu/', source: FLEET_EU },
      { bucket: 'partner', prefix: '', expectedBucketOwner: OWNER, source: PARTNER },
    ]);
  });

  it('--prefix narrows each source to the keys under both, and leaves out a source with none', () => {
    expect(narrowedPrefix('fleet/', 'fleet/eu/2026/')).toBe('fleet/eu/2026/');
    expect(narrowedPrefix('fleet/eu/', 'fleet/')).toBe('fleet/eu/');
    expect(narrowedPrefix('fleet/', 'other/')).toBeUndefined();
    expect(sweepTargets(withSources, 'fleet/eu/').map(({ bucket, prefix }) => `${bucket}/${prefix}`)).toEqual(['raw-a/fleet/eu/', 'raw-a/fleet/eu/', 'partner/fleet/eu/']);
    expect(sweepTargets({ ...withSources, sources: [FLEET!, FLEET_EU!] }, 'fleet/us/').map(({ source }) => source)).toEqual([FLEET]);
    expect(() => sweepTargets({ ...withSources, sources: [FLEET!] }, 'other/')).toThrow(UsageError);
  });

  it('a bucket named with --raw-bucket is swept alone, with --expected-bucket-owner or the owner SOURCES gives it', () => {
    expect(sweepTargets({ sources: undefined, bucket: 'raw', expectedBucketOwner: undefined }, 'in/')).toEqual([{ bucket: 'raw', prefix: 'in/' }]);
    expect(sweepTargets({ sources: undefined, bucket: 'raw', expectedBucketOwner: OWNER }, '')).toEqual([{ bucket: 'raw', prefix: '', expectedBucketOwner: OWNER }]);
    expect(sweepTargets({ ...withSources, bucket: 'partner' }, 'x/')).toEqual([{ bucket: 'partner', prefix: 'x/', expectedBucketOwner: OWNER }]);
    expect(() => sweepTargets({ ...withSources, bucket: 'partner', expectedBucketOwner: '999999999999' }, '')).toThrow(/SOURCES says bucket partner is owned by 111122223333/);
    expect(() => sweepTargets({ ...withSources, expectedBucketOwner: OWNER }, '')).toThrow(/--raw-bucket/);
    expect(() => sweepTargets({ sources: undefined, bucket: undefined, expectedBucketOwner: undefined }, '')).toThrow(UsageError);
  });

  it('knows the owner of every bucket that has one, and refuses two owners for one bucket', () => {
    const owners = bucketOwners(withSources);
    expect(ownerOf(owners, 'partner')).toEqual({ ExpectedBucketOwner: OWNER });
    expect(ownerOf(owners, 'raw-a')).toEqual({});
    expect(ownerOf(bucketOwners({ sources: undefined, bucket: 'raw', expectedBucketOwner: OWNER }), 'raw')).toEqual({ ExpectedBucketOwner: OWNER });
    const split = [
      { bucket: 'shared', prefix: 'x/', outputPrefix: 'x/', expectedBucketOwner: OWNER },
      { bucket: 'shared', prefix: 'y/', outputPrefix: 'y/', expectedBucketOwner: '999999999999' },
    ];
    // SOURCES as the worker parses it never holds such a pair; the plan refuses it all the same.
    expect(() => parseSources(JSON.stringify(split))).toThrow(/different owners of one bucket/);
    expect(() => bucketOwners({ sources: split, bucket: undefined, expectedBucketOwner: undefined })).toThrow(/different expectedBucketOwner/);
  });
});

describe('where a listed key belongs', () => {
  const [fleet, fleetEu] = sweepTargets(withSources, '');

  it("takes the source's output prefix; a nested source's key is left to that source's sweep", () => {
    expect(keyPlace(SOURCES, fleet!, 'fleet/us/a.jsonl')).toEqual({ kind: 'swept', outputPrefix: 'a/' });
    expect(keyPlace(SOURCES, fleet!, 'fleet/eu/a.jsonl')).toEqual({ kind: 'other-source' });
    expect(keyPlace(SOURCES, fleetEu!, 'fleet/eu/a.jsonl')).toEqual({ kind: 'swept', outputPrefix: 'a-eu/' });
  });

  it('in a named bucket: each key by its own source, and a key in no source is outside (the worker does not take it)', () => {
    const [named] = sweepTargets({ ...withSources, bucket: 'raw-a' }, '');
    expect(keyPlace(SOURCES, named!, 'fleet/eu/a.jsonl')).toEqual({ kind: 'swept', outputPrefix: 'a-eu/' });
    expect(keyPlace(SOURCES, named!, 'fleet/a.jsonl')).toEqual({ kind: 'swept', outputPrefix: 'a/' });
    expect(keyPlace(SOURCES, named!, 'elsewhere/a.jsonl')).toEqual({ kind: 'outside' });
  });

  it('without SOURCES every key is swept with no output prefix', () => {
    const [single] = sweepTargets({ sources: undefined, bucket: 'raw', expectedBucketOwner: undefined }, '');
    expect(keyPlace(undefined, single!, 'any/key.jsonl')).toEqual({ kind: 'swept', outputPrefix: '' });
  });
});

describe('outputs per source', () => {
  const location = { processedBucket: 'processed', processedPrefix: 'out/', rejectedBucket: 'processed', rejectedPrefix: 'rejected/' };

  it('are PROCESSED_PREFIX and REJECTED_PREFIX + the output prefix + the raw key', () => {
    expect(expectedOutputs(location, 'fleet/eu/a.jsonl', 'a-eu/')).toEqual([
      { bucket: 'processed', key: 'rejected/a-eu/fleet/eu/a.jsonl' },
      { bucket: 'processed', key: 'out/a-eu/fleet/eu/a.jsonl' },
    ]);
    expect(expectedOutputs({ ...location, format: 'parquet' }, 'k.jsonl', 'partner/')).toEqual([{ bucket: 'processed', key: 'rejected/partner/k.jsonl' }]);
    expect(expectedOutputs(location, 'k.jsonl')).toEqual([
      { bucket: 'processed', key: 'rejected/k.jsonl' },
      { bucket: 'processed', key: 'out/k.jsonl' },
    ]);
  });

  it('none when the worker would refuse the key (its output key too long)', () => {
    expect(expectedOutputs(location, `${'k'.repeat(1000)}.jsonl`, 'a-long-output-prefix/')).toBeUndefined();
  });
});
