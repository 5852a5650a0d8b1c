/**
 * ECS task scale-in protection: while this task holds work, ECS must not pick it when the service
 * scales in (or a deployment replaces tasks). Protection is set through the ECS container agent,
 * `PUT ${ECS_AGENT_URI}/task-protection/v1/state`, which calls ECS UpdateTaskProtection with the
 * task role's credentials (so the task role needs ecs:UpdateTaskProtection and ecs:GetTaskProtection).
 *
 * Callers count work with acquire() / release(). Protection goes on when the count leaves 0, comes
 * off once it has stayed at 0 for `releaseDelayMs` (so a stream of small files does not flip it per
 * file) or at once on letGo(), and is renewed before it expires while the task stays busy. Agent
 * calls are serialised, bounded by a timeout, and never throw into the caller: a failure is logged,
 * reported to `onError` and retried with backoff (or at the next transition). Outside ECS (no
 * ECS_AGENT_URI) it does nothing. What is sent and how answers are read: task-protection-agent.ts.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import {
  interpretAgentResponse,
  MAX_EXPIRES_IN_MINUTES,
  MIN_EXPIRES_IN_MINUTES,
  nextAction,
  protectionRequestBody,
  renewalDueInMs,
  retryDelayMs,
  TASK_PROTECTION_PATH,
  type AgentOutcome,
  type AgentProtection,
  type ProtectionAction,
  type ProtectionView,
} from './agent-client.ts';

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_STOP_TIMEOUT_MS = 3_000;
const DEFAULT_RETRY_BASE_MS = 5_000;
const DEFAULT_RETRY_MAX_MS = 300_000;

// ---------------------------------------------------------------------------------------------
// The stateful part: counting, timers, serialised agent calls

export interface TaskProtectionFailure {
  readonly action: ProtectionAction;
  readonly error: string;
  readonly consecutiveFailures: number;
}

export interface TaskProtectionOptions {
  /** ECS_AGENT_URI; unset outside ECS, and then nothing is ever sent. */
  readonly agentUri: string | undefined;
  /** 1 to 2,880. */
  readonly expiresInMinutes: number;
  /** How long the count must stay at 0 before protection is removed. */
  readonly releaseDelayMs: number;
  /** Renew after this long while busy; default half the expiry. Must be below the expiry. */
  readonly renewAfterMs?: number;
  /** Bound on one agent call; default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Bound on the final disable in stop(); default 3 s. */
  readonly stopTimeoutMs?: number;
  /** Retry backoff after failed calls: base × 2^(failures − 1), capped (and never beyond renewAfterMs). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly fetch?: typeof fetch;
  readonly logger: Logger;
  /** Called after every failed agent call (for a metric); must not throw, and is guarded if it does. */
  readonly onError?: (failure: TaskProtectionFailure) => void;
  readonly nowMs?: () => number;
}

export interface TaskProtectionState {
  /** Whether an agent is configured at all. */
  readonly enabled: boolean;
  readonly holders: number;
  readonly wanted: boolean;
  readonly agent: AgentProtection;
  /** As the agent reported it on the last enable. */
  readonly expirationDate: string | undefined;
  /**
   * When the agent first confirmed protection since it was last confirmed off (the `nowMs` clock):
   * how long this task has been keeping deployments and scale-in away. Undefined while unprotected.
   */
  readonly protectedSinceMs: number | undefined;
  readonly lastError: string | undefined;
  readonly consecutiveFailures: number;
  /** Timers armed right now (release delay, renewal or retry); 0 after stop(). */
  readonly pendingTimers: number;
  readonly stopped: boolean;
}

export interface TaskProtection {
  /** One more unit of work held (a message received). Never throws, never waits. */
  acquire(): void;
  /** That work ended. Never throws, never waits. */
  release(): void;
  /**
   * With no work held, removes protection now instead of after the release delay; resolves once the
   * agent has answered (a failure is retried as usual). With work held, it does nothing.
   */
  letGo(): Promise<void>;
  /** Cancels timers and any call in flight, then removes protection (one call, bounded). Idempotent. */
  stop(): Promise<void>;
  state(): TaskProtectionState;
  /** Resolves once no agent call is running (for tests and shutdown ordering). */
  idle(): Promise<void>;
}

