/**
 * How many files may be in flight next, from what the last sampling window showed: additive increase
 * while there is demand and the process has headroom, multiplicative decrease when it saturates, in the
 * spirit of Vector's adaptive request concurrency (an EWMA of the past round-trip time and its deviation,
 * a decrease when the current one rises well above it) and Netflix's concurrency-limits (AIMD; a growth
 * step of the square root of the limit, as Gradient2 sizes its queue). Pure: values in, values out; the
 * driver (adaptive-concurrency.ts) samples the process and applies the limit.
 *
 * A file's duration is mostly requests waiting on S3 and SQS: while that wait dominates, more files at
 * once means more files per second at the same duration (Little's law). Once something inside the
 * process is the bottleneck (the event loop, memory, the sockets), more files only queue: each takes
 * longer, and the event loop or the memory shows it.
 */

export interface ConcurrencyBounds {
  /** The limit never goes below this (MIN_FILES_IN_FLIGHT); also where it starts. */
  readonly floor: number;
  /** … nor above this (MAX_FILES_IN_FLIGHT). */
  readonly ceiling: number;
}

/** What one sampling window showed. */
export interface WindowSample {
  /** Files that ended normally in the window (stored, missing or stale); their durations are the latency signal. */
  readonly filesFinished: number;
  /** Their mean duration; ignored when none finished. */
  readonly meanFileSeconds: number;
  /** Files that failed with a transient error (throttling, timeouts, 5xx): explicit back pressure. */
  readonly transientFailures: number;
  /** The most files running at once during the window (past every bound, not waiting for one). */
  readonly peakFilesRunning: number;
  /** Share of the window the event loop was busy, 0 to 1. */
  readonly eventLoopUtilization: number;
  /** Memory used against the process's bound, 0 to 1 (the larger of RSS against the memory available and heap against its limit). */
  readonly memoryUsedRatio: number;
}

/** An exponentially weighted mean and variance of the window means of file durations. */
export interface FileSecondsAverage {
  readonly mean: number;
  readonly variance: number;
}

export interface ControllerState {
  readonly limit: number;
  /** Until a decrease first lowers it the limit grows by a factor each window (TCP's slow start), so a task on AWS gets to its limit within a second. */
  readonly slowStart: boolean;
  /** Undefined until a window has had minFilesForLatency files finish. */
  readonly fileSeconds: FileSecondsAverage | undefined;
}

export const ADJUSTMENTS = { increase: 'increase', decrease: 'decrease', hold: 'hold' } as const;
export type Adjustment = (typeof ADJUSTMENTS)[keyof typeof ADJUSTMENTS];

/** Why the limit moved or stayed, in the order the rules are tried. */
export const STEP_REASONS = {
  memoryHigh: 'memory_high',
  eventLoopSaturated: 'event_loop_saturated',
  backPressure: 'back_pressure',
  latencyRoseSharply: 'latency_rose_sharply',
  noDemand: 'no_demand',
  noFileFinished: 'no_file_finished',
  nearCapacity: 'near_capacity',
  latencyRising: 'latency_rising',
  atCeiling: 'at_ceiling',
  headroom: 'headroom',
} as const;
export type StepReason = (typeof STEP_REASONS)[keyof typeof STEP_REASONS];

export interface ControllerStep {
  readonly state: ControllerState;
  readonly adjustment: Adjustment;
  readonly reason: StepReason;
}

/** The tuning, in one place: the limit's log line names the rule (the reason) that moved it. */
export const TUNING = {
  /** The event loop this busy is saturated: more files only queue behind each other. */
  saturatedEventLoopUtilization: 0.99,
  /**
   * At or above this the loop has too little headroom to take more files. High, because a limit a little
   * past the point where the task is busy costs only latency, while one short of it costs files per second.
   */
  headroomEventLoopUtilization: 0.95,
  /** Memory this close to its bound sheds files … */
  highMemoryRatio: 0.85,
  /** … and this close takes no more. */
  headroomMemoryRatio: 0.7,
  /**
   * Slow start's factor per window. TCP doubles once per round trip; a window here is shorter than a file
   * at tens of milliseconds a request, and the demand rule already waits for the pool to fill the slots.
   */
  slowStartGrowth: 4,
  /** Each decrease keeps this share of the limit (Vector's and Netflix's default), so the limit saws close under the point of saturation. */
  decreaseRatio: 0.9,
  /**
   * A window whose running files reached this share of the limit wanted more, as Netflix's AIMD and
   * Gradient2 grow once half is in use: the pool fills freed slots a receive late, and at a low limit one
   * long poll claims every free slot and often brings back fewer messages.
   */
  demandShare: 0.5,
  /** A window mean of fewer files is noise (the first files of a burst also pay for new connections): it neither moves the average nor counts as a rise. */
  minFilesForLatency: 5,
  /** Vector's default EWMA weight of the newest window. */
  ewmaAlpha: 0.4,
  /** A window mean this many deviations above the average is a sharp rise (Vector's rtt_deviation_scale) … */
  sharpRiseDeviations: 2.5,
  /** … and at least this share above it, so that a run of identical durations does not make every tick a rise. */
  sharpRiseMinShare: 0.5,
  /** The limit grows only while a window mean stays within one deviation, or this share, above the average. */
  steadyDeviations: 1,
  steadyMinShare: 0.1,
} as const;

