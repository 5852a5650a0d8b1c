/**
 * Receiving, decoupled from file slots: a few loops, each asking the pool how many messages it may
 * take (its free slots, at most ten), then one long-poll ReceiveMessage for that many. Messages go to
 * the pool as they come; a loop never waits for the files they start, so a slow file holds only its
 * own slot. A loop whose receive fails backs off exponentially before it tries again; stop() cuts a
 * long poll short.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { backoffDelay } from '../common/backoff.ts';
import { SQS_MAX_BATCH_ENTRIES } from '../common/sqs-limits.ts';

/** After a failed receive a loop waits 250 ms, doubled after each further failure, at most 5 s. */
export const RECEIVE_BACKOFF_MS = { firstDelay: 250, maxDelay: 5_000 } as const;

/**
 * Never more loops than this. At 60 ms per request one loop takes at most ten messages per request,
 * about 160 a second; four keep several hundred files a second fed, and each idle loop is one long
 * poll every WAIT_TIME_SECONDS.
 */
export const MAX_RECEIVE_LOOPS = 4;

/** One loop per ten files of the ceiling on files in flight (a full batch each), at most MAX_RECEIVE_LOOPS. */
export function receiveLoopCount(maxFilesInFlight: number): number {
  return Math.min(MAX_RECEIVE_LOOPS, Math.max(1, Math.ceil(maxFilesInFlight / SQS_MAX_BATCH_ENTRIES)));
}

/**
 * How many messages one receive may ask for: the slots neither held nor claimed by a receive in
 * progress, at most ten (ReceiveMessage's limit), never below zero.
 */
export function receiveBatchSize(slots: { readonly capacity: number; readonly held: number; readonly claimed: number }): number {
  return Math.max(0, Math.min(SQS_MAX_BATCH_ENTRIES, Math.floor(slots.capacity) - slots.held - slots.claimed));
}

export interface ReceiveSettings {
  readonly queueUrl: string;
  readonly waitTimeSeconds: number;
  /** Set on receive: how long a message stays invisible before its first heartbeat. */
  readonly visibilityTimeoutSeconds: number;
}

/** What a loop needs from the pool. */
export interface ReceiveLoopHost {
  /** Claims slots for one receive and says how many (at most ten); 0 when nothing may be received now. */
  claimSlots(): number;
  /** Ends a claim: its messages (none after a failure) are the pool's now. */
  settleClaim(claimed: number, messages: readonly Message[]): void;
  /** Resolves when claimSlots may answer otherwise (a slot freed, a pause ended, stop), or after a short while. */
  changed(): Promise<void>;
  receiveSucceeded(): void;
  receiveFailed(error: unknown): void;
  /** Aborted by stop(): ends the loop and cuts its long poll short. */
  readonly stopSignal: AbortSignal;
}

/** One ReceiveMessage: a long poll for up to `count` messages, with the receive count each carries. */
export async function receiveMessages(sqs: SQSClient, settings: ReceiveSettings, count: number, signal: AbortSignal): Promise<Message[]> {
  const { Messages: messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: settings.queueUrl,
      MaxNumberOfMessages: count,
      WaitTimeSeconds: settings.waitTimeSeconds,
      VisibilityTimeout: settings.visibilityTimeoutSeconds,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
    { abortSignal: signal },
  );
  return messages;
}

/** Runs one receive loop until the host's stop signal; never rejects. */
export async function runReceiveLoop(sqs: SQSClient, settings: ReceiveSettings, host: ReceiveLoopHost): Promise<void> {
  const { stopSignal } = host;
  let failures = 0;
  while (!stopSignal.aborted) {
    const count = host.claimSlots();
    if (count === 0) {
      await host.changed();
      continue;
    }
    let messages: Message[] = [];
    try {
      messages = await receiveMessages(sqs, settings, count, stopSignal);
      failures = 0;
      host.receiveSucceeded();
    } catch (error) {
      // A long poll cut short by stop() is no failure.
      if (!stopSignal.aborted) {
        failures += 1;
        host.receiveFailed(error);
      }
    } finally {
      host.settleClaim(count, messages);
    }
    if (failures > 0) await sleep(backoffDelay(failures, RECEIVE_BACKOFF_MS), undefined, { signal: stopSignal }).catch(() => undefined);
  }
}
