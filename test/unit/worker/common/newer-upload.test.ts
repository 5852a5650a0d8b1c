import { describe, expect, it } from '@jest/globals';
import { compareSequencers, isFromNewerUpload } from '../../../../worker/common/newer-upload.ts';
import type { Provenance, ProvenanceSource } from '../../../../worker/common/provenance.ts';

const EXISTING: Provenance = { sourceBucket: 'raw', sourceKeySha256: 'abc', sourceETag: 'e-new', workerVersion: 't' };
const OURS: ProvenanceSource = { bucket: 'raw', key: 'k', eTag: 'e-old' };

describe('compareSequencers', () => {
  it('right-pads the shorter value with zeros, then compares, as S3 documents', () => {
    expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD9028', '0055AED6DCD90281E5')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD90290', '0055AED6DCD90281E5')).toBeGreaterThan(0);
    expect(compareSequencers('0a', '0A00')).toBe(0);
  });
});

describe('isFromNewerUpload', () => {
  it('orders by sequencer when both uploads came from S3 events, whatever the clocks say', () => {
    const existing = { ...EXISTING, sourceSequencer: '0B', sourceLastModified: '2026-01-01T00:00:00.000Z' };
    expect(isFromNewerUpload(existing, { ...OURS, sequencer: '0A', lastModified: '2026-01-01T00:00:09.000Z' })).toBe(true);
    expect(isFromNewerUpload(existing, { ...OURS, sequencer: '0C' })).toBe(false);
  });

  it('falls back to Last-Modified, and calls two uploads within one second, or without times, not newer', () => {
    const existing = { ...EXISTING, sourceLastModified: '2026-01-01T00:00:02.000Z' };
    expect(isFromNewerUpload(existing, { ...OURS, lastModified: '2026-01-01T00:00:01.000Z', sequencer: '0A' })).toBe(true);
    expect(isFromNewerUpload(existing, { ...OURS, lastModified: '2026-01-01T00:00:02.000Z' })).toBe(false);
    expect(isFromNewerUpload(existing, OURS)).toBe(false);
    expect(isFromNewerUpload(EXISTING, { ...OURS, lastModified: '2026-01-01T00:00:01.000Z' })).toBe(false);
  });

  it('never calls the same upload newer: processing it again writes its outputs again', () => {
    const existing = { ...EXISTING, sourceETag: 'e-old', sourceLastModified: '2026-01-01T00:00:09.000Z' };
    expect(isFromNewerUpload(existing, { ...OURS, eTag: '"e-old"', lastModified: '2026-01-01T00:00:01.000Z' })).toBe(false);
    expect(isFromNewerUpload({ ...existing, sourceVersionId: 'v2' }, { ...OURS, versionId: 'v1', lastModified: '2026-01-01T00:00:01.000Z' })).toBe(true);
  });
});
