/**
 * The ECS container agent's task-protection endpoint: what the worker sends, one bounded call, and
 * what the agent's answers mean. The call never throws: every end is an `AgentOutcome`.
 *
 * The agent answers (amazon-ecs-agent, ecs-agent/tmds/handlers/taskprotection/v1):
 *   200 {"protection":{"ExpirationDate":…,"ProtectionEnabled":true,"TaskArn":"…"}}   done
 *   200 {"failure":{"Arn":"…","Detail":…,"Reason":"TASK_NOT_VALID"}}                 ECS refused (note: 200)
 *   4xx/5xx {"requestID":"…","error":{"Arn":"…","Code":"AccessDeniedException","Message":"…"}}
 */
import { isJsonObject } from '../common/json-object.ts';
import { errorMessage } from '../common/error-message.ts';

/** ECS accepts 1 to 2,880 minutes (48 hours); without a value it protects for 120. */
export const MIN_EXPIRES_IN_MINUTES = 1;
export const MAX_EXPIRES_IN_MINUTES = 2_880;
export const TASK_PROTECTION_PATH = '/task-protection/v1/state';

export const PROTECTION_ACTIONS = ['enable', 'disable'] as const;
export type ProtectionAction = (typeof PROTECTION_ACTIONS)[number];

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

/** `${ECS_AGENT_URI}/task-protection/v1/state`, whether or not the URI ends in a slash. */
export function taskProtectionUrl(agentUri: string): string {
  return `${agentUri.trim().replace(/\/+$/, '')}${TASK_PROTECTION_PATH}`;
}

export interface AgentCall {
  readonly fetch: typeof fetch;
  readonly url: string;
  readonly action: ProtectionAction;
  readonly expiresInMinutes: number;
  /** No answer within this long is a failure whose effect is unknown. */
  readonly timeoutMs: number;
  /** Aborting it ends the call as `cancelled` (shutdown), not as a failure worth reporting. */
  readonly cancelSignal?: AbortSignal;
}

export interface AgentCallResult {
  readonly outcome: AgentOutcome;
  /** Cut short through `cancelSignal`. */
  readonly cancelled: boolean;
}

/** One PUT to the agent, bounded by `timeoutMs`; resolves in every case, never rejects. */
export async function callAgent(call: AgentCall): Promise<AgentCallResult> {
  const { timeoutMs, cancelSignal, action } = call;
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    const error = new Error(`no answer from the ECS agent within ${timeoutMs} ms`);
    error.name = 'TimeoutError';
    timeout.abort(error);
  }, timeoutMs);
  timer.unref();
  const signal = cancelSignal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, cancelSignal]);
  try {
    const response = await call.fetch(call.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: protectionRequestBody(action, call.expiresInMinutes),
      signal,
    });
    const raw = await response.text();
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    return { outcome: interpretAgentResponse(response.status, body, action), cancelled: false };
  } catch (error) {
    const cancelled = cancelSignal?.aborted === true && !timeout.signal.aborted;
    const reason: unknown = signal.aborted ? signal.reason : error;
    return { outcome: { ok: false, definite: false, error: errorMessage(reason) }, cancelled };
  } finally {
    clearTimeout(timer);
  }
}
