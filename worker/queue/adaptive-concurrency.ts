/**
 * The bound on files in flight, shared by every message (a p-limit) and by the consumer pool, which
 * holds no more messages than it allows. Fixed (FILES_IN_FLIGHT_MODE=fixed) it is MAX_FILES_IN_FLIGHT;
 * adaptive, it starts at MIN_FILES_IN_FLIGHT and, once a sampling interval, takes the next limit from
 * the controller (concurrency-controller.ts) given the files that ran (file-load.ts), the event loop's
 * utilization and the memory used. Lowering the limit stops no file: the ones beyond it finish, and no
 * new one starts until the count is under it.
 */
import { performance } from 'node:perf_hooks';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import pLimit, { type LimitFunction } from 'p-limit';
import { initialState, nextStep, type Adjustment, type ConcurrencyBounds, type StepReason, type WindowSample } from './concurrency-controller.ts';
import type { FileLoad } from './file-load.ts';

export const FILES_IN_FLIGHT_MODES = ['adaptive', 'fixed'] as const;
export type FilesInFlightMode = (typeof FILES_IN_FLIGHT_MODES)[number];

export interface FilesInFlightSettings {
  readonly mode: FilesInFlightMode;
  readonly min: number;
  readonly max: number;
}

/** One move of the adaptive limit. */
export interface LimitChange {
  readonly from: number;
  readonly to: number;
  readonly adjustment: Adjustment;
  readonly reason: StepReason;
  readonly sample: WindowSample;
  /** The limit has doubled or halved since the last noteworthy change: worth a log line, where every step is not. */
  readonly noteworthy: boolean;
}

export interface FilesInFlightEvents {
  /** The bound in force at start. */
  started(mode: FilesInFlightMode, limit: number, bounds: ConcurrencyBounds): void;
  limitChanged(change: LimitChange): void;
}

/** What the process looks like over the last interval. */
export interface ProcessSampler {
  /** Share of the time since the previous call the event loop was busy, 0 to 1. */
  eventLoopUtilization(): number;
  /** Memory used against the process's bound now, 0 to 1. */
  memoryUsedRatio(): number;
}

/** Calls `tick` every `intervalMs` until the returned function is called. */
export type Scheduler = (intervalMs: number, tick: () => void) => () => void;

export interface FilesInFlightBoundDeps {
  readonly settings: FilesInFlightSettings;
  readonly load: FileLoad;
  readonly events: FilesInFlightEvents;
  /** @default processSampler() */
  readonly sampler?: ProcessSampler;
  /** @default unrefInterval */
  readonly schedule?: Scheduler;
  /** @default SAMPLING_INTERVAL_MS */
  readonly intervalMs?: number;
}

export interface FilesInFlightBound {
  /** Runs a file within the bound. */
  readonly limit: LimitFunction;
  /** The bound now: what the consumer pool may hold. */
  readonly capacity: () => number;
  stop(): void;
}

/**
 * About one small file's duration at tens of milliseconds a request (Vector adjusts once per round-trip
 * time): long enough for the files running to finish in numbers, short enough for slow start to reach the
 * ceiling in about a second.
 */
export const SAMPLING_INTERVAL_MS = 250;

/** The event loop and memory of this process; RSS is measured against the memory the process may use (its cgroup's on ECS). */
export function processSampler(): ProcessSampler {
  let last = performance.eventLoopUtilization();
  const constrained = process.constrainedMemory();
  const availableBytes = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  const heapLimitBytes = getHeapStatistics().heap_size_limit;
  return {
    eventLoopUtilization: () => {
      const now = performance.eventLoopUtilization();
      const { utilization } = performance.eventLoopUtilization(now, last);
      last = now;
      return utilization;
    },
    memoryUsedRatio: () => Math.max(process.memoryUsage.rss() / availableBytes, getHeapStatistics().used_heap_size / heapLimitBytes),
  };
}

/** setInterval, not holding the process open. */
export const unrefInterval: Scheduler = (intervalMs, tick) => {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

/** Whether a limit is twice or half the last one logged. */
export function isNoteworthyMove(lastNoted: number, limit: number): boolean {
  return limit >= 2 * lastNoted || 2 * limit <= lastNoted;
}

export function createFilesInFlightBound(deps: FilesInFlightBoundDeps): FilesInFlightBound {
  const { settings, events } = deps;
  const bounds: ConcurrencyBounds = settings.mode === 'fixed' ? { floor: settings.max, ceiling: settings.max } : { floor: settings.min, ceiling: settings.max };
  let state = initialState(bounds);
  const limit = pLimit(state.limit);
  const capacity = () => limit.concurrency;
  events.started(settings.mode, state.limit, bounds);
  if (settings.mode === 'fixed') return { limit, capacity, stop: () => undefined };

  const sampler = deps.sampler ?? processSampler();
  let lastNoted = state.limit;
  const tick = () => {
    const sample: WindowSample = {
      ...deps.load.takeWindow(),
      eventLoopUtilization: sampler.eventLoopUtilization(),
      memoryUsedRatio: sampler.memoryUsedRatio(),
    };
    const step = nextStep(state, sample, bounds);
    const from = state.limit;
    state = step.state;
    if (state.limit === from) return;
    limit.concurrency = state.limit;
    const noteworthy = isNoteworthyMove(lastNoted, state.limit);
    if (noteworthy) lastNoted = state.limit;
    events.limitChanged({ from, to: state.limit, adjustment: step.adjustment, reason: step.reason, sample, noteworthy });
  };
  const cancel = (deps.schedule ?? unrefInterval)(deps.intervalMs ?? SAMPLING_INTERVAL_MS, tick);
  return { limit, capacity, stop: cancel };
}
