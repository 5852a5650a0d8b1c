import { describe, it, expect } from '@jest/globals';
import type { SendMessageBatchCommand, SendMessageBatchCommandOutput, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import {
  messageBody,
  SendBatchesError,
  sendMessageBatches,
  sendObjectMessages,
  type BatchSender,
  type RetryOptions,
} from '../../../../worker/common/send-batches.ts';
import { SQS_MAX_PAYLOAD_BYTES, sqsMessageBytes } from '../../../../worker/common/sqs-limits.ts';
import { objectMessage, type ObjectMessage } from '../../../../worker/common/object-message.ts';

const QUEUE_URL = 'http://127.0.0.1:4566/000000000000/ingest';

type EntryVerdict = 'ok' | { code: string; senderFault?: boolean };
/** Decides each call: per entry (by Id) a verdict, or an Error to throw for the whole call. */
type Script = (call: number, ids: readonly string[]) => Error | ((id: string) => EntryVerdict);

interface Call {
  readonly queueUrl: string | undefined;
  readonly ids: string[];
  readonly bodies: string[];
  readonly entries: SendMessageBatchRequestEntry[];
}

/** A fake SQS client for the error branches; the integration test sends to the emulator's real SQS. */
class FakeSqs implements BatchSender {
  readonly calls: Call[] = [];
  private readonly script: Script;

  constructor(script: Script = () => () => 'ok') {
    this.script = script;
  }

  send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
    const entries = command.input.Entries ?? [];
    const ids = entries.map((entry) => entry.Id ?? '');
    this.calls.push({ queueUrl: command.input.QueueUrl, ids, bodies: entries.map((entry) => entry.MessageBody ?? ''), entries });
    const verdicts = this.script(this.calls.length, ids);
    if (verdicts instanceof Error) return Promise.reject(verdicts);
    const output: SendMessageBatchCommandOutput = { $metadata: {}, Successful: [], Failed: [] };
    for (const id of ids) {
      const verdict = verdicts(id);
      if (verdict === 'ok') output.Successful?.push({ Id: id, MessageId: `m-${id}`, MD5OfMessageBody: '' });
      else output.Failed?.push({ Id: id, Code: verdict.code, SenderFault: verdict.senderFault ?? false, Message: verdict.code });
    }
    return Promise.resolve(output);
  }

  sentIds(): string[] {
    return this.calls.flatMap((call) => call.ids);
  }
}

function messages(count: number): ObjectMessage[] {
  return Array.from({ length: count }, (_, index) => objectMessage({ bucket: 'raw', key: `file-${index}.jsonl`, size: index + 1 }));
}

function retryOptions(sleeps: number[] = [], maxAttempts = 4): RetryOptions {
  return {
    maxAttempts,
    baseDelayMs: 100,
    maxDelayMs: 250,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
}

async function sendError(promise: Promise<unknown>): Promise<SendBatchesError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SendBatchesError) return error;
    throw error;
  }
  throw new Error('sendObjectMessages did not throw');
}

