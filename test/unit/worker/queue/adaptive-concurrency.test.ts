import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import {
  createFilesInFlightBound,
  isNoteworthyMove,
  processSampler,
  SAMPLING_INTERVAL_MS,
  type FilesInFlightEvents,
  type FilesInFlightSettings,
  type LimitChange,
  type ProcessSampler,
} from '../../../../worker/queue/adaptive-concurrency.ts';
import { FileLoad } from '../../../../worker/queue/file-load.ts';
import { createTelemetry } from '../../../../worker/telemetry.ts';

/** A scheduler the test ticks by hand. */
function manualSchedule() {
  const scheduled: { intervalMs?: number; tick?: () => void; cancelled: boolean } = { cancelled: false };
  return {
    scheduled,
    schedule: (intervalMs: number, tick: () => void) => {
      Object.assign(scheduled, { intervalMs, tick });
      return () => {
        scheduled.cancelled = true;
      };
    },
  };
}

function recordingEvents() {
  const started: unknown[][] = [];
  const changes: LimitChange[] = [];
  const events: FilesInFlightEvents = {
    started: (...args) => void started.push(args),
    limitChanged: (change) => void changes.push(change),
  };
  return { events, started, changes };
}

/** `running` files busy for the whole window, `finished` of them done in 0.3 s. */
function busyWindow(load: FileLoad, running: number, finished = running): void {
  for (let file = 0; file < running; file += 1) load.fileStarted();
  for (let file = 0; file < finished; file += 1) load.fileEnded('succeeded', 0.3);
}

function setup(settings: FilesInFlightSettings, sampler: ProcessSampler = { eventLoopUtilization: () => 0.2, memoryUsedRatio: () => 0.1 }) {
  const load = new FileLoad();
  const { events, started, changes } = recordingEvents();
  const { schedule, scheduled } = manualSchedule();
  const bound = createFilesInFlightBound({ settings, load, events, sampler, schedule });
  const tick = () => scheduled.tick?.();
  return { bound, load, started, changes, scheduled, tick };
}

describe('createFilesInFlightBound', () => {
  it('fixed: bounds files at MAX_FILES_IN_FLIGHT and never samples', () => {
    // Act
    const { bound, started, scheduled } = setup({ mode: 'fixed', min: 4, max: 32 });
    // Assess
    expect(bound.limit.concurrency).toBe(32);
    expect(bound.capacity()).toBe(32);
    expect(started).toStrictEqual([['fixed', 32, { floor: 32, ceiling: 32 }]]);
    expect(scheduled.tick).toBeUndefined();
  });

  it('adaptive: starts at MIN_FILES_IN_FLIGHT, samples once a second, and stops sampling on stop()', () => {
    // Act
    const { bound, started, scheduled } = setup({ mode: 'adaptive', min: 8, max: 128 });
    bound.stop();
    // Assess
    expect(bound.capacity()).toBe(8);
    expect(started).toStrictEqual([['adaptive', 8, { floor: 8, ceiling: 128 }]]);
    expect(scheduled.intervalMs).toBe(SAMPLING_INTERVAL_MS);
    expect(scheduled.cancelled).toBe(true);
  });

  it('applies each new limit to the p-limit and the capacity the consumer pool reads, and reports it', () => {
    // Prepare
    const { bound, load, changes, tick } = setup({ mode: 'adaptive', min: 8, max: 128 });
    // Act
    busyWindow(load, 8);
    tick();
    // Assess
    expect(bound.limit.concurrency).toBe(32);
    expect(bound.capacity()).toBe(32);
    expect(changes).toStrictEqual([
      {
        from: 8,
        to: 32,
        adjustment: 'increase',
        reason: 'headroom',
        noteworthy: true,
        sample: { filesFinished: 8, meanFileSeconds: 0.3, transientFailures: 0, peakFilesRunning: 8, eventLoopUtilization: 0.2, memoryUsedRatio: 0.1 },
      },
    ]);
  });

  it('reports nothing while the limit stays where it is', () => {
    // Prepare
    const { bound, changes, tick } = setup({ mode: 'adaptive', min: 8, max: 128 });
    // Act: no file ran, so there is no demand
    tick();
    tick();
    // Assess
    expect(bound.capacity()).toBe(8);
    expect(changes).toStrictEqual([]);
  });

  it('lowers the limit when the event loop saturates, marking only moves of half or double as noteworthy', () => {
    // Prepare
    let eventLoopUtilization = 0.2;
    const { bound, load, changes, tick } = setup({ mode: 'adaptive', min: 2, max: 64 }, { eventLoopUtilization: () => eventLoopUtilization, memoryUsedRatio: () => 0.1 });
    for (let window = 0; window < 4; window += 1) {
      busyWindow(load, bound.capacity());
      tick();
    }
    const climbed = changes.map(({ to, noteworthy }) => [to, noteworthy]);
    // Act
    eventLoopUtilization = 1;
    for (let window = 0; window < 8; window += 1) tick();
    // Assess
    expect(climbed).toStrictEqual([
      [8, true],
      [32, true],
      [64, true],
    ]);
    const shed = changes.slice(3).map(({ to, noteworthy, reason }) => [to, noteworthy, reason]);
    expect(shed.map(([to]) => to)).toStrictEqual([57, 51, 45, 40, 36, 32, 28, 25]);
    expect(shed.filter(([, noteworthy]) => noteworthy)).toStrictEqual([[32, true, 'event_loop_saturated']]);
    expect(bound.capacity()).toBe(25);
  });
});

