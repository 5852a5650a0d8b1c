/**
 * Keeps held messages invisible: every message the pool holds (received and not yet finished, running
 * or waiting to start) has its visibility renewed every heartbeat interval, by one timer for the whole
 * pool. Messages due at about the same time share ChangeMessageVisibilityBatch requests (ten to a
 * request), so a worker holding a hundred long files pays about ten requests per interval, not a hundred.
 *
 * A renewal that fails is not retried early: the next one comes an interval later, well inside the
 * visibility timeout, as with a heartbeat per message.
 */
import { ChangeMessageVisibilityBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { inGroupsOf } from '../common/in-groups.ts';
import { SQS_MAX_BATCH_ENTRIES } from '../common/sqs-limits.ts';

export interface VisibilityHeartbeatOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** How often each held message's visibility is renewed. */
  readonly intervalSeconds: number;
  /** The visibility each renewal sets. */
  readonly visibilityTimeoutSeconds: number;
  readonly nowMs?: () => number;
}

/**
 * A renewal may come this fraction of an interval early, so that messages received at about the same
 * time are renewed together: half an interval early at most, still far from the visibility timeout.
 */
export const HEARTBEAT_EARLY_FRACTION = 0.5;

/**
 * The messages to renew now: those due by `nowMs + earlyMs`. Pure, for the timer below and its tests.
 */
export function dueForRenewal<K>(dueAtMs: ReadonlyMap<K, number>, nowMs: number, earlyMs: number): K[] {
  const due: K[] = [];
  for (const [key, atMs] of dueAtMs) if (atMs <= nowMs + earlyMs) due.push(key);
  return due;
}

/** The earliest due time, or undefined when nothing is held. */
export function nextDueMs(dueAtMs: ReadonlyMap<unknown, number>): number | undefined {
  let next: number | undefined;
  for (const atMs of dueAtMs.values()) if (next === undefined || atMs < next) next = atMs;
  return next;
}

export class VisibilityHeartbeat {
  private readonly options: VisibilityHeartbeatOptions;
  private readonly nowMs: () => number;
  private readonly dueAtMs = new Map<Message, number>();
  /** Renewals sent and not yet answered, per message: a release must not be overtaken by one. */
  private readonly renewing = new Map<Message, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: VisibilityHeartbeatOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  private get intervalMs(): number {
    return this.options.intervalSeconds * 1000;
  }

  /** Starts renewing a message just received (with the visibility timeout): its first renewal is an interval from now. */
  add(message: Message): void {
    this.dueAtMs.set(message, this.nowMs() + this.intervalMs);
    // A message added now is due no earlier than any held one: an armed timer is already early enough.
    this.timer ??= this.arm();
  }

  /**
   * Stops renewing a message; resolves once no renewal that includes it is still unanswered, so that a
   * visibility change made after this is the last one SQS sees.
   */
  async remove(message: Message): Promise<void> {
    this.dueAtMs.delete(message);
    if (this.dueAtMs.size === 0) this.disarm();
    await this.renewing.get(message);
  }

  /** Stops the timer; held messages are no longer renewed. */
  stop(): void {
    this.dueAtMs.clear();
    this.disarm();
  }

  private arm(): NodeJS.Timeout | undefined {
    const next = nextDueMs(this.dueAtMs);
    if (next === undefined) return undefined;
    const timer = setTimeout(() => this.renewDue(), Math.max(0, next - this.nowMs()));
    timer.unref();
    return timer;
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private renewDue(): void {
    this.timer = undefined;
    const nowMs = this.nowMs();
    const due = dueForRenewal(this.dueAtMs, nowMs, this.intervalMs * HEARTBEAT_EARLY_FRACTION);
    for (const message of due) this.dueAtMs.set(message, nowMs + this.intervalMs);
    for (const batch of inGroupsOf(due, SQS_MAX_BATCH_ENTRIES)) {
      const sent = this.renew(batch);
      for (const message of batch) this.renewing.set(message, sent);
      void sent.finally(() => {
        for (const message of batch) if (this.renewing.get(message) === sent) this.renewing.delete(message);
      });
    }
    this.timer = this.arm();
  }

  /** Never rejects: a renewal refused (the message already deleted, an expired handle) or lost is retried by the next one. */
  private async renew(batch: readonly Message[]): Promise<void> {
    const { sqs, queueUrl, visibilityTimeoutSeconds } = this.options;
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          // Entry ids only need to be unique within the request.
          Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: visibilityTimeoutSeconds })),
        }),
      );
    } catch {
      // As above.
    }
  }
}