export function initialState(bounds: ConcurrencyBounds): ControllerState {
  return { limit: bounds.floor, slowStart: true, fileSeconds: undefined };
}

function clamp(limit: number, bounds: ConcurrencyBounds): number {
  return Math.min(bounds.ceiling, Math.max(bounds.floor, limit));
}

function updatedAverage(average: FileSecondsAverage | undefined, sample: WindowSample): FileSecondsAverage | undefined {
  if (sample.filesFinished < TUNING.minFilesForLatency) return average;
  const value = sample.meanFileSeconds;
  if (average === undefined) return { mean: value, variance: 0 };
  // West's incremental form of an exponentially weighted mean and variance.
  const difference = value - average.mean;
  const increment = TUNING.ewmaAlpha * difference;
  return { mean: average.mean + increment, variance: (1 - TUNING.ewmaAlpha) * (average.variance + difference * increment) };
}

/** How far above the average a window mean may go before it counts, for the given deviations and minimum share. */
function margin(average: FileSecondsAverage, deviations: number, minShare: number): number {
  return Math.max(deviations * Math.sqrt(average.variance), minShare * average.mean);
}

function grown(state: ControllerState): number {
  return state.slowStart ? state.limit * TUNING.slowStartGrowth : state.limit + Math.max(1, Math.round(Math.sqrt(state.limit)));
}

type Decision = readonly [Adjustment, StepReason];

function decide(state: ControllerState, sample: WindowSample, bounds: ConcurrencyBounds): Decision {
  const { limit, fileSeconds } = state;
  const finished = sample.filesFinished > 0;
  const above = (deviations: number, minShare: number) =>
    sample.filesFinished >= TUNING.minFilesForLatency &&
    fileSeconds !== undefined && sample.meanFileSeconds > fileSeconds.mean + margin(fileSeconds, deviations, minShare);

  if (sample.memoryUsedRatio >= TUNING.highMemoryRatio) return [ADJUSTMENTS.decrease, STEP_REASONS.memoryHigh];
  if (sample.eventLoopUtilization >= TUNING.saturatedEventLoopUtilization) return [ADJUSTMENTS.decrease, STEP_REASONS.eventLoopSaturated];
  if (sample.transientFailures > 0) return [ADJUSTMENTS.decrease, STEP_REASONS.backPressure];
  if (above(TUNING.sharpRiseDeviations, TUNING.sharpRiseMinShare)) return [ADJUSTMENTS.decrease, STEP_REASONS.latencyRoseSharply];
  if (sample.peakFilesRunning < TUNING.demandShare * limit) return [ADJUSTMENTS.hold, STEP_REASONS.noDemand];
  // A file at tens of milliseconds a request outlasts a window: slow start goes on demand and headroom alone.
  if (!finished && !state.slowStart) return [ADJUSTMENTS.hold, STEP_REASONS.noFileFinished];
  if (sample.eventLoopUtilization >= TUNING.headroomEventLoopUtilization || sample.memoryUsedRatio >= TUNING.headroomMemoryRatio) {
    return [ADJUSTMENTS.hold, STEP_REASONS.nearCapacity];
  }
  if (above(TUNING.steadyDeviations, TUNING.steadyMinShare)) return [ADJUSTMENTS.hold, STEP_REASONS.latencyRising];
  if (limit >= bounds.ceiling) return [ADJUSTMENTS.hold, STEP_REASONS.atCeiling];
  return [ADJUSTMENTS.increase, STEP_REASONS.headroom];
}

/** The limit for the next window, and the state to pass to the next call. */
export function nextStep(state: ControllerState, sample: WindowSample, bounds: ConcurrencyBounds): ControllerStep {
  const [adjustment, reason] = decide(state, sample, bounds);
  const fileSeconds = updatedAverage(state.fileSeconds, sample);
  switch (adjustment) {
    case ADJUSTMENTS.increase:
      return { state: { limit: clamp(grown(state), bounds), slowStart: state.slowStart, fileSeconds }, adjustment, reason };
    case ADJUSTMENTS.decrease: {
      const limit = clamp(Math.floor(state.limit * TUNING.decreaseRatio), bounds);
      // At the floor nothing was shed: a busy first window (the start itself) must not end the slow start.
      return { state: { limit, slowStart: state.slowStart && limit === state.limit, fileSeconds }, adjustment, reason };
    }
    case ADJUSTMENTS.hold:
      return { state: { ...state, limit: clamp(state.limit, bounds), fileSeconds }, adjustment, reason };
  }
}
