/**
 * The task scale-in protection protocol as plain values: a state and an event in (each event carries
 * the time it happened on the `nowMs` clock), the next state and the actions to carry out. driver.ts
 * carries them out (timers, agent calls); nothing here waits, calls or reads a clock.
 *
 * Callers count work with acquire / release. Protection goes on when the count leaves 0, comes off once
 * it has stayed at 0 for the release delay (so a stream of small files does not flip it per file) or at
 * once on let_go, and is renewed before it expires while the task stays busy. One agent call at a time;
 * a failed call is retried with backoff, or sooner at the next transition. After stop, one last call
 * removes protection that may be on, and nothing else is sent.
 */
import { backoffDelay, type Backoff } from '../common/backoff.ts';
import type { AgentOutcome, ProtectionAction } from './agent-client.ts';

/** What the agent last confirmed; `unknown` after a call whose effect cannot be known (timeout, 5xx). */
export type AgentProtection = 'on' | 'off' | 'unknown';

export interface ProtocolSettings {
  /** How long the count must stay at 0 before protection is removed. */
  readonly releaseDelayMs: number;
  /** Renew this long after the last successful enable while busy; below the expiry. */
  readonly renewAfterMs: number;
  /** Delay before retrying after failed calls, in ms. */
  readonly retry: Backoff;
}

export interface AgentCallInFlight {
  readonly action: ProtectionAction;
  readonly sentAtMs: number;
  /** The call stop() makes: bounded by the stop timeout, never cancelled, nothing after it. */
  readonly final: boolean;
}

export interface ProtocolState {
  readonly holders: number;
  /** The count is at 0 and the release delay runs: protection is still wanted. */
  readonly releasePending: boolean;
  readonly agent: AgentProtection;
  /** When the last successful enable was sent. */
  readonly enabledAtMs: number | undefined;
  /** As the agent reported it on the last enable. */
  readonly expirationDate: string | undefined;
  /** When the agent first confirmed protection since it was last confirmed off; undefined while unprotected. */
  readonly protectedSinceMs: number | undefined;
  readonly lastError: string | undefined;
  readonly consecutiveFailures: number;
  readonly call: AgentCallInFlight | undefined;
  /** When the release delay ends (`release_delay_over` is due). */
  readonly releaseAtMs: number | undefined;
  /** When a renewal or a retry is due (`wake`). */
  readonly wakeAtMs: number | undefined;
  readonly stopped: boolean;
}

export const INITIAL_PROTOCOL_STATE: ProtocolState = {
  holders: 0,
  releasePending: false,
  agent: 'off',
  enabledAtMs: undefined,
  expirationDate: undefined,
  protectedSinceMs: undefined,
  lastError: undefined,
  consecutiveFailures: 0,
  call: undefined,
  releaseAtMs: undefined,
  wakeAtMs: undefined,
  stopped: false,
};

export type ProtocolEvent =
  | { readonly type: 'acquire' | 'release' | 'let_go' | 'stop'; readonly nowMs: number }
  /** The timer for `releaseAtMs` or `wakeAtMs` fired (taken as due whatever the clock says). */
  | { readonly type: 'release_delay_over' | 'wake'; readonly nowMs: number }
  /** The call in flight ended; `cancelled` when stop cut it short. */
  | { readonly type: 'answered'; readonly nowMs: number; readonly outcome: AgentOutcome; readonly cancelled: boolean };

export interface AgentCallFailure {
  readonly action: ProtectionAction;
  readonly error: string;
  readonly consecutiveFailures: number;
  readonly agentState: AgentProtection;
  /** False once stopped: nothing more will be sent. */
  readonly willRetry: boolean;
}

export type ProtectionReport =
  | { readonly kind: 'on' | 'renewed'; readonly expirationDate: string | undefined }
  | { readonly kind: 'off' }
  | { readonly kind: 'agent_reachable_again'; readonly action: ProtectionAction; readonly failures: number }
  | { readonly kind: 'agent_call_failed'; readonly failure: AgentCallFailure };

export type ProtocolAction =
  | { readonly type: 'call'; readonly call: AgentCallInFlight }
  | { readonly type: 'cancel_call' }
  | { readonly type: 'report'; readonly report: ProtectionReport };

export interface ProtocolStep {
  readonly state: ProtocolState;
  /** In order: reports of what an answer meant come before the next call. */
  readonly actions: readonly ProtocolAction[];
}

