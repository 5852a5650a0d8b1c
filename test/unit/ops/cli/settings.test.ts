import { describe, it, expect } from '@jest/globals';
import { UsageError } from '../../../../ops/cli/exit-codes.ts';
import {
  resolveBucket,
  resolveConnection,
  resolveDeadLetterQueue,
  resolveOutputLocation,
  resolveQueue,
  resolveRawSide,
} from '../../../../ops/cli/settings.ts';

const AWS_ENV = {
  AWS_REGION: 'eu-west-1',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
  DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest-dlq',
  RAW_BUCKET: 'raw-env',
  PROCESSED_BUCKET: 'processed-env',
} as const;

function usageMessage(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('resolveConnection', () => {
  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION, and leaves the endpoint to the SDK on AWS', () => {
    expect(resolveConnection({}, { AWS_REGION: 'eu-west-1' })).toEqual({
      aws: { region: 'eu-west-1', endpoint: undefined, forcePathStyle: false },
      local: false,
    });
    expect(resolveConnection({}, { AWS_DEFAULT_REGION: 'us-west-2' }).aws.region).toBe('us-west-2');
  });

  it('lets a flag win over its variable, and uses path-style S3 with an endpoint', () => {
    const connection = resolveConnection({ region: 'ap-south-1', endpoint: 'http://127.0.0.1:9000' }, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://other:1' });
    expect(connection.aws).toEqual({ region: 'ap-south-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    expect(resolveConnection({}, { AWS_REGION: 'r', AWS_ENDPOINT_URL: 'http://e:1', S3_FORCE_PATH_STYLE: 'false' }).aws.forcePathStyle).toBe(false);
  });

  it('with --local: the npm start endpoint (LOCAL_EMULATOR_PORT) and us-east-1, whatever the AWS variables say', () => {
    expect(resolveConnection({ local: true }, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'https://elsewhere' })).toEqual({
      aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', forcePathStyle: true },
      local: true,
    });
    expect(resolveConnection({ local: true }, { LOCAL_EMULATOR_PORT: '45000' }).aws.endpoint).toBe('http://127.0.0.1:45000');
  });

  it('names the flag and the variable of a missing or malformed setting', () => {
    expect(usageMessage(() => resolveConnection({}, {}))).toBe(
      'no AWS region: pass --region or set AWS_REGION (or pass --local for the npm start stack)',
    );
    expect(usageMessage(() => resolveConnection({}, { AWS_REGION: 'r', AWS_ENDPOINT_URL: 'ftp://x' }))).toBe(
      '--endpoint / AWS_ENDPOINT_URL must be an http(s) URL (the endpoint URL); got "ftp://x"',
    );
    expect(usageMessage(() => resolveConnection({ local: true }, { LOCAL_EMULATOR_PORT: '70000' }))).toBe(
      'LOCAL_EMULATOR_PORT must be a port number from 1 to 65535; got "70000"',
    );
    expect(usageMessage(() => resolveConnection({}, { AWS_REGION: 'r', S3_FORCE_PATH_STYLE: 'maybe' }))).toBe(
      'S3_FORCE_PATH_STYLE must be "true" or "false"; got "maybe"',
    );
  });
});

describe('queues and buckets', () => {
  it('reads URLs and buckets from flags or the variables', () => {
    expect(resolveQueue({}, AWS_ENV)).toEqual({ url: AWS_ENV.QUEUE_URL });
    expect(resolveQueue({ queueUrl: 'http://127.0.0.1:1/0/q' }, AWS_ENV)).toEqual({ url: 'http://127.0.0.1:1/0/q' });
    expect(resolveDeadLetterQueue({}, AWS_ENV)).toEqual({ url: AWS_ENV.DLQ_URL });
    expect(resolveBucket({}, AWS_ENV, 'rawBucket')).toBe('raw-env');
    expect(resolveBucket({ rawBucket: 'raw-flag' }, AWS_ENV, 'rawBucket')).toBe('raw-flag');
  });

  it('finds the DLQ through the ingest queue when only the queue is known', () => {
    const env = { ...AWS_ENV, DLQ_URL: undefined };
    expect(resolveDeadLetterQueue({}, env)).toEqual({ fromRedrivePolicyOf: { url: AWS_ENV.QUEUE_URL } });
    expect(usageMessage(() => resolveDeadLetterQueue({}, {}))).toBe(
      'no dead-letter queue URL: pass --dlq-url or set DLQ_URL, or give the ingest queue (--queue-url or QUEUE_URL) to find it from its redrive policy (or pass --local for the npm start stack)',
    );
  });

  it('with --local: the default names, queues looked up by name, and the variables ignored', () => {
    expect(resolveQueue({ local: true }, AWS_ENV)).toEqual({ name: 'iot-ingest' });
    expect(resolveDeadLetterQueue({ local: true }, AWS_ENV)).toEqual({ name: 'iot-ingest-dlq' });
    expect(resolveBucket({ local: true }, AWS_ENV, 'rawBucket')).toBe('iot-raw');
    expect(resolveBucket({ local: true, rawBucket: 'mine' }, AWS_ENV, 'rawBucket')).toBe('mine');
  });

  it('with --local still honours PROCESSED_BUCKET, as npm start passes it to its worker', () => {
    expect(resolveBucket({ local: true }, AWS_ENV, 'processedBucket')).toBe('processed-env');
    expect(resolveBucket({ local: true }, {}, 'processedBucket')).toBe('iot-processed');
  });

  it('refuses a queue URL that is not http(s), and names a missing bucket', () => {
    expect(usageMessage(() => resolveQueue({ queueUrl: 'ingest' }, {}))).toContain('--queue-url / QUEUE_URL must be an http(s) URL');
    expect(usageMessage(() => resolveBucket({}, {}, 'rawBucket'))).toBe(
      'no raw bucket: pass --raw-bucket or set RAW_BUCKET (or pass --local for the npm start stack)',
    );
  });
});

describe('resolveOutputLocation', () => {
  it('uses the worker defaults: no processed prefix, rejected/ in the processed bucket', () => {
    expect(resolveOutputLocation({}, AWS_ENV)).toEqual({
      processedBucket: 'processed-env',
      processedPrefix: '',
      rejectedBucket: 'processed-env',
      rejectedPrefix: 'rejected/',
    });
  });

  it('takes the prefixes and the rejected bucket from the worker variables, or --processed-prefix', () => {
    const env = { ...AWS_ENV, PROCESSED_PREFIX: 'out/', REJECTED_BUCKET: 'bad', REJECTED_PREFIX: 'r/' };
    expect(resolveOutputLocation({}, env)).toEqual({ processedBucket: 'processed-env', processedPrefix: 'out/', rejectedBucket: 'bad', rejectedPrefix: 'r/' });
    expect(resolveOutputLocation({ processedPrefix: 'flag/' }, env).processedPrefix).toBe('flag/');
    expect(usageMessage(() => resolveOutputLocation({ processedPrefix: '/abs' }, env))).toContain('must be an S3 key prefix');
    expect(usageMessage(() => resolveOutputLocation({}, { ...env, REJECTED_PREFIX: '/r/' }))).toBe(
      'REJECTED_PREFIX must be an S3 key prefix that does not start with "/"; got "/r/"',
    );
    expect(resolveOutputLocation({}, { ...env, REJECTED_PREFIX: '' }).rejectedPrefix).toBe('');
  });
});

describe('resolveRawSide', () => {
  const SOURCES = '[{"bucket":"raw-a","prefix":"fleet/","outputPrefix":"a/"},{"bucket":"partner","outputPrefix":"p/","expectedBucketOwner":"111122223333"}]';

  it('without SOURCES: the raw bucket as always, with --expected-bucket-owner if given', () => {
    expect(resolveRawSide({}, AWS_ENV)).toEqual({ sources: undefined, bucket: 'raw-env', expectedBucketOwner: undefined });
    expect(resolveRawSide({ rawBucket: 'raw-flag', expectedBucketOwner: '111122223333' }, AWS_ENV)).toEqual({ sources: undefined, bucket: 'raw-flag', expectedBucketOwner: '111122223333' });
  });

  it('with SOURCES (or --sources, which wins): the sources, and a bucket only when --raw-bucket names one', () => {
    const fromEnv = resolveRawSide({}, { ...AWS_ENV, SOURCES });
    expect(fromEnv.bucket).toBeUndefined();
    expect(fromEnv.sources?.map((source) => source.bucket)).toEqual(['raw-a', 'partner']);
    expect(resolveRawSide({ sources: '[{"bucket":"only"}]' }, { ...AWS_ENV, SOURCES }).sources).toEqual([{ bucket: 'only', prefix: '', outputPrefix: '' }]);
    expect(resolveRawSide({ rawBucket: 'partner' }, { ...AWS_ENV, SOURCES }).bucket).toBe('partner');
  });

  it('names the flag and the variable of a bad SOURCES, and refuses an owner that is not an account id', () => {
    expect(usageMessage(() => resolveRawSide({}, { ...AWS_ENV, SOURCES: '{' }))).toMatch(/^--sources \/ SOURCES: not JSON/);
    expect(usageMessage(() => resolveRawSide({ sources: '[]' }, AWS_ENV))).toBe('--sources / SOURCES: must be a non-empty JSON array of sources');
    expect(usageMessage(() => resolveRawSide({ expectedBucketOwner: '1234' }, AWS_ENV))).toBe('--expected-bucket-owner must be a 12-digit AWS account id; got "1234"');
  });
});
