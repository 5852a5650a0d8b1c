import { describe, it, expect } from '@jest/globals';
import { PermanentFileError } from '../../../../worker/errors.ts';
import { outputKeys, type OutputLocation } from '../../../../worker/output/output-keys.ts';

const DEFAULTS: OutputLocation = { processedBucket: 'out', processedPrefix: '', rejectedBucket: 'out', rejectedPrefix: 'rejected/' };

function collisionOf(output: OutputLocation, key: string, outputPrefix?: string): PermanentFileError {
  try {
    outputKeys(output, key, outputPrefix);
  } catch (error) {
    if (error instanceof PermanentFileError) return error;
    throw error;
  }
  throw new Error('outputKeys did not throw');
}

describe('outputKeys', () => {
  it('puts processed output at the raw key and rejected output under rejected/ by default', () => {
    expect(outputKeys(DEFAULTS, 'site-1/2025/a b.jsonl.gz')).toStrictEqual({
      outputName: 'site-1/2025/a b.jsonl.gz',
      processed: { bucket: 'out', key: 'site-1/2025/a b.jsonl.gz' },
      rejected: { bucket: 'out', key: 'rejected/site-1/2025/a b.jsonl.gz' },
    });
  });

  it('prepends both configured prefixes', () => {
    expect(outputKeys({ ...DEFAULTS, processedPrefix: 'ok/', rejectedPrefix: 'bad/' }, 'a.jsonl')).toStrictEqual({
      outputName: 'a.jsonl',
      processed: { bucket: 'out', key: 'ok/a.jsonl' },
      rejected: { bucket: 'out', key: 'bad/a.jsonl' },
    });
  });

  it('refuses a key whose processed output would land under the rejected prefix', () => {
    const error = collisionOf(DEFAULTS, 'rejected/a.jsonl');
    expect(error.reason).toBe('output_key_collision');
    expect(error.message).toBe('the processed output s3://out/rejected/a.jsonl would land under the rejected prefix "rejected/"');
  });

  it('refuses the collision when the rejected prefix nests inside the processed prefix', () => {
    const output = { ...DEFAULTS, processedPrefix: 'out/', rejectedPrefix: 'out/rejected/' };
    expect(collisionOf(output, 'rejected/a.jsonl').reason).toBe('output_key_collision');
    expect(outputKeys(output, 'rejectedx.jsonl').processed).toStrictEqual({ bucket: 'out', key: 'out/rejectedx.jsonl' });
  });

  it("puts the source's output prefix between each output's prefix and the raw key", () => {
    expect(outputKeys({ ...DEFAULTS, processedPrefix: 'ok/' }, 'site-1/a.jsonl', 'east/')).toStrictEqual({
      outputName: 'east/site-1/a.jsonl',
      processed: { bucket: 'out', key: 'ok/east/site-1/a.jsonl' },
      rejected: { bucket: 'out', key: 'rejected/east/site-1/a.jsonl' },
    });
  });

  it('refuses a key whose output prefix puts its processed output under the rejected prefix', () => {
    const error = collisionOf(DEFAULTS, 'a.jsonl', 'rejected/');
    expect(error.reason).toBe('output_key_collision');
    expect(error.message).toBe('the processed output s3://out/rejected/a.jsonl would land under the rejected prefix "rejected/"');
  });

  it('counts the output prefix in the key length S3 allows', () => {
    const key = 'k'.repeat(1000);
    expect(outputKeys(DEFAULTS, key).rejected.key).toHaveLength(1009);
    expect(collisionOf(DEFAULTS, key, 'p'.repeat(15) + '/').reason).toBe('output_key_too_long');
  });

  it('never sees a collision when the outputs use different buckets', () => {
    const output = { ...DEFAULTS, rejectedBucket: 'out-rejected' };
    expect(outputKeys(output, 'rejected/a.jsonl')).toStrictEqual({
      outputName: 'rejected/a.jsonl',
      processed: { bucket: 'out', key: 'rejected/a.jsonl' },
      rejected: { bucket: 'out-rejected', key: 'rejected/rejected/a.jsonl' },
    });
  });
});