function checkOptions(options: TaskProtectionOptions, renewAfterMs: number): void {
  const { expiresInMinutes, releaseDelayMs } = options;
  if (!Number.isInteger(expiresInMinutes) || expiresInMinutes < MIN_EXPIRES_IN_MINUTES || expiresInMinutes > MAX_EXPIRES_IN_MINUTES) {
    throw new RangeError(`expiresInMinutes must be a whole number from ${MIN_EXPIRES_IN_MINUTES} to ${MAX_EXPIRES_IN_MINUTES}; got ${expiresInMinutes}`);
  }
  if (!Number.isFinite(releaseDelayMs) || releaseDelayMs < 0) throw new RangeError(`releaseDelayMs must be 0 or more; got ${releaseDelayMs}`);
  if (!(renewAfterMs > 0 && renewAfterMs < expiresInMinutes * 60_000)) {
    throw new RangeError(`renewAfterMs must be above 0 and below the expiry; got ${renewAfterMs}`);
  }
}

function disabledProtection(logger: Logger): TaskProtection {
  logger.info('task scale-in protection is off: ECS_AGENT_URI is not set (not running on ECS)');
  let holders = 0;
  let stopped = false;
  return {
    acquire: () => {
      holders += 1;
    },
    release: () => {
      holders = Math.max(0, holders - 1);
    },
    letGo: () => Promise.resolve(),
    stop: () => {
      stopped = true;
      return Promise.resolve();
    },
    state: () => ({
      enabled: false,
      holders,
      wanted: holders > 0,
      agent: 'off',
      expirationDate: undefined,
      protectedSinceMs: undefined,
      lastError: undefined,
      consecutiveFailures: 0,
      pendingTimers: 0,
      stopped,
    }),
    idle: () => Promise.resolve(),
  };
}

interface SendResult {
  readonly outcome: AgentOutcome;
  /** Cut short by stop(): not worth a warning. */
  readonly cancelled: boolean;
}

