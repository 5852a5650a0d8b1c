/**
 * The hold limit on ECS task scale-in protection. ECS stops a protected task neither for a deployment
 * nor for scale-in until the protection is removed or expires, and the worker renews it for as long as
 * it holds work, so under a steady backlog a busy task would keep a rollout (and the CloudFormation
 * update waiting on it) from ever finishing. The rule: once the task has been protected without a break
 * for the hold limit, it yields. It stops receiving, finishes the files it holds, removes its protection
 * at once (without the release delay), and stays idle and unprotected for the idle window, so that ECS
 * can stop it; if ECS does not, it receives again and the clock starts over.
 *
 * `nextYieldStep` decides from plain values; `createProtectionYield` carries the decisions out.
 */
import type { AgentProtection } from './protocol.ts';

export const YIELD_PHASES = ['receiving', 'finishing', 'releasing', 'idle'] as const;
/** receiving: as usual; finishing: no new messages, files held still running; releasing: protection being removed; idle: unprotected, waiting. */
export type YieldPhase = (typeof YIELD_PHASES)[number];

export interface YieldState {
  readonly phase: YieldPhase;
  /** When the phase began, on the `nowMs` clock. */
  readonly sinceMs: number;
}

export interface YieldFacts {
  readonly nowMs: number;
  /** Since when the agent has confirmed protection without a break; undefined while unprotected. */
  readonly protectedSinceMs: number | undefined;
  /** Receiving has stopped and no file is held any more. */
  readonly drained: boolean;
  /** The agent has answered the request to remove protection (either way: a failure is retried in the background). */
  readonly letGoAnswered: boolean;
}

export interface YieldLimits {
  /** Unbroken protection after which the task yields; 0 = never. */
  readonly holdLimitMs: number;
  /** How long the task then stays idle and unprotected before it receives again. */
  readonly idleMs: number;
}

/** What to do on entering the new phase. */
export type YieldStep = 'stop_receiving' | 'let_go' | 'wait_idle' | 'resume';

export interface YieldDecision {
  readonly state: YieldState;
  readonly step: YieldStep | undefined;
}

/** The next phase and the step that enters it, or the same state and no step. */
export function nextYieldStep(state: YieldState, facts: YieldFacts, limits: YieldLimits): YieldDecision {
  const { nowMs } = facts;
  const enter = (phase: YieldPhase, step: YieldStep): YieldDecision => ({ state: { phase, sinceMs: nowMs }, step });
  switch (state.phase) {
    case 'receiving': {
      // Counted from the resume at the earliest: protection whose removal failed must not make the task yield again at once.
      const since = facts.protectedSinceMs === undefined ? undefined : Math.max(facts.protectedSinceMs, state.sinceMs);
      const due = limits.holdLimitMs > 0 && since !== undefined && nowMs - since >= limits.holdLimitMs;
      return due ? enter('finishing', 'stop_receiving') : { state, step: undefined };
    }
    case 'finishing':
      return facts.drained ? enter('releasing', 'let_go') : { state, step: undefined };
    case 'releasing':
      return facts.letGoAnswered ? enter('idle', 'wait_idle') : { state, step: undefined };
    case 'idle':
      return nowMs - state.sinceMs >= limits.idleMs ? enter('receiving', 'resume') : { state, step: undefined };
  }
}

/** Tasks that started together yield at different times: each takes its limit from the top tenth below the setting. */
export const HOLD_LIMIT_JITTER = 0.1;

/** This task's hold limit, from the setting and a random number in [0, 1). */
export function jitteredHoldLimitMs(holdLimitMs: number, random: number): number {
  const spread = Math.min(Math.max(random, 0), 1);
  return Math.round(holdLimitMs * (1 - HOLD_LIMIT_JITTER * spread));
}

/** Why a yielding task does not receive: what /readyz answers. */
export function yieldReason(phase: YieldPhase, limits: YieldLimits): string | undefined {
  const holdSeconds = Math.round(limits.holdLimitMs / 1000);
  const idleSeconds = Math.round(limits.idleMs / 1000);
  switch (phase) {
    case 'receiving':
      return undefined;
    case 'finishing':
      return `not receiving: task scale-in protection held for ${holdSeconds} s; finishing the files it holds, then letting ECS replace this task`;
    case 'releasing':
      return 'not receiving: removing task scale-in protection so that ECS can replace this task';
    case 'idle':
      return `not receiving: idle without task scale-in protection for ${idleSeconds} s so that ECS can replace this task; then receiving again`;
  }
}

