/**
 * The task protection protocol on plain values: events with their time in, the next state and the
 * actions out. No timers, no agent: the clock is a number in each event.
 */
import { describe, expect, it } from '@jest/globals';
import type { AgentOutcome } from '../../../../worker/task-protection/agent-client.ts';
import {
  INITIAL_PROTOCOL_STATE,
  nextAction,
  protectionStep,
  renewalDueInMs,
  type ProtocolAction,
  type ProtocolEvent,
  type ProtocolSettings,
  type ProtocolState,
} from '../../../../worker/task-protection/protocol.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const SETTINGS: ProtocolSettings = { releaseDelayMs: 10 * SECOND, renewAfterMs: 30 * MINUTE, retry: { firstDelay: 5 * SECOND, maxDelay: 60 * SECOND } };
const EXPIRATION = '2030-01-01T00:00:00Z';
const REFUSAL = 'ECS refused: TASK_NOT_VALID';
const TIMEOUT = 'TimeoutError: no answer from the ECS agent within 5000 ms';
const OK: AgentOutcome = { ok: true, expirationDate: EXPIRATION };
const OFF_OK: AgentOutcome = { ok: true, expirationDate: undefined };
const REFUSED: AgentOutcome = { ok: false, definite: true, error: REFUSAL };
const TIMED_OUT: AgentOutcome = { ok: false, definite: false, error: TIMEOUT };

const at = (type: 'acquire' | 'release' | 'let_go' | 'stop' | 'release_delay_over' | 'wake', nowMs: number): ProtocolEvent => ({ type, nowMs });
const answered = (nowMs: number, outcome: AgentOutcome, cancelled = false): ProtocolEvent => ({ type: 'answered', nowMs, outcome, cancelled });

/** Feeds the events in order; the final state and every action on the way. */
function run(events: readonly ProtocolEvent[], from: ProtocolState = INITIAL_PROTOCOL_STATE, settings = SETTINGS) {
  let state = from;
  const actions: ProtocolAction[] = [];
  for (const event of events) {
    const step = protectionStep(state, event, settings);
    state = step.state;
    actions.push(...step.actions);
  }
  return { state, actions };
}

const calls = (actions: readonly ProtocolAction[]) => actions.flatMap((action) => (action.type === 'call' ? [action.call.action] : []));
const reports = (actions: readonly ProtocolAction[]) => actions.flatMap((action) => (action.type === 'report' ? [action.report] : []));

/** Held since 0 and confirmed on at 100 ms. */
const PROTECTED = run([at('acquire', 0), answered(100, OK)]).state;

describe('turning protection on and off', () => {
  it('sends one enable when the count leaves 0; nested acquires and releases send nothing', () => {
    const { state, actions } = run([at('acquire', 0), at('acquire', 10), at('release', 20), at('acquire', 30)]);
    expect(actions).toStrictEqual([{ type: 'call', call: { action: 'enable', sentAtMs: 0, final: false } }]);
    expect(state).toMatchObject({ holders: 2, agent: 'off', call: { action: 'enable' }, releaseAtMs: undefined });
  });

  it('takes a confirmed enable as protection since it was sent, and arms the renewal', () => {
    const { state, actions } = run([at('acquire', 0), answered(100, OK)]);
    expect(reports(actions)).toStrictEqual([{ kind: 'on', expirationDate: EXPIRATION }]);
    expect(state).toMatchObject({ agent: 'on', enabledAtMs: 0, protectedSinceMs: 0, call: undefined, wakeAtMs: 30 * MINUTE, expirationDate: EXPIRATION });
  });

  it('removes protection only after the count stayed at 0 for the release delay', () => {
    const released = run([at('release', 1 * MINUTE)], PROTECTED);
    expect(released.actions).toStrictEqual([]);
    expect(released.state).toMatchObject({ holders: 0, releasePending: true, releaseAtMs: 1 * MINUTE + 10 * SECOND, wakeAtMs: 30 * MINUTE });

    const { state, actions } = run([at('release_delay_over', 1 * MINUTE + 10 * SECOND), answered(1 * MINUTE + 11 * SECOND, OFF_OK)], released.state);
    expect(calls(actions)).toStrictEqual(['disable']);
    expect(reports(actions)).toStrictEqual([{ kind: 'off' }]);
    expect(state).toMatchObject({ agent: 'off', releasePending: false, protectedSinceMs: undefined, expirationDate: undefined, releaseAtMs: undefined, wakeAtMs: undefined });
  });

  it('keeps protection on without a call when work comes back within the release delay', () => {
    const { state, actions } = run([at('release', 1 * MINUTE), at('acquire', 1 * MINUTE + 5 * SECOND), at('release_delay_over', 1 * MINUTE + 10 * SECOND)], PROTECTED);
    expect(actions).toStrictEqual([]);
    expect(state).toMatchObject({ holders: 1, agent: 'on', releasePending: false, releaseAtMs: undefined });
  });

  it('removes protection at once when the release delay is 0', () => {
    const { actions } = run([at('release', 1 * MINUTE)], PROTECTED, { ...SETTINGS, releaseDelayMs: 0 });
    expect(calls(actions)).toStrictEqual(['disable']);
  });

  it('renews while busy; renewing is not a new stretch of protection', () => {
    const { state, actions } = run([at('wake', 30 * MINUTE), answered(30 * MINUTE + 50, OK)], PROTECTED);
    expect(calls(actions)).toStrictEqual(['enable']);
    expect(reports(actions)).toStrictEqual([{ kind: 'renewed', expirationDate: EXPIRATION }]);
    expect(state).toMatchObject({ agent: 'on', enabledAtMs: 30 * MINUTE, protectedSinceMs: 0, wakeAtMs: 60 * MINUTE });
  });

  it('starts a new stretch after protection was off', () => {
    const off = run([at('release', MINUTE), at('release_delay_over', 2 * MINUTE), answered(2 * MINUTE, OFF_OK)], PROTECTED).state;
    const { state } = run([at('acquire', 9 * MINUTE), answered(9 * MINUTE + 1, OK)], off);
    expect(state.protectedSinceMs).toBe(9 * MINUTE);
  });
});

