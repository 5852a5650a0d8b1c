import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  PROVENANCE_KEYS,
  provenanceMetadata,
  readProvenance,
  USER_METADATA_LIMIT_BYTES,
  userMetadataBytes,
} from '../../../../worker/common/provenance.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const source = { bucket: 'raw-bucket', key: 'site-7/2026/12/02/dev ü+1.jsonl', versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY', eTag: '"0123456789abcdef0123456789abcdef"' };
const counts = { processed: 12, filtered: 3, rejected: 1 };

describe('provenanceMetadata', () => {
  it('names the source, its version and ETag (unquoted), the counts and the worker version, in ASCII', () => {
    const metadata = provenanceMetadata(source, counts, '0.1.0');
    expect(metadata).toEqual({
      'source-bucket': 'raw-bucket',
      'source-key': 'site-7%2F2026%2F12%2F02%2Fdev%20%C3%BC%2B1.jsonl',
      'source-key-sha256': sha256(source.key),
      'source-version-id': source.versionId,
      'source-etag': '0123456789abcdef0123456789abcdef',
      'lines-processed': '12',
      'lines-filtered': '3',
      'lines-rejected': '1',
      'worker-version': '0.1.0',
    });
    for (const [name, value] of Object.entries(metadata)) expect(`${name}${value}`).toMatch(/^[\x20-\x7e]*$/);
  });

  it('leaves out the version id when the source has none, and the counts until they are known', () => {
    const metadata = provenanceMetadata({ bucket: 'b', key: 'k', eTag: 'e' }, undefined, '1.2.3');
    expect(Object.keys(metadata).sort()).toEqual(['source-bucket', 'source-etag', 'source-key', 'source-key-sha256', 'worker-version']);
  });

  it('omits source-key when it would not fit S3’s 2 KB, keeping source-key-sha256', () => {
    const key = '温度'.repeat(170); // 1,020 bytes of UTF-8, 3,060 characters once percent-encoded
    const metadata = provenanceMetadata({ ...source, key }, counts, '0.1.0');
    expect(metadata[PROVENANCE_KEYS.sourceKey]).toBeUndefined();
    expect(metadata[PROVENANCE_KEYS.sourceKeySha256]).toBe(sha256(key));
    expect(userMetadataBytes(metadata)).toBeLessThanOrEqual(USER_METADATA_LIMIT_BYTES);
  });

  it('decides on source-key the same way with and without counts, so adding the counts later never changes the names', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 700 }), fc.nat(), fc.nat(), fc.nat(), (key, processed, filtered, rejected) => {
        const before = provenanceMetadata({ ...source, key }, undefined, '0.1.0');
        const after = provenanceMetadata({ ...source, key }, { processed, filtered, rejected }, '0.1.0');
        expect(PROVENANCE_KEYS.sourceKey in before).toBe(PROVENANCE_KEYS.sourceKey in after);
        expect(userMetadataBytes(after)).toBeLessThanOrEqual(USER_METADATA_LIMIT_BYTES);
      }),
    );
  });

  it('fits every key S3 accepts (up to 1,024 bytes) with the largest counts', () => {
    const widest = { processed: Number.MAX_SAFE_INTEGER, filtered: Number.MAX_SAFE_INTEGER, rejected: Number.MAX_SAFE_INTEGER };
    for (const key of ['a'.repeat(1024), '%'.repeat(1024), '\u{1F600}'.repeat(256), 'é'.repeat(512)]) {
      const metadata = provenanceMetadata({ ...source, key }, widest, '10.20.30-rc.1');
      expect(userMetadataBytes(metadata)).toBeLessThanOrEqual(USER_METADATA_LIMIT_BYTES);
    }
    // A plain ASCII key of S3's maximum length still travels whole.
    expect(provenanceMetadata({ ...source, key: 'a'.repeat(1024) }, widest, '0.1.0')[PROVENANCE_KEYS.sourceKey]).toBe('a'.repeat(1024));
  });
});

describe('readProvenance', () => {
  it('round-trips what provenanceMetadata wrote', () => {
    expect(readProvenance(provenanceMetadata(source, counts, '0.1.0'))).toEqual({
      sourceBucket: 'raw-bucket',
      sourceKey: source.key,
      sourceKeySha256: sha256(source.key),
      sourceVersionId: source.versionId,
      sourceETag: '0123456789abcdef0123456789abcdef',
      lines: counts,
      workerVersion: '0.1.0',
    });
  });

  it('round-trips any key, with or without version and counts', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9._+-]{1,40}$/), { nil: undefined }),
        fc.option(fc.record({ processed: fc.nat(), filtered: fc.nat(), rejected: fc.nat() }), { nil: undefined }),
        (key, versionId, lineCounts) => {
          const read = readProvenance(provenanceMetadata({ bucket: 'b', key, versionId, eTag: 'e-2' }, lineCounts, 'v'));
          expect(read?.sourceKey).toBe(key);
          expect(read?.sourceKeySha256).toBe(sha256(key));
          expect(read?.sourceVersionId).toBe(versionId);
          expect(read?.lines).toEqual(lineCounts);
        },
      ),
    );
  });

  it('gives lines undefined (incomplete) unless all three counts are decimal numbers', () => {
    const complete = provenanceMetadata(source, counts, '0.1.0');
    expect(readProvenance(provenanceMetadata(source, undefined, '0.1.0'))?.lines).toBeUndefined();
    expect(readProvenance({ ...complete, 'lines-rejected': '' })?.lines).toBeUndefined();
    expect(readProvenance({ ...complete, 'lines-filtered': '-1' })?.lines).toBeUndefined();
    expect(readProvenance({ ...complete, 'lines-processed': '1e3' })?.lines).toBeUndefined();
    const withoutProcessed = Object.fromEntries(Object.entries(complete).filter(([name]) => name !== PROVENANCE_KEYS.linesProcessed));
    expect(readProvenance(withoutProcessed)?.lines).toBeUndefined();
  });

  it('is undefined for an object that carries no provenance, such as one written before it (source-etag alone)', () => {
    expect(readProvenance(undefined)).toBeUndefined();
    expect(readProvenance({})).toBeUndefined();
    expect(readProvenance({ 'source-etag': 'abc' })).toBeUndefined();
  });

  it('reads names whatever their case, and a long key’s provenance without source-key', () => {
    const upper = Object.fromEntries(Object.entries(provenanceMetadata(source, counts, '0.1.0')).map(([name, value]) => [name.toUpperCase(), value]));
    expect(readProvenance(upper)?.sourceKey).toBe(source.key);
    const longKey = '温度'.repeat(170);
    const read = readProvenance(provenanceMetadata({ ...source, key: longKey }, counts, '0.1.0'));
    expect(read).toBeDefined();
    expect(read?.sourceKey).toBeUndefined();
    expect(read?.sourceKeySha256).toBe(sha256(longKey));
  });

  it('leaves sourceKey out when source-key is not valid percent-encoding, instead of throwing', () => {
    const read = readProvenance({ ...provenanceMetadata(source, counts, '0.1.0'), 'source-key': '%E0%A4%A' });
    expect(read?.sourceKey).toBeUndefined();
    expect(read?.sourceKeySha256).toBe(sha256(source.key));
  });
});
