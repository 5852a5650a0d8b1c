import { describe, expect, it } from '@jest/globals';
import type { DeleteMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteBatcher } from '../../../../worker/queue/delete-batcher.ts';

// The emulator deletes on any receipt handle, so SQS's per-entry refusal is answered by a stub here.
describe('DeleteBatcher, when SQS refuses some entries of a batch', () => {
  it('counts the deleted ones and reports the refused ones by message id', async () => {
    const sent: DeleteMessageBatchCommand[] = [];
    const sqs = {
      send: (command: DeleteMessageBatchCommand) => {
        sent.push(command);
        return Promise.resolve({
          Successful: [{ Id: '0' }, { Id: '2' }],
          Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', Message: 'The receipt handle has expired', SenderFault: true }],
        });
      },
    } as unknown as SQSClient;
    const deleted: number[] = [];
    const failed: Array<{ ids: readonly string[]; error: string }> = [];
    const batcher = new DeleteBatcher({
      sqs,
      queueUrl: 'http://127.0.0.1/000000000000/q',
      windowMs: 60_000,
      events: { deleted: (count) => deleted.push(count), deleteFailed: (ids, error) => failed.push({ ids, error }) },
    });

    for (const id of ['a', 'b', 'c']) batcher.add({ MessageId: id, ReceiptHandle: `receipt-${id}` });
    await batcher.flush();

    expect(sent.map((command) => command.input.Entries?.map((entry) => entry.ReceiptHandle))).toStrictEqual([['receipt-a', 'receipt-b', 'receipt-c']]);
    expect(deleted).toStrictEqual([2]);
    expect(failed).toStrictEqual([{ ids: ['b'], error: 'ReceiptHandleIsInvalid: The receipt handle has expired' }]);
  });
});
