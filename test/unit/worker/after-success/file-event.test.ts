import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { buildFileEvent, fileEventAttributes, fileEventId, fitForSns, FILE_EVENT_TYPE } from '../../../../worker/after-success/file-event.ts';
import { emptyTally } from '../../../../worker/records/line-outcomes.ts';

const SOURCE = { bucket: 'raw', key: 'site 1/a.jsonl', versionId: 'v1', eTag: '9b2cf535f27731c974343645a3985328', lastModified: '2026-12-02T16:01:07.000Z' };

describe('fileEventId', () => {
  it('is the first 32 hex characters of SHA-256 over bucket, key, version id, ETag and Last-Modified, one per line', () => {
    const identity = 'raw\nsite 1/a.jsonl\nv1\n9b2cf535f27731c974343645a3985328\n2026-12-02T16:01:07.000Z';
    const expected = createHash('sha256').update(identity).digest('hex').slice(0, 32);

    expect(fileEventId(SOURCE)).toBe(expected);
    expect(fileEventId(SOURCE)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is the same for the same version, quoted ETag or not, and differs for another version or ETag', () => {
    expect(fileEventId({ ...SOURCE, eTag: `"${SOURCE.eTag}"` })).toBe(fileEventId(SOURCE));
    expect(fileEventId({ ...SOURCE, versionId: 'v2' })).not.toBe(fileEventId(SOURCE));
    expect(fileEventId({ ...SOURCE, eTag: 'other' })).not.toBe(fileEventId(SOURCE));
  });

  it('differs for the same bytes uploaded again (A, B, A on an unversioned bucket): another Last-Modified', () => {
    const unversioned = { bucket: SOURCE.bucket, key: SOURCE.key, eTag: SOURCE.eTag };
    const first = fileEventId({ ...unversioned, lastModified: '2026-12-02T16:01:07.000Z' });
    const again = fileEventId({ ...unversioned, lastModified: '2026-12-02T16:01:09.000Z' });

    expect(again).not.toBe(first);
  });

  it('takes an empty version id for an unversioned object', () => {
    const unversioned = { bucket: SOURCE.bucket, key: SOURCE.key, eTag: SOURCE.eTag, lastModified: SOURCE.lastModified };
    const expected = createHash('sha256').update(`raw\nsite 1/a.jsonl\n\n${SOURCE.eTag}\n${SOURCE.lastModified}`).digest('hex').slice(0, 32);

    expect(fileEventId(unversioned)).toBe(expected);
  });
});

describe('buildFileEvent', () => {
  it('names the source version, the outputs, the counts by outcome and reason, the duration and the worker', () => {
    const tally = { ...emptyTally(), processed: 5, filtered: 2, rejected: 3, rejectedByReason: { invalid_json: 2, missing_field: 1 } };
    const outputs = {
      processed: [{ bucket: 'out', key: 'site 1/a.jsonl', bytes: 500 }],
      rejected: { bucket: 'out', key: 'rejected/site 1/a.jsonl', bytes: 300 },
    };

    const event = buildFileEvent({ source: SOURCE, outputs, tally, durationMs: 12.6, workerVersion: '1.2.3', completedAtMs: Date.UTC(2026, 11, 2, 16, 0, 0) });

    expect(event).toStrictEqual({
      type: FILE_EVENT_TYPE,
      eventId: fileEventId(SOURCE),
      source: { bucket: 'raw', key: 'site 1/a.jsonl', versionId: 'v1', eTag: SOURCE.eTag },
      outputs,
      counts: { processed: 5, filtered: 2, rejected: 3, rejectedByReason: { invalid_json: 2, missing_field: 1 } },
      durationMs: 13,
      workerVersion: '1.2.3',
      completedAt: '2026-12-02T16:00:00.000Z',
    });
    expect(fileEventAttributes(event)).toStrictEqual({
      type: { DataType: 'String', StringValue: 'iot-ingest.file.processed' },
      eventId: { DataType: 'String', StringValue: event.eventId },
    });
  });

  it('says versionId null for an unversioned object', () => {
    const unversioned = { bucket: SOURCE.bucket, key: SOURCE.key, eTag: SOURCE.eTag };
    const outputs = { processed: [], rejected: { bucket: 'out', key: 'rejected/a', bytes: 0 } };

    const event = buildFileEvent({ source: unversioned, outputs, tally: emptyTally(), durationMs: 1, workerVersion: '1', completedAtMs: 0 });

    expect(event.source.versionId).toBeNull();
  });
});

describe('fitForSns', () => {
  const event = (partitions: number) =>
    buildFileEvent({
      source: SOURCE,
      outputs: {
        processed: Array.from({ length: partitions }, (_, day) => ({ bucket: 'out', key: `parquet/dt=${1000 + day}/${'k'.repeat(900)}.parquet`, bytes: 1 })),
        rejected: { bucket: 'out', key: 'rejected/a', bytes: 0 },
      },
      tally: emptyTally(),
      durationMs: 1,
      workerVersion: '1',
      completedAtMs: 0,
    });

  it('leaves an event that fits as it is', () => {
    expect(fitForSns(event(3))).toStrictEqual(event(3));
  });

  it('leaves out processed objects from the end until the event fits, and says how many', () => {
    const whole = event(400);

    const fitted = fitForSns(whole, 100_000);

    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(100_000);
    expect(fitted.outputs.processed).toStrictEqual(whole.outputs.processed.slice(0, fitted.outputs.processed.length));
    expect(fitted.processedOutputsOmitted).toBe(400 - fitted.outputs.processed.length);
    // As many as fit: one more would not.
    const oneMore = { ...fitted, outputs: { ...fitted.outputs, processed: whole.outputs.processed.slice(0, fitted.outputs.processed.length + 1) } };
    expect(Buffer.byteLength(JSON.stringify(oneMore))).toBeGreaterThan(100_000);
  });
});
