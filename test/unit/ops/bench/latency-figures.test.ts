import { describe, expect, it } from '@jest/globals';
import { bestFixedCell, defaultVsBestFixed, defaultVsFixed, worstDefaultRequestsPerFile } from '../../../../ops/bench/latency-figures.ts';
import { latencyCell, latencyFigures } from './latency-fixtures.ts';

const figures = latencyFigures([
  latencyCell(0, 1, 80),
  latencyCell(0, 8, 120),
  latencyCell(0, 64, 130),
  latencyCell(0, 'default', 200),
  latencyCell(60, 1, 4),
  latencyCell(60, 8, 30),
  latencyCell(60, 64, 80),
  latencyCell(60, 'default', 72),
]);

describe('bestFixedCell', () => {
  it('takes the fixed bound with the most files/s at that delay, never the default', () => {
    expect(bestFixedCell(figures, 0)?.bound).toBe(64);
    expect(bestFixedCell(figures, 60)?.bound).toBe(64);
  });

  it('is undefined for a delay that did not run, or without the scenario', () => {
    expect(bestFixedCell(figures, 20)).toBeUndefined();
    expect(bestFixedCell(undefined, 0)).toBeUndefined();
  });
});

describe('defaultVsBestFixed and defaultVsFixed', () => {
  it('divide the default files/s by the best fixed bound’s, or by one bound’s, at the same delay', () => {
    expect(defaultVsBestFixed(figures, 60)).toBeCloseTo(0.9);
    expect(defaultVsFixed(figures, 60, 1)).toBe(18);
    expect(defaultVsFixed(figures, 0, 8)).toBeCloseTo(200 / 120);
  });

  it('are null when a cell is missing', () => {
    expect(defaultVsBestFixed(figures, 20)).toBeNull();
    expect(defaultVsFixed(figures, 0, 32)).toBeNull();
    expect(defaultVsBestFixed(latencyFigures([latencyCell(0, 8, 100)]), 0)).toBeNull();
  });
});

describe('worstDefaultRequestsPerFile', () => {
  const at = (delayMs: number, sqs: Record<string, number>, s3: Record<string, number>) => latencyCell(delayMs, 'default', 100, { sqs, s3 });

  it('counts receives, deletes and visibility changes for SQS, every request for S3, and takes the most of any delay', () => {
    const result = latencyFigures([
      at(0, { ReceiveMessage: 50, DeleteMessageBatch: 10, ChangeMessageVisibility: 5, GetQueueAttributes: 40 }, { GetObject: 100, PutObject: 200 }),
      at(60, { ReceiveMessage: 90, DeleteMessageBatch: 30 }, { GetObject: 100, PutObject: 200, CreateMultipartUpload: 10 }),
      latencyCell(60, 8, 100, { sqs: { ReceiveMessage: 1_000 }, s3: { GetObject: 1_000 } }),
    ]);

    expect(worstDefaultRequestsPerFile(result, 'sqs')).toBeCloseTo(1.2);
    expect(worstDefaultRequestsPerFile(result, 's3')).toBeCloseTo(3.1);
  });

  it('is null when no default cell went through the proxy', () => {
    expect(worstDefaultRequestsPerFile(latencyFigures([latencyCell(0, 'default', 100)]), 'sqs')).toBeNull();
    expect(worstDefaultRequestsPerFile(undefined, 's3')).toBeNull();
  });
});
