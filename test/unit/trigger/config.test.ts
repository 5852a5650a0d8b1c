import { describe, it, expect } from '@jest/globals';
import { hasEndpointOverride, parseTriggerConfig } from '../../../trigger/config.ts';
import { ConfigError, type Environment } from '../../../worker/common/settings.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest';

function configError(env: Environment): ConfigError {
  try {
    parseTriggerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('parseTriggerConfig did not throw');
}

describe('parseTriggerConfig', () => {
  it('defaults SUFFIXES to .jsonl and .jsonl.gz', () => {
    expect(parseTriggerConfig({ QUEUE_URL })).toStrictEqual({ queueUrl: QUEUE_URL, suffixes: ['.jsonl', '.jsonl.gz', '.jsonl.zst'] });
    expect(parseTriggerConfig({ QUEUE_URL, SUFFIXES: ' ' }).suffixes).toEqual(['.jsonl', '.jsonl.gz', '.jsonl.zst']);
  });

  it('reads comma-separated SUFFIXES, trimmed and without repeats', () => {
    expect(parseTriggerConfig({ QUEUE_URL, SUFFIXES: '.csv, .jsonl ,.csv' }).suffixes).toEqual(['.csv', '.jsonl']);
  });

  it.each([',', '.jsonl,', '.jsonl,,.csv', '.json l'])('refuses SUFFIXES=%j, naming the variable', (value) => {
    const error = configError({ QUEUE_URL, SUFFIXES: value });
    expect(error.variable).toBe('SUFFIXES');
    expect(error.message).toMatch(/^SUFFIXES must be/);
  });

  it('requires QUEUE_URL, naming it', () => {
    expect(configError({}).message).toBe('QUEUE_URL must be the ingest queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME); it is not set');
    expect(configError({ QUEUE_URL: '' }).variable).toBe('QUEUE_URL');
  });

  it('refuses a QUEUE_URL that is not an http(s) URL', () => {
    expect(configError({ QUEUE_URL: 'ingest' }).message).toMatch(/^QUEUE_URL must be .*; got "ingest"$/);
  });
});

describe('hasEndpointOverride', () => {
  it('is true when AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_SQS names an endpoint, as the SDK reads them', () => {
    expect(hasEndpointOverride({})).toBe(false);
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL: '' })).toBe(false);
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL_SQS: '', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566' })).toBe(true);
  });

  it('is false when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS tells the SDK to ignore them', () => {
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toBe(false);
  });
});
