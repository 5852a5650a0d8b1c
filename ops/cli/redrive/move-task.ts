/**
 * Redrive on AWS: SQS's own message move task (StartMessageMoveTask), followed with
 * ListMessageMoveTasks until it ends. Ctrl-C cancels the task; what it moved stays moved.
 */
import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Clock } from '../context.ts';
import { isUnsupportedOperation } from '../unsupported-operation.ts';

/** SQS's limit for MaxNumberOfMessagesPerSecond. */
export const MAX_MOVE_TASK_RATE = 500;

export type MoveTaskSupport =
  | { readonly supported: false; readonly reason: string }
  | { readonly supported: true; readonly running: ListMessageMoveTasksResultEntry | undefined };

/** Asks ListMessageMoveTasks (read-only) whether the endpoint has move tasks, and whether one runs already. */
export async function probeMoveTasks(sqs: SQSClient, dlqArn: string): Promise<MoveTaskSupport> {
  try {
    const { Results: results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }));
    return { supported: true, running: results.find((task) => task.Status === 'RUNNING') };
  } catch (error) {
    if (isUnsupportedOperation(error)) return { supported: false, reason: `the endpoint has no message move tasks (${(error as Error).name})` };
    throw error;
  }
}

export interface MoveTaskOptions {
  readonly dlqArn: string;
  readonly destinationArn: string;
  readonly messagesPerSecond: number | undefined;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly pollIntervalMs?: number;
  readonly onProgress?: (moved: number, toMove: number | undefined) => void;
}

export const MOVE_TASK_ENDINGS = { completed: 'COMPLETED', cancelled: 'CANCELLED', failed: 'FAILED' } as const;

export interface MoveTaskResult {
  readonly status: string;
  readonly moved: number;
  readonly toMove: number | undefined;
  readonly failureReason: string | undefined;
  /** Cancelled by this process on Ctrl-C. */
  readonly interrupted: boolean;
}

function resultOf(task: ListMessageMoveTasksResultEntry | undefined, interrupted: boolean, fallbackStatus: string): MoveTaskResult {
  return {
    status: task?.Status ?? fallbackStatus,
    moved: task?.ApproximateNumberOfMessagesMoved ?? 0,
    toMove: task?.ApproximateNumberOfMessagesToMove,
    failureReason: task?.FailureReason,
    interrupted,
  };
}

export async function runMoveTask(sqs: SQSClient, options: MoveTaskOptions): Promise<MoveTaskResult> {
  const { TaskHandle: taskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: options.dlqArn,
      // Named explicitly: messages the worker dead-lettered itself have no source queue of their own.
      DestinationArn: options.destinationArn,
      ...(options.messagesPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: options.messagesPerSecond }),
    }),
  );
  let cancelled = false;
  for (;;) {
    await options.clock.sleep(options.pollIntervalMs ?? 2_000, cancelled ? undefined : options.signal);
    if (options.signal.aborted && !cancelled && taskHandle !== undefined) {
      cancelled = true;
      await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle }));
    }
    const { Results: results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: options.dlqArn, MaxResults: 1 }));
    const task = results[0];
    options.onProgress?.(task?.ApproximateNumberOfMessagesMoved ?? 0, task?.ApproximateNumberOfMessagesToMove);
    const status = task?.Status ?? '';
    if (Object.values(MOVE_TASK_ENDINGS).some((ending) => ending === status)) return resultOf(task, cancelled, status);
  }
}
