/**
 * The hold limit on task scale-in protection, decided on an injected clock: a task protected for the
 * limit stops receiving, removes its protection once the files it holds have finished, stays idle
 * unprotected for the idle window, then receives again.
 */
import { describe, expect, it } from '@jest/globals';
import {
  createProtectionYield,
  jitteredHoldLimitMs,
  nextYieldStep,
  yieldReason,
  type ProtectionYieldEvents,
  type YieldFacts,
  type YieldLimits,
  type YieldState,
} from '../../../../worker/task-protection/yield-rule.ts';
import type { AgentProtection } from '../../../../worker/task-protection/protocol.ts';
import { createTaskProtection, type TaskProtection, type TaskProtectionEvents } from '../../../../worker/task-protection/driver.ts';

const MINUTE = 60_000;
const LIMITS: YieldLimits = { holdLimitMs: 30 * MINUTE, idleMs: MINUTE };

/** Lets promise callbacks (a drained pool, an answered agent) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('nextYieldStep', () => {
  const facts = (overrides: Partial<YieldFacts>): YieldFacts => ({
    nowMs: 0,
    protectedSinceMs: undefined,
    drained: false,
    letGoAnswered: false,
    ...overrides,
  });
  const receiving: YieldState = { phase: 'receiving', sinceMs: Number.NEGATIVE_INFINITY };

  it('counts from the resume at the earliest', () => {
    const resumed: YieldState = { phase: 'receiving', sinceMs: 31 * MINUTE };
    expect(nextYieldStep(resumed, facts({ nowMs: 61 * MINUTE - 1, protectedSinceMs: 0 }), LIMITS).step).toBeUndefined();
    expect(nextYieldStep(resumed, facts({ nowMs: 61 * MINUTE, protectedSinceMs: 0 }), LIMITS).step).toBe('stop_receiving');
  });

  it('keeps receiving until the task has been protected for the limit', () => {
    expect(nextYieldStep(receiving, facts({ nowMs: 30 * MINUTE - 1, protectedSinceMs: 0 }), LIMITS)).toStrictEqual({ state: receiving, step: undefined });
    expect(nextYieldStep(receiving, facts({ nowMs: 40 * MINUTE, protectedSinceMs: 10 * MINUTE + 1 }), LIMITS).step).toBeUndefined();
    expect(nextYieldStep(receiving, facts({ nowMs: 30 * MINUTE, protectedSinceMs: 0 }), LIMITS)).toStrictEqual({
      state: { phase: 'finishing', sinceMs: 30 * MINUTE },
      step: 'stop_receiving',
    });
  });

  it('never yields while unprotected, or with the limit at 0', () => {
    expect(nextYieldStep(receiving, facts({ nowMs: 999 * MINUTE }), LIMITS).step).toBeUndefined();
    expect(nextYieldStep(receiving, facts({ nowMs: 999 * MINUTE, protectedSinceMs: 0 }), { ...LIMITS, holdLimitMs: 0 }).step).toBeUndefined();
  });

  it('lets go only once no file is held, and waits only once the agent has answered', () => {
    const finishing: YieldState = { phase: 'finishing', sinceMs: 30 * MINUTE };
    expect(nextYieldStep(finishing, facts({ nowMs: 45 * MINUTE, protectedSinceMs: 0 }), LIMITS).step).toBeUndefined();
    expect(nextYieldStep(finishing, facts({ nowMs: 45 * MINUTE, drained: true }), LIMITS)).toStrictEqual({
      state: { phase: 'releasing', sinceMs: 45 * MINUTE },
      step: 'let_go',
    });
    const releasing: YieldState = { phase: 'releasing', sinceMs: 45 * MINUTE };
    expect(nextYieldStep(releasing, facts({ nowMs: 46 * MINUTE, drained: true }), LIMITS).step).toBeUndefined();
    expect(nextYieldStep(releasing, facts({ nowMs: 46 * MINUTE, drained: true, letGoAnswered: true }), LIMITS)).toStrictEqual({
      state: { phase: 'idle', sinceMs: 46 * MINUTE },
      step: 'wait_idle',
    });
  });

  it('receives again once the idle window is over', () => {
    const idle: YieldState = { phase: 'idle', sinceMs: 46 * MINUTE };
    expect(nextYieldStep(idle, facts({ nowMs: 47 * MINUTE - 1 }), LIMITS).step).toBeUndefined();
    expect(nextYieldStep(idle, facts({ nowMs: 47 * MINUTE }), LIMITS)).toStrictEqual({ state: { phase: 'receiving', sinceMs: 47 * MINUTE }, step: 'resume' });
  });

  it('takes each task limit from the top tenth below the setting', () => {
    expect([0, 0.5, 0.999_999, 7, -1].map((random) => jitteredHoldLimitMs(30 * MINUTE, random))).toStrictEqual([
      30 * MINUTE,
      28.5 * MINUTE,
      27 * MINUTE,
      27 * MINUTE,
      30 * MINUTE,
    ]);
  });

  it('says why the task does not receive while it yields', () => {
    expect(yieldReason('receiving', LIMITS)).toBeUndefined();
    expect(yieldReason('finishing', LIMITS)).toBe(
      'not receiving: task scale-in protection held for 1800 s; finishing the files it holds, then letting ECS replace this task',
    );
    expect(yieldReason('idle', LIMITS)).toBe(
      'not receiving: idle without task scale-in protection for 60 s so that ECS can replace this task; then receiving again',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The rule carried out, on a manual clock

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((settleIt) => {
    resolve = settleIt;
  });
  return { promise, resolve };
}

type Event = readonly [string, ...unknown[]];

function recordEvents(events: Event[]): ProtectionYieldEvents {
  return {
    stoppedReceiving: (heldForMs, holdLimitMs) => void events.push(['stoppedReceiving', heldForMs, holdLimitMs]),
    released: (finishingMs, agent, idleMs) => void events.push(['released', finishingMs, agent, idleMs]),
    resumed: (idleMs) => void events.push(['resumed', idleMs]),
  };
}

/** A pool whose files are promises: pause() resolves once the files held have finished. */
function fakePool() {
  const pool = {
    receiving: true,
    pauses: 0,
    resumes: 0,
    drained: undefined as Deferred | undefined,
    pause(): Promise<void> {
      pool.receiving = false;
      pool.pauses += 1;
      pool.drained = deferred();
      return pool.drained.promise;
    },
    resume(): void {
      pool.receiving = true;
      pool.resumes += 1;
    },
  };
  return pool;
}

