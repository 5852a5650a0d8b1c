import { describe, expect, it } from '@jest/globals';
import { provenanceMetadata, readProvenance, type Provenance } from '../../../../../worker/common/provenance.ts';
import { classify, type OutputState } from '../../../../../ops/cli/reconcile/classify.ts';

const OBJECT = { key: 'in/site 1/a.jsonl', eTag: 'etag-new', size: 10 };
const COUNTS = { processed: 3, filtered: 1, rejected: 0 };

function provenance(
  overrides: { bucket?: string; key?: string; eTag?: string; versionId?: string; lastModified?: string; counts?: boolean } = {},
): Provenance | undefined {
  const source = {
    bucket: overrides.bucket ?? 'raw',
    key: overrides.key ?? OBJECT.key,
    eTag: overrides.eTag ?? OBJECT.eTag,
    ...(overrides.versionId ? { versionId: overrides.versionId } : {}),
    ...(overrides.lastModified ? { lastModified: overrides.lastModified } : {}),
  };
  return readProvenance(provenanceMetadata(source, overrides.counts === false ? undefined : COUNTS, '0.1.0'));
}

const present = (carried: Provenance | undefined): OutputState => ({ exists: true, provenance: carried });
const ABSENT: OutputState = { exists: false };

describe('reconcile classification', () => {
  it('is current when every output carries this version and the counts', () => {
    expect(classify('raw', OBJECT, [present(provenance()), present(provenance())])).toBe('current');
    expect(classify('raw', OBJECT, [present(provenance())])).toBe('current');
  });

  it('is missing when any expected output is absent', () => {
    expect(classify('raw', OBJECT, [ABSENT, present(provenance())])).toBe('missing');
    expect(classify('raw', OBJECT, [present(provenance()), ABSENT])).toBe('missing');
    expect(classify('raw', OBJECT, [ABSENT])).toBe('missing');
  });

  it('is stale when the outputs were made from another ETag, version id or object', () => {
    expect(classify('raw', OBJECT, [present(provenance({ eTag: 'etag-old' })), present(provenance({ eTag: 'etag-old' }))])).toBe('stale');
    expect(classify('raw', { ...OBJECT, versionId: 'v2' }, [present(provenance({ versionId: 'v1' }))])).toBe('stale');
    expect(classify('raw', OBJECT, [present(provenance({ bucket: 'other-raw' }))])).toBe('stale');
    expect(classify('raw', OBJECT, [present(provenance({ key: 'in/other.jsonl' }))])).toBe('stale');
  });

  it('is current when the outputs are from a later upload than the listed object (that one processed, then deleted or moved)', () => {
    const older = { ...OBJECT, eTag: 'etag-old', lastModified: new Date('2026-12-02T10:00:00.000Z') };
    const later = provenance({ eTag: 'etag-later', lastModified: '2026-12-02T10:00:05.000Z' });
    const earlier = provenance({ eTag: 'etag-earlier', lastModified: '2026-12-02T09:59:00.000Z' });

    expect(classify('raw', older, [present(later), present(later)])).toBe('current');
    expect(classify('raw', older, [present(earlier), present(earlier)])).toBe('stale');
  });

  it('ignores version ids when the listing does not know them (ListObjectsV2)', () => {
    expect(classify('raw', OBJECT, [present(provenance({ versionId: 'v1' }))])).toBe('current');
  });

  it('is incomplete when the counts are absent, an output carries no provenance, or only one output carries this version', () => {
    expect(classify('raw', OBJECT, [present(provenance({ counts: false })), present(provenance())])).toBe('incomplete');
    expect(classify('raw', OBJECT, [present(undefined), present(undefined)])).toBe('incomplete');
    expect(classify('raw', OBJECT, [present(provenance()), present(provenance({ eTag: 'etag-old' }))])).toBe('incomplete');
    expect(classify('raw', OBJECT, [present(provenance()), present(undefined)])).toBe('incomplete');
  });
});
