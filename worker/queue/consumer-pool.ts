/**
 * Owns how messages come in and go. One sqs-consumer handles a batch and polls again only when the
 * whole batch is done, so a slow file would hold back its batch-mates. Instead the pool runs one
 * consumer per file slot, each taking one message at a time: a slow file holds only its own slot.
 * Finished messages are deleted in batches across the slots (DeleteBatcher). Receiving can be paused
 * (the task protection hold limit): each poller finishes its current long poll and the file it brings,
 * then waits before its next receive until the pool resumes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { DeleteBatcher } from './delete-batcher.ts';
import { errorMessage } from '../errors.ts';

export interface ConsumerPoolOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly pollers: number;
  readonly waitTimeSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalSeconds: number;
  readonly handleMessage: (message: Message) => Promise<Message | undefined>;
  readonly visibilityAfterFailure: (message: Message) => number;
  readonly events: {
    deleted(count: number): void;
    deleteFailed(messageIds: readonly string[], error: string): void;
    receiveFailed(error: string, firstInARow: boolean): void;
    receiveRecovered(): void;
  };
}

const RECEIVE_BACKOFF_FIRST_MS = 250;
const RECEIVE_BACKOFF_MAX_MS = 5_000;
/**
 * A finished message waits this long for others to share its delete request. Short next to any
 * visibility timeout; in the bench (2,000 small files, 1 then 8 in flight) it sent 4,000 deletes in 674 requests.
 */
const DELETE_BATCH_WINDOW_MS = 20;

interface Poller {
  readonly consumer: Consumer;
  busy: boolean;
  receiveFailures: number;
  /** Waiting for the pool to resume before its next receive. */
  parked: boolean;
}

/** A promise opened once from outside. */
interface Latch {
  readonly opened: Promise<void>;
  readonly open: () => void;
}

