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

/** What the flags ask of a redrive, as far as the choice of method goes. */
export interface RedriveRequest {
  readonly method: RequestedMethod;
  readonly limit: number | undefined;
  readonly rate: number | undefined;
  /** `--reason` given: only some messages are to move. */
  readonly filtered: boolean;
}

/** Why a move task cannot do what was asked (it always moves every message), if it cannot. */
function moveTaskCannot(request: RedriveRequest): { flag: string; why: string } | undefined {
  if (request.filtered) return { flag: '--reason', why: 'a move task cannot choose messages by --reason' };
  if (request.limit !== undefined) return { flag: '--limit', why: 'a move task cannot stop after --limit messages' };
  return undefined;
}

/** Whether choosing needs the endpoint probed (ListMessageMoveTasks). */
export function needsMoveTaskProbe(request: RedriveRequest): boolean {
  return request.method === REDRIVE_METHODS.moveTask || (request.method === REDRIVE_METHODS.auto && moveTaskCannot(request) === undefined);
}

export function chooseRedriveMethod(request: RedriveRequest, support: MoveTaskSupport | undefined): MethodChoice {
  const { method: requested, rate } = request;
  if (requested === REDRIVE_METHODS.clientSide) return { method: REDRIVE_METHODS.clientSide, why: 'asked for with --method' };
  const cannot = moveTaskCannot(request);
  if (cannot !== undefined) {
    if (requested === REDRIVE_METHODS.moveTask) throw new UsageError(`${cannot.flag} needs --method client-side: a move task always moves every message`);
    return { method: REDRIVE_METHODS.clientSide, why: cannot.why };
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
