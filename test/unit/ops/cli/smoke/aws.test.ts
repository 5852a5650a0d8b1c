/**
 * The smoke test's AWS-facing pieces without AWS: stack outputs as settings, the metrics parser, where
 * metrics and alarms are looked for, and the alarm step against a fake CloudWatch.
 */
import { describe, expect, it } from '@jest/globals';
import type { DescribeAlarmsCommandInput, MetricAlarm, SetAlarmStateCommandInput } from '@aws-sdk/client-cloudwatch';
import { UsageError } from '../../../../../ops/cli/exit-codes.ts';
import { fireSmokeAlarm, pickAlarm, type AlarmApi } from '../../../../../ops/cli/smoke/alarm.ts';
import { sumSamples } from '../../../../../ops/cli/smoke/metrics.ts';
import { alarmLocator, metricsSource, parquetPrefix, smokeRules } from '../../../../../ops/cli/smoke/settings.ts';
import { environmentWithOutputs, parseStackOutputs, regionOfQueueUrl } from '../../../../../ops/cli/smoke/stack-outputs.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/IotIngest-QueuesIngest-AbC';
const OUTPUT_VALUES = {
  RawBucketName: 'iotingest-raw-1',
  ProcessedBucketName: 'iotingest-processed-1',
  QueueUrl: QUEUE_URL,
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/IotIngest-QueuesDlq-XyZ',
  AlarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:IotIngest-AlarmTopic',
};