describe('one call at a time', () => {
  it('sends nothing while a call is in flight; the answer reconciles with what is wanted then', () => {
    const settings = { ...SETTINGS, releaseDelayMs: 0 };
    const inFlight = run([at('acquire', 0), at('release', 10), at('acquire', 20), at('release', 30)], INITIAL_PROTOCOL_STATE, settings);
    expect(calls(inFlight.actions)).toStrictEqual(['enable']);
    const { state, actions } = run([answered(100, OK)], inFlight.state, settings);
    expect(calls(actions)).toStrictEqual(['disable']);
    expect(reports(actions)).toStrictEqual([{ kind: 'on', expirationDate: EXPIRATION }]);
    expect(state.call).toStrictEqual({ action: 'disable', sentAtMs: 100, final: false });
  });

  it('ignores a timer that fired after it was disarmed', () => {
    expect(run([at('wake', 5 * MINUTE), at('release_delay_over', 5 * MINUTE)], { ...PROTECTED, wakeAtMs: undefined })).toStrictEqual({
      state: { ...PROTECTED, wakeAtMs: undefined },
      actions: [],
    });
  });
});

describe('failed calls', () => {
  it('reports each failure and retries with backoff: 5 s, 10 s, 20 s, 40 s, then the 60 s cap', () => {
    let state = run([at('acquire', 0)]).state;
    const retries: number[] = [];
    for (let failure = 1; failure <= 6; failure += 1) {
      const nowMs = failure * MINUTE;
      const step = run([answered(nowMs, REFUSED)], state);
      expect(reports(step.actions)).toStrictEqual([
        { kind: 'agent_call_failed', failure: { action: 'enable', error: REFUSAL, consecutiveFailures: failure, agentState: 'off', willRetry: true } },
      ]);
      retries.push((step.state.wakeAtMs ?? Number.NaN) - nowMs);
      state = run([at('wake', nowMs + 1)], step.state).state;
    }
    expect(retries).toStrictEqual([5, 10, 20, 40, 60, 60].map((seconds) => seconds * SECOND));

    const recovered = run([answered(7 * MINUTE, OK)], state);
    expect(reports(recovered.actions)).toStrictEqual([
      { kind: 'agent_reachable_again', action: 'enable', failures: 6 },
      { kind: 'on', expirationDate: EXPIRATION },
    ]);
    expect(recovered.state).toMatchObject({ agent: 'on', consecutiveFailures: 0, lastError: undefined });
  });

  it('takes a refusal as certainly not applied: no protection counted, nothing to remove on release', () => {
    const refused = run([at('acquire', 0), answered(100, REFUSED)]);
    expect(refused.state).toMatchObject({ agent: 'off', protectedSinceMs: undefined, lastError: REFUSAL, consecutiveFailures: 1 });
    const { state, actions } = run([at('release', 200), at('release_delay_over', 10_200)], refused.state);
    expect(calls(actions)).toStrictEqual([]);
    expect(state).toMatchObject({ holders: 0, wakeAtMs: undefined });
  });

  it('takes a timeout as unknown: protection may be on, so it is removed on release', () => {
    const timedOut = run([at('acquire', 0), answered(5_000, TIMED_OUT)]);
    expect(timedOut.state).toMatchObject({ agent: 'unknown', enabledAtMs: undefined });
    const { actions } = run([at('release', 6_000), at('release_delay_over', 16_000)], timedOut.state);
    expect(calls(actions)).toStrictEqual(['disable']);
  });

  it('tries again at the next transition without waiting for the retry', () => {
    const failed = run([at('acquire', 0), answered(100, TIMED_OUT)], INITIAL_PROTOCOL_STATE, { ...SETTINGS, releaseDelayMs: 0 });
    expect(failed.state.wakeAtMs).toBe(5_100);
    const { state, actions } = run([at('release', 200)], failed.state, { ...SETTINGS, releaseDelayMs: 0 });
    expect(calls(actions)).toStrictEqual(['disable']);
    expect(state.wakeAtMs).toBeUndefined();
  });
});

