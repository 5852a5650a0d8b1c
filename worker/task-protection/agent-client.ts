/**
 * What the worker tells the ECS container agent about task scale-in protection, and what the agent's
 * answers mean: plain values in, plain values out (the calls themselves are in task-protection.ts).
 *
 * The agent answers (amazon-ecs-agent, ecs-agent/tmds/handlers/taskprotection/v1):
 *   200 {"protection":{"ExpirationDate":…,"ProtectionEnabled":true,"TaskArn":"…"}}   done
 *   200 {"failure":{"Arn":"…","Detail":…,"Reason":"TASK_NOT_VALID"}}                 ECS refused (note: 200)
 *   4xx/5xx {"requestID":"…","error":{"Arn":"…","Code":"AccessDeniedException","Message":"…"}}
 */
import { isJsonObject } from '../common/json-object.ts';

/** ECS accepts 1 to 2,880 minutes (48 hours); without a value it protects for 120. */
export const MIN_EXPIRES_IN_MINUTES = 1;
export const MAX_EXPIRES_IN_MINUTES = 2_880;
export const TASK_PROTECTION_PATH = '/task-protection/v1/state';

export type ProtectionAction = 'enable' | 'disable';
/** What the agent last confirmed; `unknown` after a call whose effect cannot be known (timeout, 5xx). */
export type AgentProtection = 'on' | 'off' | 'unknown';

export interface ProtectionView {
  /** Work is held, or was released less than the release delay ago. */
  readonly wanted: boolean;
  readonly agent: AgentProtection;
  /** When the last successful enable was sent, on the `nowMs` clock. */
  readonly enabledAtMs: number | undefined;
  readonly nowMs: number;
  readonly renewAfterMs: number;
}

/** The agent call due now, if any. */
export function nextAction(view: ProtectionView): ProtectionAction | undefined {
  if (!view.wanted) return view.agent === 'off' ? undefined : 'disable';
  if (view.agent !== 'on' || view.enabledAtMs === undefined) return 'enable';
  return view.nowMs - view.enabledAtMs >= view.renewAfterMs ? 'enable' : undefined;
}

/** With nothing due now: in how many ms the protection must be renewed (undefined: nothing to renew). */
export function renewalDueInMs(view: ProtectionView): number | undefined {
  if (!view.wanted || view.agent !== 'on' || view.enabledAtMs === undefined) return undefined;
  return Math.max(0, view.enabledAtMs + view.renewAfterMs - view.nowMs);
}

/** Backoff before retrying after `consecutiveFailures` failed calls (1, 2, …). */
export function retryDelayMs(consecutiveFailures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, consecutiveFailures - 1), 20));
}

/** The PUT body the agent expects; ExpiresInMinutes only applies when enabling. */
export function protectionRequestBody(action: ProtectionAction, expiresInMinutes: number): string {
  return JSON.stringify(
    action === 'enable' ? { ProtectionEnabled: true, ExpiresInMinutes: expiresInMinutes } : { ProtectionEnabled: false },
  );
}

export type AgentOutcome =
  | { readonly ok: true; readonly expirationDate: string | undefined }
  /** `definite`: the agent certainly did not apply the change (4xx, or an ECS `failure`). */
  | { readonly ok: false; readonly definite: boolean; readonly error: string };

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isJsonObject(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Reads an agent response into success or a failure with a one-line reason. */
export function interpretAgentResponse(status: number, body: unknown, action: ProtectionAction): AgentOutcome {
  const record = asRecord(body) ?? {};
  const clientError = status >= 400 && status < 500;
  const failure = asRecord(record.failure);
  if (failure !== undefined) {
    const detail = text(failure.Detail);
    return { ok: false, definite: true, error: `ECS refused: ${text(failure.Reason) ?? 'unknown reason'}${detail ? ` (${detail})` : ''}` };
  }
  const error = asRecord(record.error);
  if (error !== undefined) {
    const requestId = text(record.requestID);
    return {
      ok: false,
      definite: clientError,
      error: `HTTP ${status} ${text(error.Code) ?? 'error'}: ${text(error.Message) ?? ''}${requestId ? ` (request ${requestId})` : ''}`,
    };
  }
  if (status < 200 || status >= 300) return { ok: false, definite: clientError, error: `HTTP ${status} from the ECS agent` };
  const protection = asRecord(record.protection);
  const wantEnabled = action === 'enable';
  if (protection !== undefined && typeof protection.ProtectionEnabled === 'boolean') {
    if (protection.ProtectionEnabled === wantEnabled) return { ok: true, expirationDate: text(protection.ExpirationDate) };
    return { ok: false, definite: false, error: `the agent reports ProtectionEnabled=${String(protection.ProtectionEnabled)} after ${action}` };
  }
  // A 2xx without failure or error is taken as done when disabling; enabling must be confirmed.
  if (!wantEnabled) return { ok: true, expirationDate: undefined };
  return { ok: false, definite: false, error: `HTTP ${status} from the ECS agent without a protection state` };
}
