import { describe, expect, it } from '@jest/globals';
import { parseSources, sourceOf, type Source } from '../../../worker/sources.ts';

const parse = (sources: unknown) => parseSources(JSON.stringify(sources));
const refusalOf = (sources: unknown) => () => parse(sources);

describe('parseSources', () => {
  it('reads each source, prefixes defaulting to empty and the owner left out when not given', () => {
    expect(
      parse([
        { bucket: 'raw-a', prefix: 'east/', outputPrefix: 'a-east/', expectedBucketOwner: '111122223333' },
        { bucket: 'raw.b-2', outputPrefix: 'b/' },
      ]),
    ).toStrictEqual([
      { bucket: 'raw-a', prefix: 'east/', outputPrefix: 'a-east/', expectedBucketOwner: '111122223333' },
      { bucket: 'raw.b-2', prefix: '', outputPrefix: 'b/' },
    ]);
  });

  it('accepts prefixes of one bucket that nest, with output prefixes apart', () => {
    expect(
      parse([
        { bucket: 'raw', prefix: 'devices/', outputPrefix: 'devices/' },
        { bucket: 'raw', prefix: 'devices/legacy/', outputPrefix: 'legacy/' },
      ]),
    ).toHaveLength(2);
  });

  it('accepts the same output prefix for prefixes of one bucket that do not nest: equal outputs would mean equal raw keys', () => {
    expect(
      parse([
        { bucket: 'raw', prefix: 'east/', outputPrefix: '' },
        { bucket: 'raw', prefix: 'west/', outputPrefix: '' },
      ]),
    ).toHaveLength(2);
  });

  it.each([
    ['not JSON', '[{', /^not JSON: /],
    ['not an array', '{"bucket":"raw"}', /^must be a non-empty JSON array of sources$/],
    ['an empty array', '[]', /^must be a non-empty JSON array of sources$/],
  ])('refuses %s', (_, json, message) => {
    expect(() => parseSources(json)).toThrow(message);
  });

  it('refuses an entry that is not an object, naming it', () => {
    expect(refusalOf([{ bucket: 'raw' }, 'raw-b'])).toThrow('source 2 of 2 must be an object {bucket, prefix?, outputPrefix?, expectedBucketOwner?}; got "raw-b"');
  });

  it('refuses an unknown field (a typo), naming the entry, the field and the fields there are', () => {
    expect(refusalOf([{ bucket: 'raw', outputprefix: 'a/' }])).toThrow(
      'source 1 of 1: unknown field "outputprefix"; the fields are bucket, prefix, outputPrefix, expectedBucketOwner',
    );
  });

  it.each([[undefined], [''], ['Raw'], ['ra'], ['raw_bucket'], ['raw..b'], ['-raw'], ['192.168.1.1'], ['arn:aws:s3:::raw'], [7]])('refuses the bucket %p', (bucket) => {
    expect(refusalOf([{ bucket }])).toThrow(/^source 1 of 1: bucket must be an S3 bucket name \(3 to 63 lowercase letters, digits, dots and hyphens\); got /);
  });

  it.each([
    ['prefix', 'east', 'must be empty or end with "/"; got "east"'],
    ['prefix', 'east/*/', 'must not hold "*", "?" or control characters; got "east/*/"'],
    ['outputPrefix', 'a?/', 'must not hold "*", "?" or control characters; got "a?/"'],
    ['outputPrefix', 'a\n/', 'must not hold "*", "?" or control characters; got "a\\n/"'],
    ['outputPrefix', 3, 'must be a string; got 3'],
  ])('refuses the %s %p', (field, value, message) => {
    expect(refusalOf([{ bucket: 'raw-a' }, { bucket: 'raw', [field]: value }])).toThrow(`source 2 of 2: ${field} ${message}`);
  });

  it.each([['11112222333'], ['1111222233334'], ['11112222333x'], [111122223333]])('refuses the expectedBucketOwner %p', (owner) => {
    expect(refusalOf([{ bucket: 'raw', expectedBucketOwner: owner }])).toThrow(
      `source 1 of 1: expectedBucketOwner must be a 12-digit AWS account id; got ${JSON.stringify(owner)}`,
    );
  });

  it('refuses two sources with the same bucket and prefix', () => {
    expect(
      refusalOf([
        { bucket: 'raw', prefix: 'a/', outputPrefix: 'x/' },
        { bucket: 'raw', prefix: 'a/', outputPrefix: 'y/' },
      ]),
    ).toThrow('source 1 of 2 (bucket "raw", prefix "a/") and source 2 of 2 (bucket "raw", prefix "a/") name the same bucket and prefix');
  });

  it('refuses two sources of one bucket that expect different owners', () => {
    expect(
      refusalOf([
        { bucket: 'raw', prefix: 'a/', outputPrefix: 'x/', expectedBucketOwner: '111122223333' },
        { bucket: 'raw', prefix: 'b/', outputPrefix: 'y/', expectedBucketOwner: '444455556666' },
      ]),
    ).toThrow('source 1 of 2 (bucket "raw", prefix "a/") and source 2 of 2 (bucket "raw", prefix "b/") expect different owners of one bucket (111122223333, 444455556666)');
  });

  it('refuses nested prefixes of one bucket with the same output prefix: one source covers both', () => {
    expect(
      refusalOf([
        { bucket: 'raw', prefix: 'a/', outputPrefix: 'x/' },
        { bucket: 'raw', prefix: 'a/b/', outputPrefix: 'x/' },
      ]),
    ).toThrow('source 1 of 2 (bucket "raw", prefix "a/") and source 2 of 2 (bucket "raw", prefix "a/b/") nest in one bucket with the same outputPrefix');
  });

  it('refuses two buckets whose raw keys could be equal and whose output prefixes are equal', () => {
    expect(
      refusalOf([
        { bucket: 'raw-a', prefix: 'devices/' },
        { bucket: 'raw-b', prefix: 'devices/east/' },
      ]),
    ).toThrow(
      'source 1 of 2 (bucket "raw-a", prefix "devices/") and source 2 of 2 (bucket "raw-b", prefix "devices/east/") could write the same output key ("" + a key under "devices/", "" + a key under "devices/east/"); give them outputPrefixes apart',
    );
  });

  it('refuses output prefixes that differ but still cross: "x/" + a key of one bucket is a key "x/…" of the other', () => {
    expect(
      refusalOf([
        { bucket: 'raw-a', outputPrefix: 'x/' },
        { bucket: 'raw-b', prefix: 'x/' },
      ]),
    ).toThrow(/could write the same output key/);
    expect(
      refusalOf([
        { bucket: 'raw', prefix: '' },
        { bucket: 'raw', prefix: 'special/', outputPrefix: 'y/' },
      ]),
    ).toThrow(/could write the same output key/);
  });

  it('accepts two buckets whose raw prefixes do not nest, or whose output prefixes keep them apart', () => {
    expect(
      parse([
        { bucket: 'raw-a', prefix: 'east/' },
        { bucket: 'raw-b', prefix: 'west/' },
        { bucket: 'raw-c', outputPrefix: 'c/' },
        { bucket: 'raw-d', outputPrefix: 'd/' },
      ]),
    ).toHaveLength(4);
  });
});

