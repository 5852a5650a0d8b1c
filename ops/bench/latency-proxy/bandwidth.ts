/**
 * A per-connection bandwidth cap: each direction of a connection sends at most `bytesPerSecond`, its
 * bytes spaced out as a link of that rate would space them (no burst credit after a pause). The
 * schedule is pure; the Transform waits on it with timers.
 */
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Slices small enough to keep the rate smooth, large enough that a fast cap needs at most ~100 timers a second. */
const MIN_SLICE_BYTES = 16 * 1024;
const SLICE_MS = 10;

/** When each slice of bytes may go out on one direction of one connection. Pure: times are passed in. */
export class BandwidthSchedule {
  readonly bytesPerSecond: number;
  private freeAtMs = Number.NEGATIVE_INFINITY;

  constructor(bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`);
    this.bytesPerSecond = bytesPerSecond;
  }

  /** The bytes one slice may hold at this rate. */
  get sliceBytes(): number {
    return Math.max(MIN_SLICE_BYTES, Math.floor((this.bytesPerSecond * SLICE_MS) / 1000));
  }

  /** Books `bytes` on the link and says when they have gone through it: now if idle, else after what is queued. */
  book(bytes: number, nowMs: number): number {
    const startMs = Math.max(nowMs, this.freeAtMs);
    this.freeAtMs = startMs + (bytes * 1000) / this.bytesPerSecond;
    return this.freeAtMs;
  }
}

/** Passes the bytes through at the schedule's rate; shares the schedule with every exchange on the same connection and direction. */
export function throttle(schedule: BandwidthSchedule): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      void (async () => {
        for (let offset = 0; offset < chunk.length; offset += schedule.sliceBytes) {
          const slice = chunk.subarray(offset, offset + schedule.sliceBytes);
          const waitMs = schedule.book(slice.length, performance.now()) - performance.now();
          if (waitMs > 0) await sleep(waitMs);
          if (this.destroyed) return;
          this.push(slice);
        }
        callback();
      })().catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
}
