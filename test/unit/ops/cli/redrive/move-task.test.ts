import { describe, expect, it } from '@jest/globals';
import type { ListMessageMoveTasksResultEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../../../../../ops/cli/context.ts';
import { probeMoveTasks, runMoveTask } from '../../../../../ops/cli/redrive/move-task.ts';

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** Answers StartMessageMoveTask, then ListMessageMoveTasks from a script, and records every call. */
function fakeSqs(listings: ListMessageMoveTasksResultEntry[][], onCall?: (call: Call) => void): { sqs: SQSClient; calls: Call[] } {
  const calls: Call[] = [];
  const send = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const call = { command: command.constructor.name, input: command.input };
    calls.push(call);
    onCall?.(call);
    if (call.command === 'StartMessageMoveTaskCommand') return Promise.resolve({ TaskHandle: 'task-1' });
    if (call.command === 'CancelMessageMoveTaskCommand') return Promise.resolve({ ApproximateNumberOfMessagesMoved: 3 });
    return Promise.resolve({ Results: listings.shift() ?? [] });
  };
  return { sqs: { send } as unknown as SQSClient, calls };
}

const clock: Clock = { now: () => 0, sleep: () => Promise.resolve() };
const ARNS = { dlqArn: 'arn:aws:sqs:r:1:dlq', destinationArn: 'arn:aws:sqs:r:1:ingest' };

describe('runMoveTask', () => {
  it('starts a task to the ingest queue at the given rate and follows it to the end', async () => {
    const { sqs, calls } = fakeSqs([
      [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 4, ApproximateNumberOfMessagesToMove: 10 }],
      [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 10 }],
    ]);
    const progress: number[] = [];

    const result = await runMoveTask(sqs, {
      ...ARNS,
      messagesPerSecond: 50,
      signal: new AbortController().signal,
      clock,
      onProgress: (moved) => progress.push(moved),
    });

    expect(calls[0]).toEqual({
      command: 'StartMessageMoveTaskCommand',
      input: { SourceArn: ARNS.dlqArn, DestinationArn: ARNS.destinationArn, MaxNumberOfMessagesPerSecond: 50 },
    });
    expect(result).toEqual({ status: 'COMPLETED', moved: 10, toMove: 10, failureReason: undefined, interrupted: false });
    expect(progress).toEqual([4, 10]);
  });

  it('cancels the task on Ctrl-C and reports it as interrupted', async () => {
    const interrupt = new AbortController();
    const { sqs, calls } = fakeSqs(
      [[{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2 }], [{ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 3 }]],
      (call) => {
        if (call.command === 'ListMessageMoveTasksCommand') interrupt.abort();
      },
    );

    const result = await runMoveTask(sqs, { ...ARNS, messagesPerSecond: undefined, signal: interrupt.signal, clock });

    expect(calls.map((call) => call.command)).toEqual([
      'StartMessageMoveTaskCommand',
      'ListMessageMoveTasksCommand',
      'CancelMessageMoveTaskCommand',
      'ListMessageMoveTasksCommand',
    ]);
    expect(result).toMatchObject({ status: 'CANCELLED', moved: 3, interrupted: true });
  });

  it('reports a failed task with its reason', async () => {
    const { sqs } = fakeSqs([[{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AccessDenied' }]]);

    const result = await runMoveTask(sqs, { ...ARNS, messagesPerSecond: undefined, signal: new AbortController().signal, clock });

    expect(result).toMatchObject({ status: 'FAILED', failureReason: 'AccessDenied', interrupted: false });
  });
});

describe('probeMoveTasks', () => {
  it('finds a task already running', async () => {
    const { sqs } = fakeSqs([[{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 7 }]]);

    expect(await probeMoveTasks(sqs, ARNS.dlqArn)).toEqual({ supported: true, running: { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 7 } });
  });

  it('says the endpoint lacks move tasks when it answers InvalidAction, and passes other errors on', async () => {
    const failing = (error: Error) => ({ send: () => Promise.reject(error) }) as unknown as SQSClient;

    expect(await probeMoveTasks(failing(Object.assign(new Error('Unknown action'), { name: 'InvalidAction' })), ARNS.dlqArn)).toEqual({
      supported: false,
      reason: 'the endpoint has no message move tasks (InvalidAction)',
    });
    await expect(probeMoveTasks(failing(Object.assign(new Error('no'), { name: 'AccessDenied' })), ARNS.dlqArn)).rejects.toThrow('no');
  });
});
