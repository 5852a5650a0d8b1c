import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ADJUSTMENTS,
  initialState,
  nextStep,
  STEP_REASONS,
  TUNING,
  type ConcurrencyBounds,
  type ControllerState,
  type WindowSample,
} from '../../../../worker/queue/concurrency-controller.ts';

const BOUNDS: ConcurrencyBounds = { floor: 8, ceiling: 128 };
const AVERAGE = { mean: 0.3, variance: 0 };

/** A window where every slot was busy, files took as long as on average, and the process had room. */
function healthy(limit: number, overrides: Partial<WindowSample> = {}): WindowSample {
  return {
    filesFinished: 20,
    meanFileSeconds: AVERAGE.mean,
    transientFailures: 0,
    peakFilesRunning: limit,
    eventLoopUtilization: 0.3,
    memoryUsedRatio: 0.2,
    ...overrides,
  };
}

function state(limit: number, overrides: Partial<ControllerState> = {}): ControllerState {
  return { limit, slowStart: false, fileSeconds: AVERAGE, ...overrides };
}

describe('initialState', () => {
  it('starts at the floor, in slow start, with no file durations seen', () => {
    expect(initialState(BOUNDS)).toStrictEqual({ limit: 8, slowStart: true, fileSeconds: undefined });
  });
});

describe('nextStep: increase', () => {
  it('in slow start, quadruples the limit while every window has demand and headroom, up to the ceiling', () => {
    // Prepare
    let current = initialState(BOUNDS);
    const limits: number[] = [];
    // Act
    for (let window = 0; window < 4; window += 1) {
      current = nextStep(current, healthy(current.limit), BOUNDS).state;
      limits.push(current.limit);
    }
    // Assess
    expect(limits).toStrictEqual([32, 128, 128, 128]);
  });

  it('after slow start, adds the square root of the limit (at least 1) each window', () => {
    expect(nextStep(state(36), healthy(36), BOUNDS)).toStrictEqual({
      state: { limit: 42, slowStart: false, fileSeconds: AVERAGE },
      adjustment: ADJUSTMENTS.increase,
      reason: STEP_REASONS.headroom,
    });
    expect(nextStep(state(8), healthy(8), BOUNDS).state.limit).toBe(11);
    expect(nextStep(state(1), healthy(1), { floor: 1, ceiling: 4 }).state.limit).toBe(2);
  });

  it('stops at the ceiling, saying so', () => {
    expect(nextStep(state(120), healthy(120), BOUNDS).state.limit).toBe(128);
    expect(nextStep(state(40, { slowStart: true }), healthy(40), BOUNDS).state.limit).toBe(128);
    expect(nextStep(state(128), healthy(128), BOUNDS)).toMatchObject({ state: { limit: 128 }, adjustment: ADJUSTMENTS.hold, reason: STEP_REASONS.atCeiling });
  });

  it('counts a window as demand once the files running reached half the limit', () => {
    expect(nextStep(state(32), healthy(32, { peakFilesRunning: 16 }), BOUNDS).adjustment).toBe(ADJUSTMENTS.increase);
    expect(nextStep(state(32), healthy(32, { peakFilesRunning: 15 }), BOUNDS)).toMatchObject({ adjustment: ADJUSTMENTS.hold, reason: STEP_REASONS.noDemand });
  });

  it('in slow start, grows on demand and headroom alone, before any file finished: a file outlasts the first windows', () => {
    const firstWindow = healthy(8, { filesFinished: 0, meanFileSeconds: 0 });
    expect(nextStep(initialState(BOUNDS), firstWindow, BOUNDS)).toStrictEqual({
      state: { limit: 32, slowStart: true, fileSeconds: undefined },
      adjustment: ADJUSTMENTS.increase,
      reason: STEP_REASONS.headroom,
    });
  });

  it('grows on the first window that has files finishing, before any average exists', () => {
    expect(nextStep(initialState(BOUNDS), healthy(8, { meanFileSeconds: 5 }), BOUNDS).state).toStrictEqual({
      limit: 32,
      slowStart: true,
      fileSeconds: { mean: 5, variance: 0 },
    });
  });
});