describe('stack outputs', () => {
  it('reads the file cdk deploy --outputs-file writes, picking the only stack', () => {
    const outputs = parseStackOutputs(JSON.stringify({ IotIngest: OUTPUT_VALUES }), undefined, 'out.json');

    expect(outputs).toEqual({ stackName: 'IotIngest', values: OUTPUT_VALUES });
  });

  it('reads aws cloudformation describe-stacks output, and --stack picks among several', () => {
    const describe = { Stacks: [{ StackName: 'Ingest-IotIngest', Outputs: Object.entries(OUTPUT_VALUES).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] };
    const several = JSON.stringify({ Other: { A: 'b' }, 'Ingest-IotIngest': OUTPUT_VALUES });

    expect(parseStackOutputs(JSON.stringify(describe), undefined, 'd.json').values).toEqual(OUTPUT_VALUES);
    expect(parseStackOutputs(several, 'Ingest-IotIngest', 'f').stackName).toBe('Ingest-IotIngest');
    expect(() => parseStackOutputs(several, undefined, 'f')).toThrow('f holds the stacks Other, Ingest-IotIngest: pass --stack NAME');
    expect(() => parseStackOutputs(several, 'Nope', 'f')).toThrow('not Nope');
    expect(() => parseStackOutputs('{', undefined, 'f')).toThrow(UsageError);
  });

  it('become the worker variables, over the environment, with the region of the queue', () => {
    const env = environmentWithOutputs({ AWS_REGION: 'us-east-1', QUEUE_URL: 'https://elsewhere', PROCESSED_PREFIX: 'p/' }, { stackName: 'IotIngest', values: OUTPUT_VALUES }, 'f');

    expect(env).toEqual({
      AWS_REGION: 'eu-west-1',
      PROCESSED_PREFIX: 'p/',
      RAW_BUCKET: OUTPUT_VALUES.RawBucketName,
      PROCESSED_BUCKET: OUTPUT_VALUES.ProcessedBucketName,
      QUEUE_URL: QUEUE_URL,
      DLQ_URL: OUTPUT_VALUES.DeadLetterQueueUrl,
    });
    expect(() => environmentWithOutputs({}, { stackName: 'S', values: { QueueUrl: QUEUE_URL } }, 'f')).toThrow(
      'f: the stack S has no output RawBucketName, ProcessedBucketName, DeadLetterQueueUrl',
    );
  });

  it('finds the region in both SQS URL forms, and none in an emulator URL', () => {
    expect(regionOfQueueUrl(QUEUE_URL)).toBe('eu-west-1');
    expect(regionOfQueueUrl('https://ap-south-1.queue.amazonaws.com/1/q')).toBe('ap-south-1');
    expect(regionOfQueueUrl('https://sqs.cn-north-1.amazonaws.com.cn/1/q')).toBe('cn-north-1');
    expect(regionOfQueueUrl('http://127.0.0.1:4566/000000000000/q')).toBeUndefined();
  });
});

describe('sumSamples', () => {
  const exposition = [
    '# HELP iot_ingest_files_total Files by outcome',
    '# TYPE iot_ingest_files_total counter',
    'iot_ingest_files_total{outcome="succeeded"} 7',
    'iot_ingest_files_total{outcome="missing"} 1',
    'iot_ingest_files_total{task="b",outcome="succeeded"} 2 1733120000000',
    'iot_ingest_files_total_other{outcome="succeeded"} 100',
    'iot_ingest_files_in_flight 0',
  ].join('\n');

  it('sums the series of one name whose labels match, in any label order', () => {
    expect(sumSamples(exposition, 'iot_ingest_files_total', { outcome: 'succeeded' })).toBe(9);
    expect(sumSamples(exposition, 'iot_ingest_files_in_flight', {})).toBe(0);
  });

  it('is undefined when nothing matches', () => {
    expect(sumSamples(exposition, 'iot_ingest_files_total', { outcome: 'stale' })).toBeUndefined();
    expect(sumSamples('', 'iot_ingest_files_total', {})).toBeUndefined();
  });

  it('reads escaped label values', () => {
    expect(sumSamples('m{l="a\\"b"} 3', 'm', { l: 'a"b' })).toBe(3);
  });
});

describe('smoke settings', () => {
  it('takes the worker settings that decide the outputs, with its defaults', () => {
    expect(smokeRules({})).toEqual({ temperatureThresholdCelsius: 10, unknownLocationId: 'unknown' });
    expect(smokeRules({ TEMPERATURE_THRESHOLD_CELSIUS: ' 25.5 ', UNKNOWN_LOCATION_ID: 'nowhere' })).toEqual({ temperatureThresholdCelsius: 25.5, unknownLocationId: 'nowhere' });
    expect(() => smokeRules({ TEMPERATURE_THRESHOLD_CELSIUS: 'warm' })).toThrow('TEMPERATURE_THRESHOLD_CELSIUS must be a finite number; got "warm"');
    expect(parquetPrefix({})).toBe('parquet/');
    expect(parquetPrefix({ PARQUET_PREFIX: '' })).toBe('');
  });

  it('reads metrics from --metrics-url, else the local worker on HTTP_PORT, else the queue', () => {
    expect(metricsSource('http://10.0.0.5:8080/metrics', false, {})).toEqual({ kind: 'prometheus', url: 'http://10.0.0.5:8080/metrics', explicit: true });
    expect(metricsSource(undefined, true, { HTTP_PORT: '9100' })).toEqual({ kind: 'prometheus', url: 'http://127.0.0.1:9100/metrics', explicit: false });
    expect(metricsSource(undefined, true, {})).toMatchObject({ url: 'http://127.0.0.1:8080/metrics' });
    expect(metricsSource(undefined, false, {})).toEqual({ kind: 'queue', why: 'no --metrics-url' });
    expect(() => metricsSource('10.0.0.5:8080', false, {})).toThrow('--metrics-url must be an http(s) URL');
    expect(() => metricsSource(undefined, true, { HTTP_PORT: 'x' })).toThrow('HTTP_PORT must be a port number');
  });

  it('skips the alarm without CloudWatch, and otherwise looks for it by name, topic, then stack name', () => {
    const aws = { alarm: true, local: false, onAws: true };
    const outputs = { stackName: 'Ingest-IotIngest', values: OUTPUT_VALUES };

    expect(alarmLocator({ ...aws, alarm: false }, outputs)).toEqual({ skip: '--no-alarm' });
    expect(alarmLocator({ ...aws, local: true, onAws: false }, undefined)).toEqual({ skip: '--local: there is no CloudWatch locally' });
    expect(alarmLocator({ ...aws, onAws: false }, undefined)).toMatchObject({ skip: expect.stringContaining('has no CloudWatch') });
    expect(alarmLocator({ ...aws, alarmName: 'mine' }, outputs)).toEqual({ locator: { kind: 'name', name: 'mine' } });
    expect(alarmLocator(aws, { ...outputs, values: { ...OUTPUT_VALUES, DeadLetterQueueAlarmName: 'dlq-alarm' } })).toEqual({ locator: { kind: 'name', name: 'dlq-alarm' } });
    expect(alarmLocator(aws, outputs)).toEqual({ locator: { kind: 'topic', topicArn: OUTPUT_VALUES.AlarmTopicArn } });
    expect(alarmLocator(aws, undefined)).toEqual({ locator: { kind: 'stack', stackName: 'IotIngest' } });
    expect(alarmLocator({ ...aws, stack: 'Ingest-IotIngest' }, undefined)).toEqual({ locator: { kind: 'stack', stackName: 'Ingest-IotIngest' } });
  });
});

function fakeCloudWatch(alarms: MetricAlarm[], failSet?: Error) {
  const described: DescribeAlarmsCommandInput[] = [];
  const set: SetAlarmStateCommandInput[] = [];
  const api: AlarmApi = {
    describeAlarms: (input) => {
      described.push(input);
      return Promise.resolve({ alarms });
    },
    setAlarmState: (input) => {
      if (failSet) return Promise.reject(failSet);
      set.push(input);
      return Promise.resolve();
    },
  };
  return { api, described, set };
}

const STACK_ALARMS: MetricAlarm[] = [
  { AlarmName: 'IotIngest-MonitoringOldestMessageTooOld1234-AAA', StateValue: 'OK' },
  { AlarmName: 'IotIngest-MonitoringDeadLetterQueueNotEmpty5678-BBB', StateValue: 'INSUFFICIENT_DATA' },
];

describe('pickAlarm', () => {
  it('prefers the DLQ alarm, and never one already in ALARM (no state change, no e-mail)', () => {
    expect(pickAlarm(STACK_ALARMS)?.AlarmName).toContain('DeadLetterQueueNotEmpty');
    expect(pickAlarm([{ ...STACK_ALARMS[1], StateValue: 'ALARM' }, STACK_ALARMS[0] ?? {}])?.AlarmName).toContain('OldestMessageTooOld');
    expect(pickAlarm([{ AlarmName: 'x', StateValue: 'ALARM' }])).toBeUndefined();
  });
});

describe('fireSmokeAlarm', () => {
  it('finds the alarm by the topic, sets ALARM with a smoke-test reason, then OK', async () => {
    // Prepare
    const cloudWatch = fakeCloudWatch(STACK_ALARMS);

    // Act
    const row = await fireSmokeAlarm(cloudWatch.api, { kind: 'topic', topicArn: OUTPUT_VALUES.AlarmTopicArn }, { smokeKey: 'smoke/k.jsonl' });

    // Assess
    expect(cloudWatch.described).toEqual([{ ActionPrefix: OUTPUT_VALUES.AlarmTopicArn, AlarmTypes: ['MetricAlarm'] }]);
    expect(cloudWatch.set.map((input) => [input.AlarmName, input.StateValue])).toEqual([
      ['IotIngest-MonitoringDeadLetterQueueNotEmpty5678-BBB', 'ALARM'],
      ['IotIngest-MonitoringDeadLetterQueueNotEmpty5678-BBB', 'OK'],
    ]);
    expect(cloudWatch.set[0]?.StateReason).toMatch(/^Smoke test \(npm run ops -- smoke, smoke\/k\.jsonl\): not a real alarm/);
    expect(row.result).toBe('pass');
    expect(row.detail).toContain('set to ALARM, then OK');
  });

  it('looks by the stack name prefix when nothing names the alarm or its topic', async () => {
    const cloudWatch = fakeCloudWatch(STACK_ALARMS);

    await fireSmokeAlarm(cloudWatch.api, { kind: 'stack', stackName: 'IotIngest' }, { smokeKey: 'k' });

    expect(cloudWatch.described[0]).toEqual({ AlarmNamePrefix: 'IotIngest-Monitoring', AlarmTypes: ['MetricAlarm'] });
  });

  it('fails, saying what to do, when no alarm is found, a named one is already in ALARM, or CloudWatch refuses', async () => {
    const none = await fireSmokeAlarm(fakeCloudWatch([]).api, { kind: 'stack', stackName: 'IotIngest' }, { smokeKey: 'k' });
    const inAlarm = await fireSmokeAlarm(fakeCloudWatch([{ AlarmName: 'a', StateValue: 'ALARM' }]).api, { kind: 'name', name: 'a' }, { smokeKey: 'k' });
    const denied = Object.assign(new Error('not authorized to perform cloudwatch:SetAlarmState'), { name: 'AccessDenied' });
    const refused = await fireSmokeAlarm(fakeCloudWatch(STACK_ALARMS, denied).api, { kind: 'stack', stackName: 'IotIngest' }, { smokeKey: 'k' });

    expect(none).toMatchObject({ result: 'fail', detail: 'alarms named IotIngest-Monitoring…: none found; pass --alarm-name NAME (or --no-alarm)' });
    expect(inAlarm).toMatchObject({ result: 'fail', detail: expect.stringContaining('a is already in ALARM') });
    expect(refused.result).toBe('fail');
    expect(refused.detail).toContain('AccessDenied: not authorized');
    expect(refused.detail).toContain('IotIngest-MonitoringDeadLetterQueueNotEmpty5678-BBB');
  });
});
