/**
 * What the log says, and what is counted, when a message's fate is carried out: a retry says which
 * receive of how many it was, a dead letter after the last allowed receive says so, and a poison
 * message keeps its wording.
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { createTelemetry } from '../../../worker/telemetry.ts';

function observedTelemetry() {
  const logged: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
  const telemetry = createTelemetry(logger, { defaultMetrics: false });
  const failed = async (action: string) => {
    const metric = telemetry.registry.getSingleMetric('iot_ingest_messages_failed_total');
    const { values } = (await metric?.get()) ?? { values: [] };
    return values.find((value) => value.labels['action'] === action)?.value ?? 0;
  };
  return { telemetry, logged, failed };
}

describe('message fate telemetry', () => {
  it('says a retry will come after the backoff, with the receive and the receives allowed', async () => {
    // Prepare
    const { telemetry, logged, failed } = observedTelemetry();
    // Act
    telemetry.messageRetried('m-1', 2, 20, 'SlowDown: Please reduce your request rate.', 5);
    // Assess
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 40,
      msg: 'message failed; it will be retried after the backoff',
      messageId: 'm-1',
      receiveCount: 2,
      maxReceiveCount: 5,
      backoffSeconds: 20,
      err: 'SlowDown: Please reduce your request rate.',
    });
    expect(await failed('retry')).toBe(1);
  });

  it('says nothing of a maxReceiveCount when the queue has no redrive policy', () => {
    const { telemetry, logged } = observedTelemetry();
    telemetry.messageRetried('m-1', 9, 300, 'boom');
    expect(logged[0]?.['msg']).toBe('message failed; it will be retried after the backoff');
    expect(logged[0]).not.toHaveProperty('maxReceiveCount');
  });

  it('does not promise a retry on the last allowed receive (the DLQ refused the worker’s copy): the redrive policy moves it', () => {
    const { telemetry, logged } = observedTelemetry();
    telemetry.messageRetried('m-1', 5, 160, 'NonExistentQueue: no DLQ', 5);
    expect(logged[0]?.['msg']).toMatch(/^message failed on its last allowed receive and could not be copied to the dead-letter queue; the redrive policy moves it there/);
    expect(logged[0]?.['msg']).not.toContain('will be retried');
  });

  it('says a message dead-lettered after its last allowed receive went to the DLQ, with the reason and detail, and counts it as dead_letter', async () => {
    // Prepare
    const { telemetry, logged, failed } = observedTelemetry();
    // Act
    telemetry.messageDeadLettered('m-2', 'retries_exhausted', 'failed transiently on receive 5 of 5: SlowDown: Please reduce your request rate.');
    // Assess
    expect(logged[0]).toMatchObject({
      level: 50,
      msg: 'message failed on its last allowed receive; moved to the dead-letter queue now, with its reason',
      messageId: 'm-2',
      reason: 'retries_exhausted',
      detail: 'failed transiently on receive 5 of 5: SlowDown: Please reduce your request rate.',
    });
    expect(await failed('dead_letter')).toBe(1);
    expect(await failed('retry')).toBe(0);
  });

  it('says for every other reason that a retry cannot help, without calling the message itself bad (a missing bucket is no poison)', () => {
    const { telemetry, logged } = observedTelemetry();
    telemetry.messageDeadLettered('m-3', 'bucket_not_found', 'the bucket b named by the event does not exist');
    expect(logged[0]).toMatchObject({ msg: 'message cannot succeed on a retry (see its reason); moved to the dead-letter queue now', reason: 'bucket_not_found' });
  });
});

describe('source action telemetry', () => {
  const source = { bucket: 'raw', key: 'site-1/a.jsonl', eTag: 'e1' };

  it('warns when the tags were written without some counts (no room within S3 10 tags), and keeps a whole success at debug', () => {
    const { telemetry, logged } = observedTelemetry();

    telemetry.afterSuccess.sourceActionEnded(source, 'tag', { result: 'done', detail: 'no room for the tags iot-ingest-rejected' });
    telemetry.afterSuccess.sourceActionEnded(source, 'tag', { result: 'done' });

    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, action: 'tag', result: 'done', detail: 'no room for the tags iot-ingest-rejected' });
  });
});
