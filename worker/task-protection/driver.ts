/**
 * ECS task scale-in protection, carried out: while this task holds work, ECS must not pick it when the
 * service scales in (or a deployment replaces tasks). Protection is set through the ECS container agent,
 * `PUT ${ECS_AGENT_URI}/task-protection/v1/state`, which calls ECS UpdateTaskProtection with the task
 * role's credentials (so the task role needs ecs:UpdateTaskProtection and ecs:GetTaskProtection).
 *
 * What to send and when is decided in protocol.ts; this module feeds it events, arms the timers its
 * state asks for, makes the agent calls (agent-client.ts: one at a time, bounded by a timeout) and hands
 * every outcome to `events` (telemetry.ts). Nothing here throws into the caller. Outside ECS (no
 * ECS_AGENT_URI) it sends nothing.
 */
import { errorMessage } from '../common/error-message.ts';
import { callAgent, MAX_EXPIRES_IN_MINUTES, MIN_EXPIRES_IN_MINUTES, taskProtectionUrl, type ProtectionAction } from './agent-client.ts';
import {
  INITIAL_PROTOCOL_STATE,
  isWanted,
  protectionStep,
  type AgentCallFailure,
  type AgentCallInFlight,
  type AgentProtection,
  type ProtectionReport,
  type ProtocolAction,
  type ProtocolEvent,
  type ProtocolSettings,
  type ProtocolState,
} from './protocol.ts';

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_STOP_TIMEOUT_MS = 3_000;
const DEFAULT_RETRY_BASE_MS = 5_000;
const DEFAULT_RETRY_MAX_MS = 300_000;

/** Every outcome, one call each (telemetry.ts logs and counts them). Listeners must not throw. */
export interface TaskProtectionEvents {
  /** No ECS_AGENT_URI: nothing will ever be sent. */
  notOnEcs(): void;
  protectionOn(expiresInMinutes: number, expirationDate: string | undefined): void;
  protectionRenewed(expiresInMinutes: number, expirationDate: string | undefined): void;
  protectionOff(): void;
  /** Every failed agent call, except one cut short by stop(). */
  agentCallFailed(failure: AgentCallFailure): void;
  /** The first success after failed calls. */
  agentReachableAgain(action: ProtectionAction, failures: number): void;
  /** Something threw where nothing should (a listener, a bug); the protection carries on. */
  failedUnexpectedly(error: string): void;
}

export interface TaskProtectionOptions {
  /** ECS_AGENT_URI; unset outside ECS, and then nothing is ever sent. */
  readonly agentUri: string | undefined;
  /** 1 to 2,880. */
  readonly expiresInMinutes: number;
  /** How long the count must stay at 0 before protection is removed. */
  readonly releaseDelayMs: number;
  /** Renew after this long while busy. Must be below the expiry. @default half the expiry */
  readonly renewAfterMs?: number;
  /** Bound on one agent call. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Bound on the final disable in stop(). @default 3000 */
  readonly stopTimeoutMs?: number;
  /** Retry backoff after failed calls: base × 2^(failures − 1). @default 5000 */
  readonly retryBaseMs?: number;
  /** The backoff's cap, never beyond renewAfterMs. @default 300000 */
  readonly retryMaxMs?: number;
  readonly fetch?: typeof fetch;
  readonly events: TaskProtectionEvents;
  /** @default performance.now */
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

function protectionOffEcs(events: TaskProtectionEvents): TaskProtection {
  events.notOnEcs();
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

type TimerName = 'release' | 'wake';

interface ArmedTimer {
  readonly dueAtMs: number;
  readonly handle: NodeJS.Timeout;
}

export function createTaskProtection(options: TaskProtectionOptions): TaskProtection {
  const { events, expiresInMinutes } = options;
  const expiryMs = expiresInMinutes * 60_000;
  const renewAfterMs = options.renewAfterMs ?? Math.floor(expiryMs / 2);
  checkOptions(options, renewAfterMs);
  if (options.agentUri === undefined || options.agentUri.trim() === '') return protectionOffEcs(events);

  const url = taskProtectionUrl(options.agentUri);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const nowMs = options.nowMs ?? (() => performance.now());
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const settings: ProtocolSettings = {
    releaseDelayMs: options.releaseDelayMs,
    renewAfterMs,
    retry: { firstDelay: options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, maxDelay: Math.min(options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS, renewAfterMs) },
  };

  let state: ProtocolState = INITIAL_PROTOCOL_STATE;
  const timers = new Map<TimerName, ArmedTimer>();
  const cancel = new AbortController();
  let idleWaiters: Array<() => void> = [];
  let stopping: Promise<void> | undefined;

  function guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      try {
        events.failedUnexpectedly(errorMessage(error));
      } catch {
        // Nowhere left to report it; the protection must carry on regardless.
      }
    }
  }

