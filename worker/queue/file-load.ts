/**
 * Counts what the adaptive bound on files in flight samples: files running now and the most at once,
 * and the files that ended since the last window with their durations. The message handler reports to
 * it; the driver (adaptive-concurrency.ts) takes one window per tick.
 */
import type { FileOutcome } from '../telemetry.ts';
import type { WindowSample } from './concurrency-controller.ts';

export type FileLoadWindow = Pick<WindowSample, 'filesFinished' | 'meanFileSeconds' | 'transientFailures' | 'peakFilesRunning'>;

/** Outcomes whose duration is the time a file takes: those that failed took whatever time their failure took. */
const TIMED_OUTCOMES: ReadonlySet<FileOutcome> = new Set(['succeeded', 'missing', 'stale', 'superseded']);

export class FileLoad {
  private running = 0;
  private peak = 0;
  private finished = 0;
  private secondsSum = 0;
  private transientFailures = 0;

  /** Files past every bound and not yet ended. */
  get filesRunning(): number {
    return this.running;
  }

  fileStarted(): void {
    this.running += 1;
    this.peak = Math.max(this.peak, this.running);
  }

  fileEnded(outcome: FileOutcome, durationSeconds: number): void {
    this.running -= 1;
    if (TIMED_OUTCOMES.has(outcome)) {
      this.finished += 1;
      this.secondsSum += durationSeconds;
    } else if (outcome === 'failed_transient') {
      this.transientFailures += 1;
    }
  }

  /** What happened since the last call; the next window starts with the files running now. */
  takeWindow(): FileLoadWindow {
    const window: FileLoadWindow = {
      filesFinished: this.finished,
      meanFileSeconds: this.finished === 0 ? 0 : this.secondsSum / this.finished,
      transientFailures: this.transientFailures,
      peakFilesRunning: this.peak,
    };
    this.peak = this.running;
    this.finished = 0;
    this.secondsSum = 0;
    this.transientFailures = 0;
    return window;
  }
}
