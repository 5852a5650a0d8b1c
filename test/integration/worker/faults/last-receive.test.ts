/**
 * The last receive the redrive policy allows: a file that fails transiently every time (the fault proxy
 * answers 503 to every GetObject of its key) is retried with the backoff until then, and on that receive
 * the worker (its own process) moves the message to the DLQ itself, at once, with the failure reason
 * `retries_exhausted` and the last error, and says so in its log; SQS would have moved it only after
 * another backoff, with no reason. The worker reads maxReceiveCount from the redrive policy even when
 * DLQ_URL is given; a queue without a redrive policy keeps retrying as before.
 */
import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { retryDelaySeconds } from '../../../../worker/queue/message-fate.ts';
import { createTestStack, uniqueName, waitFor } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import type { ProxiedRequest } from '../../../support/fault-proxy.ts';
import { processEnvironment, queueCounts, startWorkerProcess, type WorkerProcess } from '../../../support/worker-process.ts';

const KEY = 'always-503.jsonl';
const BODY = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';
const MAX_RECEIVE_COUNT = 3;
/** Long enough that a move by the redrive policy (after the third backoff) could not be mistaken for the worker's own. */
const RETRY_POLICY = { backoffBaseSeconds: 2, backoffMaxSeconds: 300 };

const fault = useFaultTest();

const isReadOfKey = (request: ProxiedRequest) => request.operation === 'GetObject' && request.key === KEY;

async function receiveDeadLetter(dlqUrl: string): Promise<Message> {
  return waitFor(
    async () => {
      const { Messages } = await fault.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      return Messages?.[0];
    },
    { what: 'the message in the DLQ', timeoutMs: 30_000 },
  );
}

function linesWith(worker: WorkerProcess, msg: RegExp): Array<Record<string, unknown>> {
  return worker.log.entries.map(({ line }) => line).filter((line) => msg.test(String(line['msg'])));
}