describe('nextStep: hold', () => {
  it.each([
    ['no demand: fewer files running than the limit allows', healthy(32, { peakFilesRunning: 4 }), STEP_REASONS.noDemand],
    ['no file finished, so no evidence that more would', healthy(32, { filesFinished: 0 }), STEP_REASONS.noFileFinished],
    ['the event loop is nearly busy', healthy(32, { eventLoopUtilization: TUNING.headroomEventLoopUtilization }), STEP_REASONS.nearCapacity],
    ['memory is getting close to its bound', healthy(32, { memoryUsedRatio: TUNING.headroomMemoryRatio }), STEP_REASONS.nearCapacity],
    ['files take more than 10 % longer than on average', healthy(32, { meanFileSeconds: 0.34 }), STEP_REASONS.latencyRising],
  ])('holds the limit when %s', (_, sample, reason) => {
    expect(nextStep(state(32), sample, BOUNDS)).toStrictEqual({
      state: { limit: 32, slowStart: false, fileSeconds: expect.any(Object) as unknown },
      adjustment: ADJUSTMENTS.hold,
      reason,
    });
  });

  it('still grows while files take at most 10 % longer than on average', () => {
    expect(nextStep(state(32), healthy(32, { meanFileSeconds: 0.329 }), BOUNDS).adjustment).toBe(ADJUSTMENTS.increase);
  });

  it('tolerates more rise before holding where durations vary (one deviation)', () => {
    const varied = state(32, { fileSeconds: { mean: 0.3, variance: 0.01 } });
    expect(nextStep(varied, healthy(32, { meanFileSeconds: 0.39 }), BOUNDS).adjustment).toBe(ADJUSTMENTS.increase);
    expect(nextStep(varied, healthy(32, { meanFileSeconds: 0.41 }), BOUNDS).reason).toBe(STEP_REASONS.latencyRising);
  });

  it('keeps slow start through a hold', () => {
    expect(nextStep(state(32, { slowStart: true }), healthy(32, { peakFilesRunning: 0 }), BOUNDS).state.slowStart).toBe(true);
  });
});

describe('nextStep: decrease', () => {
  it.each([
    ['memory nears its bound', healthy(64, { memoryUsedRatio: TUNING.highMemoryRatio }), STEP_REASONS.memoryHigh],
    ['the event loop is saturated', healthy(64, { eventLoopUtilization: TUNING.saturatedEventLoopUtilization }), STEP_REASONS.eventLoopSaturated],
    ['a file failed transiently (throttling, timeouts)', healthy(64, { transientFailures: 1 }), STEP_REASONS.backPressure],
    ['files took half as long again as on average', healthy(64, { meanFileSeconds: 0.451 }), STEP_REASONS.latencyRoseSharply],
  ])('keeps 90 %% of the limit when %s', (_, sample, reason) => {
    expect(nextStep(state(64), sample, BOUNDS)).toMatchObject({ state: { limit: 57, slowStart: false }, adjustment: ADJUSTMENTS.decrease, reason });
  });

  it('sheds even without demand: saturation is a fact whatever the queue holds', () => {
    const idleButBusy = healthy(64, { peakFilesRunning: 2, filesFinished: 0, eventLoopUtilization: 0.99 });
    expect(nextStep(state(64), idleButBusy, BOUNDS)).toMatchObject({ adjustment: ADJUSTMENTS.decrease, reason: STEP_REASONS.eventLoopSaturated });
  });

  it('tries the reasons in order: memory, event loop, back pressure, latency', () => {
    const everything = healthy(64, { memoryUsedRatio: 0.99, eventLoopUtilization: 0.99, transientFailures: 3, meanFileSeconds: 3 });
    expect(nextStep(state(64), everything, BOUNDS).reason).toBe(STEP_REASONS.memoryHigh);
    expect(nextStep(state(64), { ...everything, memoryUsedRatio: 0 }, BOUNDS).reason).toBe(STEP_REASONS.eventLoopSaturated);
    expect(nextStep(state(64), { ...everything, memoryUsedRatio: 0, eventLoopUtilization: 0 }, BOUNDS).reason).toBe(STEP_REASONS.backPressure);
  });

  it('does not count a rise as sharp within 2.5 deviations where durations vary', () => {
    const varied = state(64, { fileSeconds: { mean: 0.3, variance: 0.04 } });
    expect(nextStep(varied, healthy(64, { meanFileSeconds: 0.79 }), BOUNDS).reason).toBe(STEP_REASONS.latencyRising);
    expect(nextStep(varied, healthy(64, { meanFileSeconds: 0.81 }), BOUNDS).reason).toBe(STEP_REASONS.latencyRoseSharply);
  });

  it('ignores the durations of a window in which no file finished', () => {
    expect(nextStep(state(64), healthy(64, { filesFinished: 0, meanFileSeconds: 100 }), BOUNDS).reason).toBe(STEP_REASONS.noFileFinished);
  });

  it('always lowers the limit by at least one, never below the floor', () => {
    const saturated = (limit: number) => healthy(limit, { eventLoopUtilization: 1 });
    expect(nextStep(state(9), saturated(9), BOUNDS).state.limit).toBe(8);
    expect(nextStep(state(5), saturated(5), { floor: 1, ceiling: 8 }).state.limit).toBe(4);
    expect(nextStep(state(8), saturated(8), BOUNDS).state.limit).toBe(8);
  });

  it('ends slow start when it lowers the limit, not when the limit is already at the floor', () => {
    const saturated = (limit: number) => healthy(limit, { eventLoopUtilization: 1 });
    expect(nextStep(state(32, { slowStart: true }), saturated(32), BOUNDS).state).toMatchObject({ limit: 28, slowStart: false });
    expect(nextStep(state(8, { slowStart: true }), saturated(8), BOUNDS).state).toMatchObject({ limit: 8, slowStart: true });
  });
});

