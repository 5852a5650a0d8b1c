import { describe, expect, it } from '@jest/globals';
import { firstScreenLines, READY_LINE, type FirstScreen } from '../../../../ops/local/first-screen.ts';
import type { SampleOutcome } from '../../../../ops/local/sample-files.ts';

const failedSample: SampleOutcome = {
  bucket: 'iot-raw',
  key: 'samples/sample_data.jsonl',
  report: { ref: { bucket: 'iot-raw', key: 'samples/sample_data.jsonl' }, outcome: 'failed_transient', durationSeconds: 0.01, error: 'socket hang up' },
  firstRecords: [],
  rejectedLines: [],
};

const screen = (changes: Partial<FirstScreen> = {}): FirstScreen => ({
  emulator: { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' },
  defaultEmulatorPort: 4566,
  rawBucket: 'iot-raw',
  processedLocation: 's3://iot-processed/',
  rejectedLocation: 's3://iot-processed/rejected/',
  queueUrl: 'http://127.0.0.1:4566/000000000000/iot-ingest',
  dlqUrl: 'http://127.0.0.1:4566/000000000000/iot-ingest-dlq',
  maxReceiveCount: 5,
  workerAddress: 'http://127.0.0.1:8080',
  temperatureThresholdCelsius: 10,
  unknownLocationId: 'unknown',
  samples: [failedSample],
  prometheusFindsWorker: true,
  ...changes,
});

describe('firstScreenLines', () => {
  it('names the ops commands as they are typed on the default port, and the Prometheus command that finds this worker', () => {
    const text = firstScreenLines(screen()).join('\n');

    expect(text).toContain('\n  npm run ops -- status --local ');
    expect(text).toContain('\n  npm run ops -- dlq peek --local ');
    expect(text).not.toContain('LOCAL_EMULATOR_PORT=');
    expect(text).toContain('  Metrics: http://127.0.0.1:8080/metrics; Prometheus with the alert rules, scraping this worker:\n');
    expect(text).toContain('\n    prometheus --config.file=ops/observability/prometheus.yml --storage.tsdb.path=/tmp/iot-ingest-prometheus\n');
  });

  it('does not offer the Prometheus command when the target file was not written', () => {
    const text = firstScreenLines(screen({ prometheusFindsWorker: false })).join('\n');

    expect(text).toContain('  Metrics: http://127.0.0.1:8080/metrics\n');
    expect(text).not.toContain('prometheus --config.file');
  });

  it('says how a sample ended when it did not succeed, and still ends with the ready line', () => {
    const lines = firstScreenLines(screen());

    expect(lines).toContain('s3://iot-raw/samples/sample_data.jsonl: ended as failed_transient: socket hang up');
    expect(lines.at(-2)).toBe(READY_LINE);
  });

  it('names the completion events queue and how to read it, only when the worker publishes to the local topic', () => {
    const fileEvents = { topicArn: 'arn:aws:sns:us-east-1:000000000000:iot-ingest-file-events', queueUrl: 'http://127.0.0.1:4566/000000000000/iot-ingest-file-events' };

    const text = firstScreenLines(screen({ fileEvents })).join('\n');
    const without = firstScreenLines(screen()).join('\n');

    expect(text).toContain(`  file events       ${fileEvents.topicArn}  → queue ${fileEvents.queueUrl}`);
    expect(text).toContain(
      `aws --region us-east-1 --endpoint-url http://127.0.0.1:4566 sqs receive-message --queue-url ${fileEvents.queueUrl} --max-number-of-messages 10\n`,
    );
    expect(without).not.toContain('file events');
    expect(without).not.toContain('receive-message');
  });
});
