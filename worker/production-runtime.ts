/**
 * How production starts and watches the worker: the compiled entry point, Node's memory flags, the port
 * and the container health check. The Dockerfile and the ECS task (infra/worker-service.ts) run the same,
 * the production artifact check (ops/artifact-check/) fails when the Dockerfile says otherwise, and the
 * bench uses these so that it measures what production runs.
 */

/**
 * A capped young generation is collected often, which returns the short-lived Buffers of a streamed file
 * (socket reads, output chunks) quickly; with V8's defaults they pile up as garbage first and raise the
 * peak RSS of a large file. 4 MiB rather than a tighter cap: the same memory, and less CPU on many small
 * files, whose SDK requests leave more live objects behind than a smaller young generation holds
 * (`git log -S max-semi-space-size` finds the measurements).
 * The old-space limit is three quarters of the memory the worker container has (the task's, less a sidecar's).
 */
export function nodeOptionsFor(memoryMiB: number): string {
  return `--max-semi-space-size=4 --max-old-space-size=${Math.floor(memoryMiB * 0.75)}`;
}

/** For the default task size, 2 GiB; the Dockerfile sets the same. */
export const PRODUCTION_NODE_OPTIONS = nodeOptionsFor(2048);

export const COMPILED_WORKER_ENTRY = 'dist/worker/main.js';

/** The worker's HTTP port in the container: the Dockerfile's EXPOSE, the task's HTTP_PORT and port mapping. */
export const PRODUCTION_HTTP_PORT = 8080;

/** Docker's HEALTHCHECK options and ECS's `healthCheck`, in one shape. */
export interface ContainerHealthCheck {
  /** Exec form: the program and its arguments. */
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** Consecutive failures that make the container unhealthy. */
  readonly retries: number;
  /** Failures in this window do not count; the first success ends it, so a generous window costs nothing. */
  readonly startPeriodSeconds: number;
}

const HEALTH_CHECK_TIMEOUT_SECONDS = 5;
/** The probe gives up before the check's timeout, so a hung worker fails with exit 1 instead of the probe being killed. */
const HEALTH_PROBE_TIMEOUT_MS = (HEALTH_CHECK_TIMEOUT_SECONDS - 1) * 1000;

/**
 * GET /healthz on HTTP_PORT (the production port when it is unset), with Node itself: slim images have no
 * curl. The worker listens only after it has loaded the device registry, which may come from S3; hence
 * the start period.
 */
export const HEALTH_CHECK: ContainerHealthCheck = {
  command: [
    'node',
    '-e',
    `fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||${PRODUCTION_HTTP_PORT})+'/healthz',{signal:AbortSignal.timeout(${HEALTH_PROBE_TIMEOUT_MS})}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
  ],
  intervalSeconds: 30,
  timeoutSeconds: HEALTH_CHECK_TIMEOUT_SECONDS,
  retries: 3,
  startPeriodSeconds: 30,
};