function latch(): Latch {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A pause: the pollers wait for `resumed`; `drained` opens once all of them wait. */
interface Pause {
  readonly resumed: Latch;
  readonly drained: Latch;
}

export type ReceiveHealth = { readonly ok: true } | { readonly ok: false; readonly error: string };

export class ConsumerPool {
  private readonly pollers: Poller[];
  private readonly options: ConsumerPoolOptions;
  private readonly stopping = new AbortController();
  /** Opens on stop(): a pause ends there. */
  private readonly stopped = latch();
  private readonly deletes: DeleteBatcher;
  private idleWaiters: Array<() => void> = [];
  private lastReceiveError: string | undefined;
  private pause: Pause | undefined;

  constructor(options: ConsumerPoolOptions) {
    this.options = options;
    this.deletes = new DeleteBatcher({ sqs: options.sqs, queueUrl: options.queueUrl, windowMs: DELETE_BATCH_WINDOW_MS, events: options.events });
    this.pollers = Array.from({ length: options.pollers }, () => this.createPoller());
  }

  start(): void {
    for (const { consumer } of this.pollers) consumer.start();
  }

  get running(): boolean {
    return this.pollers.every(({ consumer }) => consumer.status.isRunning);
  }

  /** Whether the last ReceiveMessage succeeded: what readiness reports as "queue reachable". */
  get receiveHealth(): ReceiveHealth {
    return this.lastReceiveError === undefined ? { ok: true } : { ok: false, error: this.lastReceiveError };
  }

  /**
   * Stops receiving. An idle poller is in a long poll that can be cut at once; a busy one is not
   * polling, and must not be aborted, since that would also cut its pending delete.
   */
  stop(): void {
    this.stopping.abort();
    this.stopped.open();
    for (const poller of this.pollers) poller.consumer.stop({ abort: !poller.busy });
  }

  /**
   * Stops receiving without cutting a long poll short (an aborted receive can leave a message
   * invisible for its whole visibility timeout): each poller finishes its poll and any file it
   * brings, then waits. Resolves once every poller waits and every delete was answered (or earlier
   * on resumeReceiving() or stop()).
   */
  async pauseReceiving(): Promise<void> {
    this.pause ??= { resumed: latch(), drained: latch() };
    this.drainIfAllParked();
    await Promise.race([this.pause.drained.opened, this.stopped.opened]);
    await this.deletes.flush();
  }

  /** Lets the pollers receive again. */
  resumeReceiving(): void {
    const { pause } = this;
    if (pause === undefined) return;
    this.pause = undefined;
    // At once, not when each poller wakes: a pause right after must wait for them to park again.
    for (const poller of this.pollers) poller.parked = false;
    pause.drained.open();
    pause.resumed.open();
  }

  /** Resolves when no poller holds a message any more and every finished message's delete was answered. */
  async whenIdle(): Promise<void> {
    if (this.pollers.some((poller) => poller.busy)) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.deletes.flush();
  }

  private createPoller(): Poller {
    const { options } = this;
    const poller: Poller = {
      consumer: Consumer.create({
        queueUrl: options.queueUrl,
        sqs: options.sqs,
        batchSize: 1,
        waitTimeSeconds: options.waitTimeSeconds,
        visibilityTimeout: options.visibilityTimeoutSeconds,
        heartbeatInterval: options.heartbeatIntervalSeconds,
        messageSystemAttributeNames: ['ApproximateReceiveCount'],
        terminateVisibilityTimeout: ([message]) => (message ? options.visibilityAfterFailure(message) : 0),
        handleMessage: options.handleMessage,
        // A message is acknowledged (emits message_processed) but deleted by the batcher.
        shouldDeleteMessages: false,
        preReceiveMessageCallback: async () => {
          await this.backOffAfterReceiveFailures(poller);
          await this.waitWhilePaused(poller);
        },
        strictReturn: false,
      }),
      busy: false,
      receiveFailures: 0,
      parked: false,
    };
    const { consumer } = poller;
    consumer.on('message_received', () => {
      poller.busy = true;
      this.receiveSucceeded(poller);
    });
    consumer.on('empty', () => this.receiveSucceeded(poller));
    consumer.on('message_processed', (message) => this.deletes.add(message));
    consumer.on('response_processed', () => {
      poller.busy = false;
      this.notifyIfIdle();
    });
    consumer.on('error', (error, message) => {
      // Errors about a message (delete, visibility) are retried by SQS itself; receive errors carry none.
      if (message !== undefined || this.stopping.signal.aborted) return;
      poller.receiveFailures += 1;
      this.lastReceiveError = errorMessage(error);
      options.events.receiveFailed(this.lastReceiveError, poller.receiveFailures === 1);
    });
    // A failed handler is accounted for by the message handler; listening keeps the emitter from throwing.
    consumer.on('processing_error', () => undefined);
    return poller;
  }

  private receiveSucceeded(poller: Poller): void {
    if (poller.receiveFailures > 0 && this.lastReceiveError !== undefined) this.options.events.receiveRecovered();
    poller.receiveFailures = 0;
    this.lastReceiveError = undefined;
  }

  /** sqs-consumer re-polls at once after most errors; back off exponentially instead. */
  private async backOffAfterReceiveFailures(poller: Poller): Promise<void> {
    if (poller.receiveFailures === 0) return;
    const delayMs = Math.min(RECEIVE_BACKOFF_MAX_MS, RECEIVE_BACKOFF_FIRST_MS * 2 ** (poller.receiveFailures - 1));
    await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private async waitWhilePaused(poller: Poller): Promise<void> {
    const { pause } = this;
    if (pause === undefined || this.stopping.signal.aborted) return;
    poller.parked = true;
    this.drainIfAllParked();
    try {
      await Promise.race([pause.resumed.opened, this.stopped.opened]);
    } finally {
      poller.parked = false;
    }
  }

  private drainIfAllParked(): void {
    if (this.pause !== undefined && this.pollers.every((poller) => poller.parked)) this.pause.drained.open();
  }

  private notifyIfIdle(): void {
    if (this.pollers.some((poller) => poller.busy)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