describe('the bound reported through telemetry', () => {
  it('sets iot_ingest_files_in_flight_limit at start and on every move, and logs at info only the moves that double or halve it', async () => {
    // Prepare
    const logged: Array<Record<string, unknown>> = [];
    const telemetry = createTelemetry(pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) }), { defaultMetrics: false });
    const gauge = async () => (await telemetry.registry.getSingleMetric('iot_ingest_files_in_flight_limit')?.get())?.values[0]?.value;
    let eventLoopUtilization = 0.2;
    const load = new FileLoad();
    const { schedule, scheduled } = manualSchedule();
    const bound = createFilesInFlightBound({
      settings: { mode: 'adaptive', min: 8, max: 64 },
      load,
      events: telemetry.filesInFlightBound,
      sampler: { eventLoopUtilization: () => eventLoopUtilization, memoryUsedRatio: () => 0.1 },
      schedule,
    });
    const atStart = await gauge();
    // Act
    busyWindow(load, 8);
    scheduled.tick?.();
    eventLoopUtilization = 1;
    scheduled.tick?.();
    const afterOneDecrease = await gauge();
    for (let window = 0; window < 7; window += 1) scheduled.tick?.();
    // Assess
    expect(atStart).toBe(8);
    expect(afterOneDecrease).toBe(28);
    expect(await gauge()).toBe(bound.capacity());
    const moves = logged.filter((line) => line['msg'] === 'files in flight limit moved');
    expect(moves.map((line) => [line['previousLimit'], line['limit'], line['reason']])).toStrictEqual([
      [8, 32, 'headroom'],
      [17, 15, 'event_loop_saturated'],
    ]);
    expect(moves[0]).toMatchObject({ window: { filesFinished: 8, meanFileMs: 300, transientFailures: 0, peakFilesRunning: 8, eventLoopUtilization: 0.2 } });
  });
});

describe('isNoteworthyMove', () => {
  it.each([
    [8, 16, true],
    [8, 15, false],
    [64, 32, true],
    [64, 33, false],
    [1, 2, true],
  ])('from %d to %d: %p', (from, to, noteworthy) => {
    expect(isNoteworthyMove(from, to)).toBe(noteworthy);
  });
});

describe('processSampler', () => {
  it('reads the event loop utilization since the last call and the memory used as shares', () => {
    // Prepare
    const sampler = processSampler();
    const until = performance.now() + 20;
    while (performance.now() < until) {
      // keep the event loop busy
    }
    // Act
    const busy = sampler.eventLoopUtilization();
    const memory = sampler.memoryUsedRatio();
    // Assess
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(1);
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThan(1);
  });
});