  function dispatch(event: ProtocolEvent): void {
    guarded(() => {
      const step = protectionStep(state, event, settings);
      state = step.state;
      syncTimer('release', state.releaseAtMs, event.nowMs);
      syncTimer('wake', state.wakeAtMs, event.nowMs);
      for (const action of step.actions) guarded(() => carryOut(action));
    });
    if (state.call === undefined) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Arms, re-arms or disarms one timer to match the deadline the state holds. */
  function syncTimer(name: TimerName, dueAtMs: number | undefined, atMs: number): void {
    const armed = timers.get(name);
    if (armed?.dueAtMs === dueAtMs) return;
    if (armed !== undefined) clearTimeout(armed.handle);
    timers.delete(name);
    if (dueAtMs === undefined) return;
    const handle = setTimeout(
      () => {
        timers.delete(name);
        dispatch({ type: name === 'release' ? 'release_delay_over' : 'wake', nowMs: nowMs() });
      },
      Math.max(0, dueAtMs - atMs),
    );
    handle.unref();
    timers.set(name, { dueAtMs, handle });
  }

  function carryOut(action: ProtocolAction): void {
    switch (action.type) {
      case 'call':
        send(action.call);
        return;
      case 'cancel_call':
        cancel.abort();
        return;
      case 'report':
        report(action.report);
        return;
    }
  }

  function send(call: AgentCallInFlight): void {
    void callAgent({
      fetch: fetchFn,
      url,
      action: call.action,
      expiresInMinutes,
      timeoutMs: call.final ? stopTimeoutMs : requestTimeoutMs,
      cancelSignal: call.final ? undefined : cancel.signal,
    }).then(({ outcome, cancelled }) => dispatch({ type: 'answered', nowMs: nowMs(), outcome, cancelled }));
  }

  function report(value: ProtectionReport): void {
    switch (value.kind) {
      case 'on':
        events.protectionOn(expiresInMinutes, value.expirationDate);
        return;
      case 'renewed':
        events.protectionRenewed(expiresInMinutes, value.expirationDate);
        return;
      case 'off':
        events.protectionOff();
        return;
      case 'agent_reachable_again':
        events.agentReachableAgain(value.action, value.failures);
        return;
      case 'agent_call_failed':
        events.agentCallFailed(value.failure);
        return;
    }
  }

  function idle(): Promise<void> {
    if (state.call === undefined) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  return {
    acquire: () => dispatch({ type: 'acquire', nowMs: nowMs() }),
    release: () => dispatch({ type: 'release', nowMs: nowMs() }),
    letGo(): Promise<void> {
      dispatch({ type: 'let_go', nowMs: nowMs() });
      return idle();
    },
    stop(): Promise<void> {
      stopping ??= (() => {
        dispatch({ type: 'stop', nowMs: nowMs() });
        return idle();
      })();
      return stopping;
    },
    state: (): TaskProtectionState => ({
      enabled: true,
      holders: state.holders,
      wanted: isWanted(state),
      agent: state.agent,
      expirationDate: state.expirationDate,
      protectedSinceMs: state.protectedSinceMs,
      lastError: state.lastError,
      consecutiveFailures: state.consecutiveFailures,
      pendingTimers: timers.size,
      stopped: state.stopped,
    }),
    idle,
  };
}