export interface ProtectionView {
  /** Work is held, or was released less than the release delay ago. */
  readonly wanted: boolean;
  readonly agent: AgentProtection;
  /** When the last successful enable was sent. */
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

export function isWanted(state: ProtocolState): boolean {
  return state.holders > 0 || state.releasePending;
}

/** The next state and what to do, for one event. */
export function protectionStep(state: ProtocolState, event: ProtocolEvent, settings: ProtocolSettings): ProtocolStep {
  const actions: ProtocolAction[] = [];
  const next = apply(state, event, settings, actions);
  return { state: next, actions };
}

function apply(state: ProtocolState, event: ProtocolEvent, settings: ProtocolSettings, actions: ProtocolAction[]): ProtocolState {
  const { nowMs } = event;
  const reconcile = (from: ProtocolState) => reconcileNow(from, nowMs, settings, actions);
  if (state.stopped && event.type !== 'answered') return state;
  switch (event.type) {
    case 'acquire': {
      const held = { ...state, holders: state.holders + 1 };
      if (held.holders !== 1) return held;
      // Still protected from the last work: nothing to send.
      if (held.releasePending) return { ...held, releasePending: false, releaseAtMs: undefined };
      return reconcile(held);
    }
    case 'release': {
      if (state.holders === 0) return state;
      const released = { ...state, holders: state.holders - 1 };
      if (released.holders !== 0) return released;
      if (settings.releaseDelayMs === 0) return reconcile(released);
      return { ...released, releasePending: true, releaseAtMs: nowMs + settings.releaseDelayMs };
    }
    case 'release_delay_over':
      if (state.releaseAtMs === undefined) return state; // a timer already disarmed
      return reconcile({ ...state, releasePending: false, releaseAtMs: undefined });
    case 'wake':
      if (state.wakeAtMs === undefined) return state;
      return reconcile({ ...state, wakeAtMs: undefined });
    case 'let_go':
      if (state.holders > 0) return state;
      return reconcile({ ...state, releasePending: false, releaseAtMs: undefined });
    case 'stop': {
      const stopped = { ...state, stopped: true, releasePending: false, releaseAtMs: undefined, wakeAtMs: undefined };
      if (stopped.call === undefined) return finalDisable(stopped, nowMs, actions);
      actions.push({ type: 'cancel_call' });
      return stopped;
    }
    case 'answered': {
      const { call } = state;
      if (call === undefined) return state;
      const recorded = record({ ...state, call: undefined }, call, event.outcome, event.cancelled, actions);
      if (call.final) return recorded;
      if (recorded.stopped) return finalDisable(recorded, nowMs, actions);
      if (event.outcome.ok) return reconcile(recorded);
      return { ...recorded, wakeAtMs: nowMs + backoffDelay(recorded.consecutiveFailures, settings.retry) };
    }
  }
}

/** Brings the agent towards the wanted state: the call due now, or the renewal timer. */
function reconcileNow(state: ProtocolState, nowMs: number, settings: ProtocolSettings, actions: ProtocolAction[]): ProtocolState {
  if (state.stopped || state.call !== undefined) return state; // the answer reconciles again
  const view: ProtectionView = { wanted: isWanted(state), agent: state.agent, enabledAtMs: state.enabledAtMs, nowMs, renewAfterMs: settings.renewAfterMs };
  const action = nextAction(view);
  if (action === undefined) {
    const dueInMs = renewalDueInMs(view);
    return { ...state, wakeAtMs: dueInMs === undefined ? undefined : nowMs + dueInMs };
  }
  const call: AgentCallInFlight = { action, sentAtMs: nowMs, final: false };
  actions.push({ type: 'call', call });
  return { ...state, call, wakeAtMs: undefined };
}

/** stop()'s one call: removes protection unless the agent confirmed it off. */
function finalDisable(state: ProtocolState, nowMs: number, actions: ProtocolAction[]): ProtocolState {
  if (state.agent === 'off') return state;
  const call: AgentCallInFlight = { action: 'disable', sentAtMs: nowMs, final: true };
  actions.push({ type: 'call', call });
  return { ...state, call };
}

/** What an answer means for the state, and what to report. */
function record(state: ProtocolState, call: AgentCallInFlight, outcome: AgentOutcome, cancelled: boolean, actions: ProtocolAction[]): ProtocolState {
  const report = (value: ProtectionReport) => actions.push({ type: 'report', report: value });
  const { action, sentAtMs } = call;
  if (outcome.ok) {
    if (state.consecutiveFailures > 0) report({ kind: 'agent_reachable_again', action, failures: state.consecutiveFailures });
    const cleared = { ...state, consecutiveFailures: 0, lastError: undefined };
    if (action === 'disable') {
      report({ kind: 'off' });
      return { ...cleared, agent: 'off', enabledAtMs: undefined, expirationDate: undefined, protectedSinceMs: undefined };
    }
    report({ kind: state.agent === 'on' ? 'renewed' : 'on', expirationDate: outcome.expirationDate });
    return { ...cleared, agent: 'on', enabledAtMs: sentAtMs, expirationDate: outcome.expirationDate, protectedSinceMs: state.protectedSinceMs ?? sentAtMs };
  }
  const known: ProtocolState = outcome.definite ? state : { ...state, agent: 'unknown', enabledAtMs: undefined };
  if (cancelled) return known;
  const failed = { ...known, consecutiveFailures: known.consecutiveFailures + 1, lastError: outcome.error };
  report({
    kind: 'agent_call_failed',
    failure: { action, error: outcome.error, consecutiveFailures: failed.consecutiveFailures, agentState: failed.agent, willRetry: !failed.stopped },
  });
  return failed;
}