describe('nextStep: the average of file durations', () => {
  it('weighs each window 0.4 into the mean and variance (an EWMA, as Vector keeps its round-trip times)', () => {
    const first = nextStep(initialState(BOUNDS), healthy(8, { meanFileSeconds: 1 }), BOUNDS).state;
    const second = nextStep(first, healthy(first.limit, { meanFileSeconds: 2 }), BOUNDS).state;
    expect(first.fileSeconds).toStrictEqual({ mean: 1, variance: 0 });
    expect(second.fileSeconds?.mean).toBeCloseTo(1.4, 10);
    expect(second.fileSeconds?.variance).toBeCloseTo(0.24, 10);
  });

  it('neither counts nor averages the durations of a window with fewer than five files: a few first files also pay for new connections', () => {
    const fewSlow = healthy(64, { filesFinished: TUNING.minFilesForLatency - 1, meanFileSeconds: 3 });
    expect(nextStep(state(64), fewSlow, BOUNDS)).toStrictEqual({
      state: { limit: 72, slowStart: false, fileSeconds: AVERAGE },
      adjustment: ADJUSTMENTS.increase,
      reason: STEP_REASONS.headroom,
    });
    expect(nextStep(state(64), { ...fewSlow, filesFinished: TUNING.minFilesForLatency }, BOUNDS).reason).toBe(STEP_REASONS.latencyRoseSharply);
  });

  it('keeps the average through windows in which no file finished', () => {
    expect(nextStep(state(32), healthy(32, { filesFinished: 0, meanFileSeconds: 9 }), BOUNDS).state.fileSeconds).toBe(AVERAGE);
  });
});