// ---------------------------------------------------------------------------------------------
// Carrying it out

export interface YieldPool {
  /** Stops receiving; resolves once no file is held (and on shutdown). */
  pause(): Promise<void>;
  resume(): void;
}

export interface YieldProtection {
  state(): { readonly protectedSinceMs: number | undefined; readonly agent: AgentProtection };
  letGo(): Promise<void>;
}

export interface ProtectionYieldEvents {
  stoppedReceiving(heldForMs: number, holdLimitMs: number): void;
  released(finishingMs: number, agent: AgentProtection, idleMs: number): void;
  resumed(idleMs: number): void;
}

export interface ProtectionYieldOptions {
  /** holdLimitMs as configured; this task uses a jittered one (jitteredHoldLimitMs). */
  readonly limits: YieldLimits;
  readonly protection: YieldProtection;
  readonly pool: YieldPool;
  readonly events: ProtectionYieldEvents;
  readonly nowMs: () => number;
  /** How often start() re-checks the limit and the idle window; default 1 s. */
  readonly checkIntervalMs?: number;
  readonly random?: () => number;
}

export interface ProtectionYield {
  /** Checks every checkIntervalMs from now on (nothing to check when the limit is 0). */
  start(): void;
  /** Decides and acts now; also what the timer and each finished step call. */
  check(): void;
  phase(): YieldPhase;
  /** While yielding, why the task does not receive. */
  reason(): string | undefined;
  /** The limit this task uses. */
  readonly holdLimitMs: number;
  /** Stops checking; the pool and the protection are stopped by their owners. */
  stop(): void;
}

const DEFAULT_CHECK_INTERVAL_MS = 1_000;

export function createProtectionYield(options: ProtectionYieldOptions): ProtectionYield {
  const { protection, pool, events, nowMs } = options;
  const limits: YieldLimits = {
    holdLimitMs: jitteredHoldLimitMs(options.limits.holdLimitMs, (options.random ?? Math.random)()),
    idleMs: options.limits.idleMs,
  };
  let state: YieldState = { phase: 'receiving', sinceMs: Number.NEGATIVE_INFINITY };
  let yieldStartedMs = 0;
  let drained = false;
  let letGoAnswered = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function act(step: YieldStep, from: YieldState, facts: YieldFacts): void {
    const settled = (set: () => void) => () => {
      set();
      check();
    };
    switch (step) {
      case 'stop_receiving': {
        yieldStartedMs = facts.nowMs;
        drained = false;
        events.stoppedReceiving(facts.nowMs - (facts.protectedSinceMs ?? facts.nowMs), limits.holdLimitMs);
        const done = settled(() => (drained = true));
        pool.pause().then(done, done);
        return;
      }
      case 'let_go': {
        letGoAnswered = false;
        const done = settled(() => (letGoAnswered = true));
        protection.letGo().then(done, done);
        return;
      }
      case 'wait_idle':
        events.released(facts.nowMs - yieldStartedMs, protection.state().agent, limits.idleMs);
        return;
      case 'resume':
        pool.resume();
        events.resumed(facts.nowMs - from.sinceMs);
        return;
    }
  }

  function check(): void {
    // A step can make the next one due at once (nothing held when receiving stops): decide until none is.
    for (let steps = 0; !stopped && steps < YIELD_PHASES.length; steps += 1) {
      const from = state;
      const facts: YieldFacts = { nowMs: nowMs(), protectedSinceMs: protection.state().protectedSinceMs, drained, letGoAnswered };
      const decision = nextYieldStep(state, facts, limits);
      if (decision.step === undefined) return;
      state = decision.state;
      act(decision.step, from, facts);
    }
  }

  return {
    holdLimitMs: limits.holdLimitMs,
    start(): void {
      if (stopped || timer !== undefined || limits.holdLimitMs <= 0) return;
      timer = setInterval(check, options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS);
      timer.unref();
    },
    check,
    phase: () => state.phase,
    reason: () => yieldReason(state.phase, limits),
    stop(): void {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
