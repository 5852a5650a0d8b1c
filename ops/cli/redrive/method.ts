/** Which way a redrive moves messages, and why: a choice made once, from the flags and one probe. Pure. */
import { UsageError } from '../exit-codes.ts';
import { MAX_MOVE_TASK_RATE, type MoveTaskSupport } from './move-task.ts';

export const REDRIVE_METHODS = { auto: 'auto', moveTask: 'move-task', clientSide: 'client-side' } as const;
export type RequestedMethod = (typeof REDRIVE_METHODS)[keyof typeof REDRIVE_METHODS];
export type RedriveMethod = Exclude<RequestedMethod, 'auto'>;

export interface MethodChoice {
  readonly method: RedriveMethod;
  readonly why: string;
}

/** Whether choosing needs the endpoint probed (ListMessageMoveTasks). */
export function needsMoveTaskProbe(requested: RequestedMethod, limit: number | undefined): boolean {
  return requested === REDRIVE_METHODS.moveTask || (requested === REDRIVE_METHODS.auto && limit === undefined);
}

export function chooseRedriveMethod(
  requested: RequestedMethod,
  limit: number | undefined,
  rate: number | undefined,
  support: MoveTaskSupport | undefined,
): MethodChoice {
  if (requested === REDRIVE_METHODS.clientSide) return { method: REDRIVE_METHODS.clientSide, why: 'asked for with --method' };
  if (limit !== undefined) {
    if (requested === REDRIVE_METHODS.moveTask) throw new UsageError('--limit needs --method client-side: a move task always moves every message');
    return { method: REDRIVE_METHODS.clientSide, why: 'a move task cannot stop after --limit messages' };
  }
  if (support === undefined) throw new Error('the endpoint was not probed for message move tasks');
  if (!support.supported) {
    if (requested === REDRIVE_METHODS.moveTask) throw new UsageError(`--method move-task: ${support.reason}`);
    return { method: REDRIVE_METHODS.clientSide, why: support.reason };
  }
  if (support.running !== undefined) {
    throw new Error(`a message move task already runs on this DLQ (${support.running.ApproximateNumberOfMessagesMoved ?? 0} moved so far); wait for it or cancel it`);
  }
  if (rate !== undefined && (!Number.isInteger(rate) || rate > MAX_MOVE_TASK_RATE)) {
    throw new UsageError(`--rate must be a whole number from 1 to ${MAX_MOVE_TASK_RATE} for a move task; got ${rate}`);
  }
  return { method: REDRIVE_METHODS.moveTask, why: 'SQS StartMessageMoveTask' };
}
