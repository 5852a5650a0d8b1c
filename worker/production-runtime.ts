/**
 * How production starts the worker: the compiled entry point and Node's memory flags. The Dockerfile
 * and the ECS task run the same; the measurement script uses these so that it measures what production runs.
 *
 * A young generation capped at 4 MiB is collected often, which returns the short-lived Buffers of a
 * streamed file (socket reads, output chunks) quickly; with V8's defaults they pile up as garbage first.
 * Measured on a 1,000,000-record file: peak RSS 211 MB with the defaults, 159 MB with a 1 MiB cap. The
 * 4 MiB cap then cost the same memory (bench, 1 GB file: 183 vs 186 MB) and 15 % less CPU on many
 * small files, whose SDK requests leave more live objects behind than 1 MiB holds.
 * The old-space limit is three quarters of the memory the worker container has (the task's, less a sidecar's).
 */
export function nodeOptionsFor(memoryMiB: number): string {
  return `--max-semi-space-size=4 --max-old-space-size=${Math.floor(memoryMiB * 0.75)}`;
}

/** For the default task size, 2 GiB; the Dockerfile sets the same. */
export const PRODUCTION_NODE_OPTIONS = nodeOptionsFor(2048);

export const COMPILED_WORKER_ENTRY = 'dist/worker/main.js';