describe('sendObjectMessages', () => {
  it('sends 25 messages in 3 batches of 10, 10 and 5, each body an object message', async () => {
    const sqs = new FakeSqs();
    const sleeps: number[] = [];
    const result = await sendObjectMessages(sqs, QUEUE_URL, messages(25), retryOptions(sleeps));

    expect(sqs.calls.map((call) => call.ids.length)).toEqual([10, 10, 5]);
    expect(sqs.calls.every((call) => call.queueUrl === QUEUE_URL)).toBe(true);
    expect(sqs.calls.flatMap((call) => call.bodies).map((body) => JSON.parse(body) as unknown)).toEqual(messages(25));
    expect(result).toStrictEqual({ sent: 25, attempts: 1, retriedEntries: 0 });
    expect(sleeps).toEqual([]);
  });

  it('sends nothing for no messages', async () => {
    const sqs = new FakeSqs();
    expect(await sendObjectMessages(sqs, QUEUE_URL, [], retryOptions())).toStrictEqual({ sent: 0, attempts: 0, retriedEntries: 0 });
    expect(sqs.calls).toHaveLength(0);
  });

  it('retries exactly the 2 failed entries of a batch, after a backoff', async () => {
    const sqs = new FakeSqs((call) => (id) => (call === 1 && (id === '3' || id === '7') ? { code: 'InternalError' } : 'ok'));
    const sleeps: number[] = [];
    const result = await sendObjectMessages(sqs, QUEUE_URL, messages(10), retryOptions(sleeps));

    expect(sqs.calls.map((call) => call.ids)).toEqual([['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], ['3', '7']]);
    expect(sqs.calls[1]?.bodies.map((body) => (JSON.parse(body) as ObjectMessage).key)).toEqual(['file-3.jsonl', 'file-7.jsonl']);
    expect(result).toStrictEqual({ sent: 10, attempts: 2, retriedEntries: 2 });
    expect(sleeps).toEqual([100]);
  });

  it('gives up after maxAttempts with an error naming how many failed and why, never re-sending a sent entry', async () => {
    const sqs = new FakeSqs(() => (id) => (id === '11' || id === '12' ? { code: 'KMS.ThrottlingException' } : 'ok'));
    const sleeps: number[] = [];
    const error = await sendError(sendObjectMessages(sqs, QUEUE_URL, messages(15), retryOptions(sleeps, 4)));

    expect(error.message).toBe('2 of 15 message(s) could not be sent to the ingest queue after 4 attempt(s): 2 × KMS.ThrottlingException');
    expect(error.failed).toBe(2);
    expect(error.sent).toBe(13);
    expect(error.reasons).toStrictEqual({ 'KMS.ThrottlingException': 2 });
    expect(sqs.calls.map((call) => call.ids.length)).toEqual([10, 5, 2, 2, 2]);
    const ids = sqs.sentIds().filter((id) => id !== '11' && id !== '12');
    expect(new Set(ids).size).toBe(ids.length);
    expect(sleeps).toEqual([100, 200, 250]);
  });

  it('does not retry entries that SQS blames on the request itself', async () => {
    const sqs = new FakeSqs(() => (id) => (id === '1' ? { code: 'InvalidMessageContents', senderFault: true } : id === '2' ? { code: 'ServiceUnavailable' } : 'ok'));
    const error = await sendError(sendObjectMessages(sqs, QUEUE_URL, messages(3), retryOptions([], 2)));

    expect(sqs.calls.map((call) => call.ids)).toEqual([['0', '1', '2'], ['2']]);
    expect(error.reasons).toStrictEqual({ InvalidMessageContents: 1, ServiceUnavailable: 1 });
    expect(error.message).toMatch(/^2 of 3 message\(s\) could not be sent/);
  });

  it('retries a batch whose call threw (network), and succeeds when the network comes back', async () => {
    const sqs = new FakeSqs((call) => (call === 2 ? new Error('socket hang up') : () => 'ok'));
    const result = await sendObjectMessages(sqs, QUEUE_URL, messages(20), retryOptions());

    expect(sqs.calls.map((call) => call.ids.length)).toEqual([10, 10, 10]);
    expect(sqs.calls[2]?.ids).toEqual(sqs.calls[1]?.ids);
    expect(result).toStrictEqual({ sent: 20, attempts: 2, retriedEntries: 10 });
  });

  it('surfaces a thrown send error once the attempts are used up', async () => {
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { name: 'TimeoutError' });
    const sqs = new FakeSqs(() => network);
    const error = await sendError(sendObjectMessages(sqs, QUEUE_URL, messages(5), retryOptions([], 3)));

    expect(sqs.calls).toHaveLength(3);
    expect(error.message).toBe('5 of 5 message(s) could not be sent to the ingest queue after 3 attempt(s): 5 × TimeoutError: connect ECONNREFUSED 127.0.0.1:4566');
    expect(error.cause).toBe(network);
  });

  it('counts an entry missing from both result lists as failed', async () => {
    const sqs: BatchSender = {
      send: () => Promise.resolve({ $metadata: {}, Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] }),
    };
    const error = await sendError(sendObjectMessages(sqs, QUEUE_URL, messages(2), retryOptions([], 1)));
    expect(error.reasons).toStrictEqual({ 'no result for the entry': 1 });
  });
});

describe('sendMessageBatches', () => {
  it('sends raw bodies with their attributes, and no attributes field for a message without any', async () => {
    // Prepare
    const sqs = new FakeSqs();
    const tag = { DataType: 'String', StringValue: 'site-1' };
    // Act
    const result = await sendMessageBatches(sqs, QUEUE_URL, [{ body: 'first', attributes: { tag } }, { body: 'second' }], retryOptions());
    // Assess
    expect(result).toStrictEqual({ sent: 2, attempts: 1, retriedEntries: 0 });
    expect(sqs.calls[0]?.entries).toStrictEqual([
      { Id: '0', MessageBody: 'first', MessageAttributes: { tag } },
      { Id: '1', MessageBody: 'second' },
    ]);
  });

  it('keeps each request within 1 MiB: ten messages of 200 KB go in batches of 5', async () => {
    // Prepare
    const sqs = new FakeSqs();
    const large = Array.from({ length: 10 }, (_, index) => ({ body: `${index}`.padEnd(200_000, 'x') }));
    // Act
    await sendMessageBatches(sqs, QUEUE_URL, large, retryOptions());
    // Assess
    expect(sqs.calls.map((call) => call.ids)).toEqual([
      ['0', '1', '2', '3', '4'],
      ['5', '6', '7', '8', '9'],
    ]);
    for (const call of sqs.calls) {
      expect(call.entries.reduce((bytes, entry) => bytes + sqsMessageBytes(entry.MessageBody ?? ''), 0)).toBeLessThanOrEqual(SQS_MAX_PAYLOAD_BYTES);
    }
  });

  it('counts the attributes against the 1 MiB', async () => {
    // Prepare: two bodies that fit together, but not with the second one's attribute.
    const sqs = new FakeSqs();
    const half = SQS_MAX_PAYLOAD_BYTES / 2 - 10;
    const messages = [{ body: 'a'.repeat(half) }, { body: 'b'.repeat(half), attributes: { note: { DataType: 'String', StringValue: 'x'.repeat(100) } } }];
    // Act
    await sendMessageBatches(sqs, QUEUE_URL, messages, retryOptions());
    // Assess
    expect(sqs.calls.map((call) => call.ids)).toEqual([['0'], ['1']]);
  });

  it('says which messages were not sent, by their place in the list', async () => {
    // Prepare
    const sqs = new FakeSqs(() => (id) => (id === '1' ? { code: 'InvalidMessageContents', senderFault: true } : id === '12' ? { code: 'InternalError' } : 'ok'));
    const bodies = Array.from({ length: 13 }, (_, index) => ({ body: `body ${index}` }));
    // Act
    const error = await sendError(sendMessageBatches(sqs, QUEUE_URL, bodies, retryOptions([], 2)));
    // Assess
    expect(error.unsentIndexes).toStrictEqual([1, 12]);
    expect(error.failed).toBe(2);
    expect(error.sent).toBe(11);
  });
});

describe('messageBody', () => {
  it('is the object message as JSON, spaces and unicode of the BMP as they are', () => {
    const message = objectMessage({ bucket: 'raw', key: 'site 1/温度 été+x.jsonl', size: 3 });
    expect(messageBody(message)).toBe(JSON.stringify(message));
    expect(messageBody(message)).toContain('"key":"site 1/温度 été+x.jsonl"');
  });

  it('escapes what SQS may refuse, so that JSON.parse gives back the exact key', () => {
    const key = 'odd\uFFFE\uFFFF \u0001 🌡️ 𝄞.jsonl';
    const body = messageBody(objectMessage({ bucket: 'raw', key }));
    expect(body).toMatch(/^[\t\n\r\x20-\uD7FF\uE000-\uFFFD]*$/);
    expect(body).toContain('\\ufffe\\uffff \\u0001 \\ud83c\\udf21\uFE0F');
    expect((JSON.parse(body) as ObjectMessage).key).toBe(key);
  });
});