async function scrapedFailures(worker: WorkerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${worker.httpAddress}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^iot_ingest_messages_failed_total\{action="([a-z_]+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

describe('a file that fails transiently on every receive', () => {
  it('goes to the DLQ on its last allowed receive, moved by the worker at once with retries_exhausted and the last error, and the log says so', async () => {
    // Prepare: DLQ_URL given, so maxReceiveCount can only come from reading the redrive policy anyway.
    const resources = await createTestStack(fault.clients, { maxReceiveCount: MAX_RECEIVE_COUNT });
    const proxy = await fault.startProxy((request) => (isReadOfKey(request) ? { kind: 'status', status: 503 } : undefined));
    const worker = await startWorkerProcess(
      processEnvironment(resources, proxy.url, { DLQ_URL: resources.dlqUrl, RETRY_BACKOFF_BASE_SECONDS: String(RETRY_POLICY.backoffBaseSeconds) }),
    );

    // Act
    await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: KEY, Body: BODY }));
    const dead = await receiveDeadLetter(resources.dlqUrl);

    // Assess: the worker's own copy, with the reason and the last error, and nothing left behind.
    const attribute = (name: string) => dead.MessageAttributes?.[name]?.StringValue;
    expect(dead.Body).toContain(`"key":"${KEY}"`);
    expect(attribute('ingest-failure-reason')).toBe('retries_exhausted');
    expect(attribute('ingest-failure-detail')).toMatch(new RegExp(`^failed transiently on receive ${MAX_RECEIVE_COUNT} of ${MAX_RECEIVE_COUNT}: \\S+`));
    // A move by the redrive policy keeps the receives made on the ingest queue; the worker's copy is new.
    expect(dead.Attributes?.ApproximateReceiveCount).toBe('1');
    // The original is deleted once the copy is in the DLQ (deletes are batched for a few ms).
    await waitFor(
      async () => {
        const counts = await queueCounts(fault.clients.sqs, resources.queueUrl);
        return counts.visible + counts.inFlight + counts.delayed === 0 ? true : undefined;
      },
      { what: 'the original to be deleted from the ingest queue', timeoutMs: 3_000, intervalMs: 50 },
    );
    expect(proxy.received.filter((message) => message.body.includes(KEY)).map((message) => message.receiveCount)).toEqual([1, 2, 3]);
    expect(proxy.requests.filter(isReadOfKey).filter((request) => request.status !== 503)).toEqual([]);

    // … at once: well before the backoff after which SQS would have offered (and so moved) it again.
    const failures = worker.fileLines('file failed', KEY);
    expect(failures.map((line) => line['outcome'])).toEqual(['failed_transient', 'failed_transient', 'failed_transient']);
    const lastFailureAtMs = Number(failures.at(-1)?.['time']);
    const sentAtMs = Number(dead.Attributes?.SentTimestamp);
    expect(sentAtMs - lastFailureAtMs).toBeLessThan(retryDelaySeconds(MAX_RECEIVE_COUNT, RETRY_POLICY) * 1000);

    // The log: the worker knew the policy, retried with the old wording before, and said what happened on the last receive.
    expect(linesWith(worker, /^worker started$/)[0]).toMatchObject({ maxReceiveCount: MAX_RECEIVE_COUNT });
    const retries = linesWith(worker, /will be retried/);
    expect(retries.map((line) => [line['msg'], line['receiveCount'], line['maxReceiveCount']])).toEqual([
      ['message failed; it will be retried after the backoff', 1, MAX_RECEIVE_COUNT],
      ['message failed; it will be retried after the backoff', 2, MAX_RECEIVE_COUNT],
    ]);
    const deadLettered = linesWith(worker, /dead-letter queue/);
    expect(deadLettered).toHaveLength(1);
    expect(deadLettered[0]).toMatchObject({
      msg: 'message failed on its last allowed receive; moved to the dead-letter queue now, with its reason',
      reason: 'retries_exhausted',
      detail: attribute('ingest-failure-detail'),
      messageId: attribute('ingest-source-message-id'),
    });
    expect(await scrapedFailures(worker)).toMatchObject({ retry: 2, dead_letter: 1 });
  }, 60_000);

  it('finds the DLQ and maxReceiveCount from the redrive policy when DLQ_URL is not given', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 2 });
    const proxy = await fault.startProxy((request) => (isReadOfKey(request) ? { kind: 'status', status: 503 } : undefined));
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url));

    await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: KEY, Body: BODY }));
    const dead = await receiveDeadLetter(resources.dlqUrl);

    expect(linesWith(worker, /^worker started$/)[0]).toMatchObject({ maxReceiveCount: 2 });
    expect(dead.MessageAttributes?.['ingest-failure-reason']?.StringValue).toBe('retries_exhausted');
    expect(dead.MessageAttributes?.['ingest-failure-detail']?.StringValue).toMatch(/^failed transiently on receive 2 of 2: /);
  }, 60_000);

  it('keeps retrying, as before, on a queue with no redrive policy (DLQ_URL given)', async () => {
    // Prepare: a queue of its own, without a redrive policy; the DLQ only for what the worker dead-letters itself.
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 2 });
    const { QueueUrl: plainQueueUrl } = await fault.clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('no-redrive') }));
    const proxy = await fault.startProxy((request) => (isReadOfKey(request) ? { kind: 'status', status: 503 } : undefined));
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { QUEUE_URL: plainQueueUrl!, DLQ_URL: resources.dlqUrl }));
    const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: resources.rawBucket }, object: { key: KEY } } }] };

    // Act
    await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: KEY, Body: BODY }));
    await fault.clients.sqs.send(new SendMessageCommand({ QueueUrl: plainQueueUrl, MessageBody: JSON.stringify(event) }));
    await worker.log.waitFor((line) => line['msg'] === 'message failed; it will be retried after the backoff' && line['receiveCount'] === 4, 30_000, 'the fourth retry');

    // Assess: past the count a redrive policy would have allowed, still retried, nothing dead-lettered.
    expect(linesWith(worker, /^worker started$/)[0]).toMatchObject({ maxReceiveCount: 'no redrive policy' });
    expect(linesWith(worker, /will be retried/).every((line) => !('maxReceiveCount' in line))).toBe(true);
    expect(linesWith(worker, /dead-letter queue/)).toEqual([]);
    expect(await queueCounts(fault.clients.sqs, resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 60_000);
});