function fakeProtection(protectedSinceMs: number | undefined) {
  const protection = {
    protectedSinceMs,
    agent: 'on' as AgentProtection,
    letGoCalls: 0,
    answer: undefined as Deferred | undefined,
    state: () => ({ protectedSinceMs: protection.protectedSinceMs, agent: protection.agent }),
    letGo(): Promise<void> {
      protection.letGoCalls += 1;
      protection.answer = deferred();
      return protection.answer.promise;
    },
  };
  return protection;
}

describe('the hold limit carried out', () => {
  it('protected for the limit: stops receiving, lets go after the files finish, idles, then receives again', async () => {
    let clockMs = 0;
    const events: Event[] = [];
    const pool = fakePool();
    const protection = fakeProtection(0);
    const yielding = createProtectionYield({ limits: LIMITS, protection, pool, events: recordEvents(events), nowMs: () => clockMs, random: () => 0 });

    clockMs = 30 * MINUTE - 1;
    yielding.check();
    expect({ phase: yielding.phase(), pauses: pool.pauses }).toStrictEqual({ phase: 'receiving', pauses: 0 });

    clockMs = 30 * MINUTE;
    yielding.check();
    expect({ phase: yielding.phase(), receiving: pool.receiving, letGo: protection.letGoCalls }).toStrictEqual({ phase: 'finishing', receiving: false, letGo: 0 });
    expect(yielding.reason()).toMatch(/^not receiving: task scale-in protection held for 1800 s/);
    expect(events).toStrictEqual([['stoppedReceiving', 30 * MINUTE, 30 * MINUTE]]);

    clockMs = 42 * MINUTE; // a long file is still running: protection stays
    yielding.check();
    await settle();
    expect({ phase: yielding.phase(), letGo: protection.letGoCalls }).toStrictEqual({ phase: 'finishing', letGo: 0 });

    pool.drained?.resolve(); // the last file finished
    await settle();
    expect({ phase: yielding.phase(), letGo: protection.letGoCalls }).toStrictEqual({ phase: 'releasing', letGo: 1 });

    clockMs += 200;
    protection.agent = 'off';
    protection.protectedSinceMs = undefined;
    protection.answer?.resolve();
    await settle();
    expect(yielding.phase()).toBe('idle');
    expect(yielding.reason()).toMatch(/^not receiving: idle without task scale-in protection for 60 s/);
    expect(events.at(-1)).toStrictEqual(['released', 12 * MINUTE + 200, 'off', MINUTE]);

    clockMs += MINUTE - 1; // ECS may stop the task now; until the window is over it stays idle
    yielding.check();
    expect({ phase: yielding.phase(), resumes: pool.resumes }).toStrictEqual({ phase: 'idle', resumes: 0 });

    clockMs += 1; // not replaced: receive again, so that the queue is not starved
    yielding.check();
    expect({ phase: yielding.phase(), receiving: pool.receiving, reason: yielding.reason() }).toStrictEqual({
      phase: 'receiving',
      receiving: true,
      reason: undefined,
    });
    expect(events.at(-1)).toStrictEqual(['resumed', MINUTE]);

    // The clock starts over with the next protection.
    protection.protectedSinceMs = clockMs + 5_000;
    clockMs += 30 * MINUTE;
    yielding.check();
    expect(pool.pauses).toBe(1);
    clockMs += 5_000;
    yielding.check();
    expect(pool.pauses).toBe(2);
  });

  it('goes straight through when nothing is held; a removal that failed does not make it yield again at once', async () => {
    let clockMs = 30 * MINUTE;
    const events: Event[] = [];
    const protection = fakeProtection(0);
    const pool = { pause: () => Promise.resolve(), resume: () => undefined };
    const yielding = createProtectionYield({
      limits: LIMITS,
      protection: { state: protection.state, letGo: () => Promise.resolve() },
      pool,
      events: recordEvents(events),
      nowMs: () => clockMs,
      random: () => 0,
    });
    yielding.check();
    await settle();
    await settle();
    expect(yielding.phase()).toBe('idle');
    expect(events).toStrictEqual([
      ['stoppedReceiving', 30 * MINUTE, 30 * MINUTE],
      ['released', 0, 'on', MINUTE], // the agent could not remove it: protectedSinceMs stays 0
    ]);
    clockMs += MINUTE;
    yielding.check();
    expect(yielding.phase()).toBe('receiving');
    clockMs += 30 * MINUTE - 1; // a full limit from the resume, not from the old protection
    yielding.check();
    expect(yielding.phase()).toBe('receiving');
    clockMs += 1;
    yielding.check();
    await settle();
    await settle();
    expect(yielding.phase()).toBe('idle');
  });

  it('never yields while the task is not protected (outside ECS, or the agent refused)', () => {
    let clockMs = 0;
    const pool = fakePool();
    const yielding = createProtectionYield({ limits: LIMITS, protection: fakeProtection(undefined), pool, events: recordEvents([]), nowMs: () => clockMs });
    for (clockMs = 0; clockMs <= 10 * 30 * MINUTE; clockMs += MINUTE) yielding.check();
    expect({ phase: yielding.phase(), pauses: pool.pauses }).toStrictEqual({ phase: 'receiving', pauses: 0 });
  });

  it('uses its jittered limit', () => {
    let clockMs = 0;
    const pool = fakePool();
    const yielding = createProtectionYield({ limits: LIMITS, protection: fakeProtection(0), pool, events: recordEvents([]), nowMs: () => clockMs, random: () => 0.5 });
    expect(yielding.holdLimitMs).toBe(28.5 * MINUTE);
    clockMs = 28.5 * MINUTE - 1;
    yielding.check();
    expect(pool.pauses).toBe(0);
    clockMs += 1;
    yielding.check();
    expect(pool.pauses).toBe(1);
  });

  it('does nothing more once stopped (shutdown while yielding)', async () => {
    let clockMs = 30 * MINUTE;
    const pool = fakePool();
    const protection = fakeProtection(0);
    const yielding = createProtectionYield({ limits: LIMITS, protection, pool, events: recordEvents([]), nowMs: () => clockMs, random: () => 0 });
    yielding.check();
    yielding.stop();
    pool.drained?.resolve();
    await settle();
    clockMs += 10 * MINUTE;
    yielding.check();
    expect({ phase: yielding.phase(), letGo: protection.letGoCalls, resumes: pool.resumes }).toStrictEqual({ phase: 'finishing', letGo: 0, resumes: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// With the real task protection: the release delay does not apply when the task yields

const ignore = (): void => undefined;
const IGNORED_EVENTS: TaskProtectionEvents = {
  notOnEcs: ignore,
  protectionOn: ignore,
  protectionRenewed: ignore,
  protectionOff: ignore,
  agentCallFailed: ignore,
  agentReachableAgain: ignore,
  failedUnexpectedly: ignore,
};

describe('the hold limit with the real task protection', () => {
  it('removes protection as soon as the last file finishes, not after the release delay, and protects again on resume', async () => {
    let clockMs = 0;
    const calls: boolean[] = [];
    const fakeFetch = ((_url: string | URL | Request, init?: RequestInit) => {
      const body = typeof init?.body === 'string' ? init.body : '{}';
      const enabled = (JSON.parse(body) as { ProtectionEnabled: boolean }).ProtectionEnabled;
      calls.push(enabled);
      return Promise.resolve(
        Response.json({ protection: { ExpirationDate: enabled ? '2030-01-01T00:00:00Z' : null, ProtectionEnabled: enabled, TaskArn: 'arn:aws:ecs:task' } }),
      );
    }) as typeof fetch;
    const protection: TaskProtection = createTaskProtection({
      agentUri: 'http://169.254.170.2/api/task',
      expiresInMinutes: 60,
      releaseDelayMs: 10 * MINUTE, // far longer than the test: any removal below comes from the yield
      events: IGNORED_EVENTS,
      fetch: fakeFetch,
      nowMs: () => clockMs,
    });
    // A pool of two slots: each "file" holds the protection until it is finished.
    let receiving = true;
    let drained: Deferred | undefined;
    const held = new Set<Deferred>();
    const receive = (): Deferred => {
      const file = deferred();
      held.add(file);
      protection.acquire();
      void file.promise.then(() => {
        held.delete(file);
        protection.release();
        if (!receiving && held.size === 0) drained?.resolve();
      });
      return file;
    };
    const pool = {
      pause: () => {
        receiving = false;
        drained = deferred();
        if (held.size === 0) drained.resolve();
        return drained.promise;
      },
      resume: () => {
        receiving = true;
      },
    };
    const yielding = createProtectionYield({ limits: LIMITS, protection, pool, events: recordEvents([]), nowMs: () => clockMs, random: () => 0 });

    try {
      const first = receive();
      await protection.idle();
      expect(protection.state()).toMatchObject({ agent: 'on', protectedSinceMs: 0 });
      // A steady backlog: files keep coming, so protection never lapses.
      let second = receive();
      for (clockMs = MINUTE; clockMs < 30 * MINUTE; clockMs += MINUTE) {
        second.resolve();
        await settle();
        second = receive();
        yielding.check();
      }
      expect({ receiving, calls }).toStrictEqual({ receiving: true, calls: [true] });

      clockMs = 30 * MINUTE;
      yielding.check();
      expect({ receiving, phase: yielding.phase() }).toStrictEqual({ receiving: false, phase: 'finishing' });
      second.resolve(); // one file finishes; the other still runs, so the task stays protected
      await settle();
      expect({ phase: yielding.phase(), agent: protection.state().agent, calls }).toStrictEqual({ phase: 'finishing', agent: 'on', calls: [true] });

      clockMs += 5 * MINUTE;
      first.resolve(); // the last file
      await settle();
      await protection.idle();
      await settle();
      expect({ phase: yielding.phase(), agent: protection.state().agent, calls }).toStrictEqual({ phase: 'idle', agent: 'off', calls: [true, false] });

      clockMs += MINUTE;
      yielding.check();
      expect({ phase: yielding.phase(), receiving }).toStrictEqual({ phase: 'receiving', receiving: true });
      const next = receive();
      await protection.idle();
      expect(protection.state()).toMatchObject({ agent: 'on', protectedSinceMs: clockMs });
      next.resolve();
    } finally {
      yielding.stop();
      await protection.stop();
    }
  });
});
