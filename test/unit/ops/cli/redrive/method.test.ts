import { describe, expect, it } from '@jest/globals';
import type { Message, SendMessageBatchCommandOutput, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { UsageError } from '../../../../../ops/cli/exit-codes.ts';
import { chooseRedriveMethod, needsMoveTaskProbe, type RedriveRequest } from '../../../../../ops/cli/redrive/method.ts';
import type { MoveTaskSupport } from '../../../../../ops/cli/redrive/move-task.ts';
import { redrivenAttributes, sendToSourceQueue } from '../../../../../ops/cli/redrive/send.ts';
import { SendBatchesError, type BatchSender } from '../../../../../worker/common/send-batches.ts';
import { isUnsupportedOperation } from '../../../../../ops/cli/unsupported-operation.ts';

const SUPPORTED: MoveTaskSupport = { supported: true, running: undefined };
const UNSUPPORTED: MoveTaskSupport = { supported: false, reason: 'the endpoint has no message move tasks (InvalidAction)' };

const ask = (request: Partial<RedriveRequest> = {}): RedriveRequest => ({ method: 'auto', limit: undefined, rate: undefined, filtered: false, ...request });

describe('chooseRedriveMethod', () => {
  it('uses SQS move tasks where the endpoint has them', () => {
    expect(chooseRedriveMethod(ask(), SUPPORTED)).toEqual({ method: 'move-task', why: 'SQS StartMessageMoveTask' });
    expect(chooseRedriveMethod(ask({ rate: 500 }), SUPPORTED).method).toBe('move-task');
  });

  it('moves client-side where the endpoint lacks them, saying why', () => {
    expect(chooseRedriveMethod(ask(), UNSUPPORTED)).toEqual({ method: 'client-side', why: UNSUPPORTED.reason });
  });

  it('moves client-side for --limit, which a move task cannot honour, without probing', () => {
    expect(needsMoveTaskProbe(ask({ limit: 5 }))).toBe(false);
    expect(chooseRedriveMethod(ask({ limit: 5 }), undefined).method).toBe('client-side');
    expect(() => chooseRedriveMethod(ask({ method: 'move-task', limit: 5 }), SUPPORTED)).toThrow(UsageError);
  });

  it('moves client-side for --reason, since a move task cannot filter, and says so', () => {
    expect(needsMoveTaskProbe(ask({ filtered: true }))).toBe(false);
    expect(chooseRedriveMethod(ask({ filtered: true }), undefined)).toEqual({
      method: 'client-side',
      why: 'a move task cannot choose messages by --reason',
    });
    expect(() => chooseRedriveMethod(ask({ method: 'move-task', filtered: true }), SUPPORTED)).toThrow('--reason needs --method client-side');
  });

  it('honours --method client-side, and refuses --method move-task where there is none', () => {
    expect(needsMoveTaskProbe(ask({ method: 'client-side' }))).toBe(false);
    expect(chooseRedriveMethod(ask({ method: 'client-side' }), undefined).method).toBe('client-side');
    expect(() => chooseRedriveMethod(ask({ method: 'move-task' }), UNSUPPORTED)).toThrow('--method move-task: the endpoint has no message move tasks');
  });

  it('refuses a rate a move task cannot take, and a second task on the same DLQ', () => {
    expect(() => chooseRedriveMethod(ask({ rate: 2.5 }), SUPPORTED)).toThrow('--rate must be a whole number from 1 to 500');
    expect(() => chooseRedriveMethod(ask({ rate: 501 }), SUPPORTED)).toThrow(UsageError);
    const running: MoveTaskSupport = { supported: true, running: { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 12 } };
    expect(() => chooseRedriveMethod(ask(), running)).toThrow('already runs on this DLQ (12 moved so far)');
  });
});

describe('isUnsupportedOperation', () => {
  const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });

  it('recognises an endpoint without the API', () => {
    expect(isUnsupportedOperation(named('InvalidAction', 'Unknown action: StartMessageMoveTask'))).toBe(true);
    expect(isUnsupportedOperation(named('UnsupportedOperation'))).toBe(true);
    expect(isUnsupportedOperation(Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 501 } }))).toBe(true);
  });

  it('does not take a refused call for a missing API', () => {
    expect(isUnsupportedOperation(named('AccessDenied', 'not authorized'))).toBe(false);
    expect(isUnsupportedOperation(named('ResourceNotFoundException'))).toBe(false);
    expect(isUnsupportedOperation('InvalidAction')).toBe(false);
  });
});

describe('redrivenAttributes', () => {
  it("drops the worker's dead-letter attributes and keeps the others as they were", () => {
    const binary = new Uint8Array([1, 2, 3]);
    expect(
      redrivenAttributes({
        'ingest-failure-reason': { DataType: 'String', StringValue: 'corrupt_gzip' },
        'ingest-failure-detail': { DataType: 'String', StringValue: 'bad' },
        'ingest-source-message-id': { DataType: 'String', StringValue: 'm-1' },
        tenant: { DataType: 'String', StringValue: 'acme', StringListValues: [] },
        blob: { DataType: 'Binary', BinaryValue: binary },
      }),
    ).toEqual({ tenant: { DataType: 'String', StringValue: 'acme' }, blob: { DataType: 'Binary', BinaryValue: binary } });
  });

  it('gives no attributes at all when none remain', () => {
    expect(redrivenAttributes({ 'ingest-failure-reason': { DataType: 'String', StringValue: 'x' } })).toBeUndefined();
    expect(redrivenAttributes(undefined)).toBeUndefined();
  });
});

describe('sendToSourceQueue', () => {
  function fakeSqs(refuse: ReadonlySet<string>): BatchSender & { sent: SendMessageBatchRequestEntry[][] } {
    const sent: SendMessageBatchRequestEntry[][] = [];
    return {
      sent,
      send(command) {
        const entries = command.input.Entries ?? [];
        sent.push(entries);
        const output: SendMessageBatchCommandOutput = { $metadata: {}, Successful: [], Failed: [] };
        for (const entry of entries) {
          if (refuse.has(entry.MessageBody ?? '')) output.Failed?.push({ Id: entry.Id, Code: 'InvalidMessageContents', SenderFault: true });
          else output.Successful?.push({ Id: entry.Id, MessageId: `new-${entry.Id}`, MD5OfMessageBody: '' });
        }
        return Promise.resolve(output);
      },
    };
  }
  const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleep: () => Promise.resolve() };
  const dead = (id: string, body: string): Message => ({
    MessageId: id,
    Body: body,
    MessageAttributes: { 'ingest-failure-reason': { DataType: 'String', StringValue: 'x' }, tag: { DataType: 'String', StringValue: id } },
  });

  it('sends each DLQ message with its own body and attributes, and reports exactly the ones SQS took', async () => {
    const sqs = fakeSqs(new Set(['refused body']));

    const result = await sendToSourceQueue(sqs, 'http://q/ingest', [dead('d-1', 'first'), dead('d-2', 'refused body'), dead('d-3', 'third')], retry);

    expect(result.sentIds).toEqual(['d-1', 'd-3']);
    expect(result.error).toBeInstanceOf(SendBatchesError);
    expect(sqs.sent).toHaveLength(1);
    expect(sqs.sent[0]?.map((entry) => [entry.MessageBody, entry.MessageAttributes])).toEqual([
      ['first', { tag: { DataType: 'String', StringValue: 'd-1' } }],
      ['refused body', { tag: { DataType: 'String', StringValue: 'd-2' } }],
      ['third', { tag: { DataType: 'String', StringValue: 'd-3' } }],
    ]);
  });
});