export function createTaskProtection(options: TaskProtectionOptions): TaskProtection {
  const expiryMs = options.expiresInMinutes * 60_000;
  const renewAfterMs = options.renewAfterMs ?? Math.floor(expiryMs / 2);
  checkOptions(options, renewAfterMs);
  const logger = options.logger.child({ component: 'task-protection' });
  if (options.agentUri === undefined || options.agentUri.trim() === '') return disabledProtection(logger);

  const url = `${options.agentUri.trim().replace(/\/+$/, '')}${TASK_PROTECTION_PATH}`;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const nowMs = options.nowMs ?? (() => performance.now());
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const retryMaxMs = Math.min(options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS, renewAfterMs);
  const { expiresInMinutes, releaseDelayMs } = options;

  let holders = 0;
  let releasePending = false;
  let agent: AgentProtection = 'off';
  let enabledAtMs: number | undefined;
  let expirationDate: string | undefined;
  let protectedSinceMs: number | undefined;
  let lastError: string | undefined;
  let consecutiveFailures = 0;
  let releaseTimer: NodeJS.Timeout | undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const cancel = new AbortController();

  const view = (): ProtectionView => ({ wanted: holders > 0 || releasePending, agent, enabledAtMs, nowMs: nowMs(), renewAfterMs });

  function clearWake(): void {
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    wakeTimer = undefined;
  }

  function clearRelease(): void {
    if (releaseTimer !== undefined) clearTimeout(releaseTimer);
    releaseTimer = undefined;
  }

  function wakeIn(ms: number): void {
    clearWake();
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      kick();
    }, ms);
    wakeTimer.unref();
  }

  async function send(action: ProtectionAction, timeoutMs: number, cancelSignal?: AbortSignal): Promise<SendResult> {
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      const error = new Error(`no answer from the ECS agent within ${timeoutMs} ms`);
      error.name = 'TimeoutError';
      timeout.abort(error);
    }, timeoutMs);
    timer.unref();
    const signal = cancelSignal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, cancelSignal]);
    try {
      const response = await fetchFn(url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: protectionRequestBody(action, expiresInMinutes),
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

  function record(action: ProtectionAction, sentAtMs: number, { outcome, cancelled }: SendResult): void {
    if (outcome.ok) {
      const was = agent;
      agent = action === 'enable' ? 'on' : 'off';
      enabledAtMs = action === 'enable' ? sentAtMs : undefined;
      expirationDate = action === 'enable' ? outcome.expirationDate : undefined;
      protectedSinceMs = action === 'enable' ? (protectedSinceMs ?? sentAtMs) : undefined;
      if (consecutiveFailures > 0) logger.info({ action, failures: consecutiveFailures }, 'ECS agent reachable again');
      consecutiveFailures = 0;
      lastError = undefined;
      if (action === 'enable' && was === 'on') logger.debug({ expiresInMinutes, expirationDate }, 'task scale-in protection renewed');
      else if (action === 'enable') logger.info({ expiresInMinutes, expirationDate }, 'task scale-in protection on');
      else logger.info('task scale-in protection off');
      return;
    }
    if (!outcome.definite) {
      agent = 'unknown';
      enabledAtMs = undefined;
    }
    if (cancelled) return;
    consecutiveFailures += 1;
    lastError = outcome.error;
    logger.warn(
      { action, err: outcome.error, consecutiveFailures, agentState: agent },
      `could not turn task scale-in protection ${action === 'enable' ? 'on' : 'off'}${stopped ? '' : '; will retry'}`,
    );
    try {
      options.onError?.({ action, error: outcome.error, consecutiveFailures });
    } catch (error) {
      logger.error({ err: errorMessage(error) }, 'task protection onError listener threw');
    }
  }

  /** Brings the agent to the wanted state, one call at a time; arms the renewal or retry timer at the end. */
  async function reconcile(): Promise<void> {
    try {
      while (!stopped) {
        const action = nextAction(view());
        if (action === undefined) {
          const due = renewalDueInMs(view());
          if (due === undefined) clearWake();
          else wakeIn(due);
          return;
        }
        const sentAtMs = nowMs();
        const result = await send(action, requestTimeoutMs, cancel.signal);
        record(action, sentAtMs, result);
        if (!result.outcome.ok) {
          if (!stopped) wakeIn(retryDelayMs(consecutiveFailures, retryBaseMs, retryMaxMs));
          return;
        }
      }
    } catch (error) {
      // Not expected (send and record do not throw); never let it reach the caller.
      logger.error({ err: errorMessage(error) }, 'task protection reconcile failed');
    } finally {
      running = false;
    }
  }

  function kick(): void {
    if (stopped || running) return;
    clearWake();
    running = true;
    loop = reconcile();
  }

  function releaseNow(): void {
    releaseTimer = undefined;
    releasePending = false;
    kick();
  }

  return {
    acquire(): void {
      if (stopped) return;
      holders += 1;
      if (holders !== 1) return;
      clearRelease();
      if (releasePending) {
        releasePending = false;
        return; // still protected from the last work: nothing to send
      }
      kick();
    },

    letGo(): Promise<void> {
      if (stopped || holders > 0) return loop;
      clearRelease();
      releasePending = false;
      kick();
      return loop;
    },

    release(): void {
      if (stopped || holders === 0) return;
      holders -= 1;
      if (holders !== 0) return;
      if (releaseDelayMs === 0) {
        kick();
        return;
      }
      releasePending = true;
      releaseTimer = setTimeout(releaseNow, releaseDelayMs);
      releaseTimer.unref();
    },

    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        clearRelease();
        clearWake();
        releasePending = false;
        cancel.abort();
        await loop;
        if (agent === 'off') return;
        const sentAtMs = nowMs();
        record('disable', sentAtMs, await send('disable', stopTimeoutMs));
      })();
      return stopping;
    },

    state: (): TaskProtectionState => ({
      enabled: true,
      holders,
      wanted: holders > 0 || releasePending,
      agent,
      expirationDate,
      protectedSinceMs,
      lastError,
      consecutiveFailures,
      pendingTimers: (releaseTimer === undefined ? 0 : 1) + (wakeTimer === undefined ? 0 : 1),
      stopped,
    }),

    idle: () => loop,
  };
}