describe('nextStep: invariants', () => {
  const bounds = fc.tuple(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 0, max: 1024 })).map(([floor, extra]) => ({ floor, ceiling: Math.min(1024, floor + extra) }));
  const sample = fc.record({
    filesFinished: fc.nat({ max: 1000 }),
    meanFileSeconds: fc.double({ min: 0, max: 600, noNaN: true }),
    transientFailures: fc.nat({ max: 10 }),
    peakFilesRunning: fc.nat({ max: 1100 }),
    eventLoopUtilization: fc.double({ min: 0, max: 1, noNaN: true }),
    memoryUsedRatio: fc.double({ min: 0, max: 1.5, noNaN: true }),
  });

  it('keeps the limit between the floor and the ceiling, whatever the windows show', () => {
    fc.assert(
      fc.property(bounds, fc.array(sample, { minLength: 1, maxLength: 40 }), (limits, windows) => {
        let current = initialState(limits);
        for (const window of windows) {
          current = nextStep(current, window, limits).state;
          if (!Number.isInteger(current.limit) || current.limit < limits.floor || current.limit > limits.ceiling) return false;
        }
        return true;
      }),
    );
  });

  it('raises the limit only with demand, a file finished (after slow start), and room on the event loop and in memory', () => {
    fc.assert(
      fc.property(bounds, fc.integer({ min: 0, max: 1024 }), fc.boolean(), sample, (limits, start, slowStart, window) => {
        const before = state(Math.min(limits.ceiling, Math.max(limits.floor, start)), { slowStart });
        const { state: after, adjustment } = nextStep(before, window, limits);
        if (after.limit <= before.limit) return true;
        return (
          adjustment === ADJUSTMENTS.increase &&
          window.peakFilesRunning >= TUNING.demandShare * before.limit &&
          (slowStart || window.filesFinished > 0) &&
          window.eventLoopUtilization < TUNING.headroomEventLoopUtilization &&
          window.memoryUsedRatio < TUNING.headroomMemoryRatio &&
          window.transientFailures === 0
        );
      }),
    );
  });

  it('never raises the limit in a window with a reason to lower it', () => {
    fc.assert(
      fc.property(bounds, sample, (limits, window) => {
        const overloaded = window.memoryUsedRatio >= TUNING.highMemoryRatio || window.eventLoopUtilization >= TUNING.saturatedEventLoopUtilization || window.transientFailures > 0;
        const before = state(limits.ceiling);
        return !overloaded || nextStep(before, window, limits).state.limit <= before.limit;
      }),
    );
  });
});

describe('nextStep: a task whose files wait on S3 and SQS until its CPU is the bottleneck', () => {
  /**
   * A toy of the worker (Little's law): each file waits `waitSeconds` on requests; the CPU completes at
   * most `cpuFilesPerSecond`. Below the knee (limit = wait × CPU rate) files/s grow with the limit at the
   * same duration; past it files/s stay flat, each file takes longer and the event loop is busy throughout.
   */
  function simulate(waitSeconds: number, cpuFilesPerSecond: number, windows: number, bounds: ConcurrencyBounds): number[] {
    let current = initialState(bounds);
    const limits: number[] = [];
    for (let window = 0; window < windows; window += 1) {
      const { limit } = current;
      const filesPerSecond = Math.min(limit / waitSeconds, cpuFilesPerSecond);
      const sample: WindowSample = {
        filesFinished: Math.round(filesPerSecond),
        meanFileSeconds: limit / filesPerSecond,
        transientFailures: 0,
        peakFilesRunning: limit,
        eventLoopUtilization: filesPerSecond / cpuFilesPerSecond,
        memoryUsedRatio: 0.2,
      };
      current = nextStep(current, sample, bounds).state;
      limits.push(current.limit);
    }
    return limits;
  }

  it('settles within a tenth under the knee, where files/s are within a tenth of the best', () => {
    // 60 ms per request, about four requests a file; a CPU that does 400 files/s: the knee is at 96.
    const limits = simulate(0.24, 400, 40, BOUNDS);
    const settled = limits.slice(-20);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(0.9 * 96 - 1);
    expect(Math.max(...settled)).toBeLessThanOrEqual(96 + Math.ceil(Math.sqrt(96)));
    expect(limits.indexOf(128)).toBe(1);
  });

  it('stays at the floor where files wait on nothing and the CPU is always the bottleneck', () => {
    expect(simulate(0.001, 200, 20, BOUNDS).every((limit) => limit === 8)).toBe(true);
  });

  it('climbs to the ceiling where the CPU never is', () => {
    expect(simulate(0.5, 100_000, 10, BOUNDS).slice(-3)).toStrictEqual([128, 128, 128]);
  });
});