describe('letting go', () => {
  it('does nothing while work is held', () => {
    expect(run([at('let_go', MINUTE)], PROTECTED)).toStrictEqual({ state: PROTECTED, actions: [] });
  });

  it('removes protection at once when nothing is held, without waiting for the release delay', () => {
    const { state, actions } = run([at('release', MINUTE), at('let_go', MINUTE + 1)], PROTECTED);
    expect(calls(actions)).toStrictEqual(['disable']);
    expect(state).toMatchObject({ releasePending: false, releaseAtMs: undefined, wakeAtMs: undefined });
  });
});

describe('stopping', () => {
  it('sends nothing when protection was never on', () => {
    const { state, actions } = run([at('stop', 0)]);
    expect(actions).toStrictEqual([]);
    expect(state.stopped).toBe(true);
  });

  it('disarms the timers and sends one final disable', () => {
    const { state, actions } = run([at('release', MINUTE), at('stop', 2 * MINUTE), answered(2 * MINUTE + 5, OFF_OK)], PROTECTED);
    expect(actions.filter((action) => action.type === 'call')).toStrictEqual([{ type: 'call', call: { action: 'disable', sentAtMs: 2 * MINUTE, final: true } }]);
    expect(state).toMatchObject({ stopped: true, agent: 'off', call: undefined, releaseAtMs: undefined, wakeAtMs: undefined, releasePending: false });
  });

  it('cancels the call in flight without reporting it, then removes protection it may have set', () => {
    const { state, actions } = run([at('acquire', 0), at('stop', 10), answered(11, { ok: false, definite: false, error: 'AbortError' }, true)]);
    expect(actions.map((action) => action.type)).toStrictEqual(['call', 'cancel_call', 'call']);
    expect(state.call).toStrictEqual({ action: 'disable', sentAtMs: 11, final: true });
    expect(state.consecutiveFailures).toBe(0);
  });

  it('reports a failed final disable without a retry, and sends nothing more', () => {
    const stopping = run([at('stop', MINUTE)], PROTECTED).state;
    const { state, actions } = run([answered(MINUTE + 3_000, TIMED_OUT), at('acquire', 2 * MINUTE), at('release', 2 * MINUTE), at('wake', 3 * MINUTE)], stopping);
    expect(actions).toStrictEqual([
      { type: 'report', report: { kind: 'agent_call_failed', failure: { action: 'disable', error: TIMEOUT, consecutiveFailures: 1, agentState: 'unknown', willRetry: false } } },
    ]);
    expect(state).toMatchObject({ stopped: true, call: undefined, holders: 1, wakeAtMs: undefined });
  });
});

describe('nextAction and renewalDueInMs', () => {
  const base = { wanted: true, agent: 'on' as const, enabledAtMs: 1_000, nowMs: 1_500, renewAfterMs: 1_000 };

  it('nextAction', () => {
    expect(nextAction({ ...base, agent: 'off', enabledAtMs: undefined })).toBe('enable');
    expect(nextAction({ ...base, agent: 'unknown', enabledAtMs: undefined })).toBe('enable');
    expect(nextAction(base)).toBeUndefined();
    expect(nextAction({ ...base, nowMs: 2_000 })).toBe('enable'); // renewal due
    expect(nextAction({ ...base, wanted: false })).toBe('disable');
    expect(nextAction({ ...base, wanted: false, agent: 'unknown' })).toBe('disable');
    expect(nextAction({ ...base, wanted: false, agent: 'off' })).toBeUndefined();
  });

  it('renewalDueInMs', () => {
    expect(renewalDueInMs(base)).toBe(500);
    expect(renewalDueInMs({ ...base, nowMs: 5_000 })).toBe(0);
    expect(renewalDueInMs({ ...base, wanted: false })).toBeUndefined();
    expect(renewalDueInMs({ ...base, agent: 'unknown' })).toBeUndefined();
  });
});