describe('sourceOf', () => {
  const SOURCES: readonly Source[] = parse([
    { bucket: 'raw', prefix: '', outputPrefix: 'all/' },
    { bucket: 'raw', prefix: 'east/', outputPrefix: 'east/' },
    { bucket: 'raw', prefix: 'east/old/', outputPrefix: 'east-old/' },
    { bucket: 'raw-b', prefix: 'in/', outputPrefix: 'b/' },
  ]);

  it('picks the source of the bucket with the longest prefix of the key', () => {
    expect(sourceOf(SOURCES, 'raw', 'east/old/a.jsonl')).toBe(SOURCES[2]);
    expect(sourceOf(SOURCES, 'raw', 'east/a.jsonl')).toBe(SOURCES[1]);
    expect(sourceOf(SOURCES, 'raw', 'eastern/a.jsonl')).toBe(SOURCES[0]);
    expect(sourceOf(SOURCES, 'raw-b', 'in/a.jsonl')).toBe(SOURCES[3]);
  });

  it('finds none for a key under no prefix of its bucket, or for a bucket not listed', () => {
    expect(sourceOf(SOURCES, 'raw-b', 'out/a.jsonl')).toBeUndefined();
    expect(sourceOf(SOURCES, 'raw-c', 'in/a.jsonl')).toBeUndefined();
  });

  it('with SOURCES unset, gives every object its whole bucket without an output prefix', () => {
    expect(sourceOf(undefined, 'any', 'k/a.jsonl')).toStrictEqual({ bucket: 'any', prefix: '', outputPrefix: '' });
  });
});
