/** An exponential backoff: the first delay, doubled after each further failure, never above the cap. */
export interface Backoff {
  readonly firstDelay: number;
  readonly maxDelay: number;
}

/**
 * The delay before attempt `failures + 1`: `firstDelay × 2^(failures − 1)`, capped at `maxDelay`.
 * Units are the caller's (seconds or milliseconds), as long as both fields use the same one.
 * No jitter: each caller's retries are already spread by their own schedule (SQS visibility,
 * the task-protection renewal, one poller's receive loop).
 */
export function backoffDelay(failures: number, backoff: Backoff): number {
  const doublings = Math.min(Math.max(0, failures - 1), 30);
  return Math.min(backoff.maxDelay, backoff.firstDelay * 2 ** doublings);
}
