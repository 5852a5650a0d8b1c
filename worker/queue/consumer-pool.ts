/**
 * Owns how messages come in and go. The pool holds at most `capacity()` messages (received and not
 * yet finished); a few receive loops (receive-loop.ts) fill the free slots, up to ten messages per
 * ReceiveMessage, and each message goes to the handler at once, on its own: a slow file holds only its
 * own slot, never its batch-mates. One heartbeat (heartbeat.ts) keeps every held message invisible.
 * The message handler decides a message's fate and the pool carries it out (carryOut): deletes in
 * batches (DeleteBatcher), visibility changes, copies to the DLQ.
 *
 * Receiving can be paused (the task protection hold limit): a long poll in progress finishes and the
 * files it brings are handled, but no new receive starts until the pool resumes. stop() cuts long
 * polls short; held messages are still handled (the handler releases what has not started) and renewed
 * until they are done.
 *
 * sqs-consumer did this before, one consumer per file slot taking one message at a time. It cannot
 * take a batch the size of the free slots (it sets MaxNumberOfMessages before its pre-receive hook
 * runs), it polls again only once its whole batch is done, and its heartbeat lives only while its
 * handler runs, one request per message.
 */
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { DeleteBatcher } from './delete-batcher.ts';
import { sendToDeadLetterQueue } from './dead-letter.ts';
import { errorMessage } from '../common/error-message.ts';
import { VisibilityHeartbeat } from './heartbeat.ts';
import { FATE_KINDS, receiveCountOf, retryFate, type MessageFate, type RetryPolicy } from './message-fate.ts';
import { receiveBatchSize, runReceiveLoop, type ReceiveLoopHost } from './receive-loop.ts';
import type { Telemetry } from '../telemetry.ts';

export type ConsumerPoolEvents = Pick<
  Telemetry,
  'messagesDeleted' | 'messageDeletesFailed' | 'messageRetried' | 'messageReleased' | 'messageDeadLettered' | 'receiveFailed' | 'receiveRecovered'
>;

export interface ConsumerPoolOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The current bound on messages held (received, not yet finished); read before each receive. */
  readonly capacity: () => number;
  /** Receive loops run at once (receiveLoopCount of the ceiling on files in flight). */
  readonly receiveLoops: number;
  readonly waitTimeSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalSeconds: number;
  /** Decides a message's fate; never rejects. */
  readonly handleMessage: (message: Message) => Promise<MessageFate>;
  /** The backoff for a message whose copy the DLQ refused. */
  readonly retryPolicy: RetryPolicy;
  /** From the ingest queue's redrive policy: a retry on this receive (the DLQ refused the copy) is logged as what it is, SQS's move to the DLQ. */
  readonly maxReceiveCount?: number;
  /** Told when a message is taken and when its fate has been carried out (task protection). */
  readonly hold?: { acquire(): void; release(): void };
  readonly events: ConsumerPoolEvents;
}

/** A finished message waits this long for others to share its delete request; short next to any visibility timeout. */
const DELETE_BATCH_WINDOW_MS = 20;
/** A loop with no free slot looks again this often, even if no message finished: the capacity may have grown. */
const CAPACITY_RECHECK_MS = 100;

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

export type ReceiveHealth = { readonly ok: true } | { readonly ok: false; readonly error: string };

export class ConsumerPool {
  private readonly options: ConsumerPoolOptions;
  private readonly stopping = new AbortController();
  /** Opens on stop(): a pause ends there. */
  private readonly stopped = latch();
  private readonly deletes: DeleteBatcher;
  private readonly heartbeat: VisibilityHeartbeat;
  /** Received and not yet finished: each holds a slot. */
  private readonly held = new Set<Message>();
  /** Slots claimed by receives in progress (each claims at least one, so 0 means none is in progress). */
  private claimedSlots = 0;
  private started = false;
  private changeWaiters = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private lastReceiveError: string | undefined;
  /** Set while paused; opens once no receive is in progress and no message is held. */
  private pause: Latch | undefined;

  constructor(options: ConsumerPoolOptions) {
    this.options = options;
    this.deletes = new DeleteBatcher({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      windowMs: DELETE_BATCH_WINDOW_MS,
      events: { deleted: options.events.messagesDeleted, deleteFailed: options.events.messageDeletesFailed },
    });
    this.heartbeat = new VisibilityHeartbeat({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      intervalSeconds: options.heartbeatIntervalSeconds,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const { sqs, queueUrl, waitTimeSeconds, visibilityTimeoutSeconds, receiveLoops } = this.options;
    const host = this.loopHost();
    for (let loop = 0; loop < Math.max(1, receiveLoops); loop += 1) {
      void runReceiveLoop(sqs, { queueUrl, waitTimeSeconds, visibilityTimeoutSeconds }, host);
    }
  }

  get running(): boolean {
    return this.started && !this.stopping.signal.aborted;
  }

  /** Whether the last ReceiveMessage succeeded: what readiness reports as "queue reachable". */
  get receiveHealth(): ReceiveHealth {
    return this.lastReceiveError === undefined ? { ok: true } : { ok: false, error: this.lastReceiveError };
  }

  /** Stops receiving and cuts long polls short. Held messages are still handled, renewed and carried out. */
  stop(): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    this.stopped.open();
    this.changed();
  }

  /**
   * Stops receiving without cutting a long poll short (an aborted receive can leave a message
   * invisible for its whole visibility timeout): a poll in progress finishes and the files it brings
   * are handled. Resolves once no receive is in progress, no message is held and every delete was
   * answered (or earlier on resumeReceiving() or stop()).
   */
  async pauseReceiving(): Promise<void> {
    const pause = (this.pause ??= latch());
    this.changed();
    await Promise.race([pause.opened, this.stopped.opened]);
    await this.deletes.flush();
  }

  /** Lets the loops receive again. */
  resumeReceiving(): void {
    const { pause } = this;
    if (pause === undefined) return;
    this.pause = undefined;
    pause.open();
    this.changed();
  }

  /**
   * Resolves when no message is held any more and every finished message's delete was answered; once
   * stopped, also when no receive is still settling (one that completed as it was cut short brings
   * messages to release).
   */
  async whenIdle(): Promise<void> {
    if (!this.isIdle()) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.deletes.flush();
  }

  private isIdle(): boolean {
    return this.held.size === 0 && (this.claimedSlots === 0 || !this.stopping.signal.aborted);
  }

  private loopHost(): ReceiveLoopHost {
    return {
      stopSignal: this.stopping.signal,
      claimSlots: () => {
        if (this.stopping.signal.aborted || this.pause !== undefined) return 0;
        const count = receiveBatchSize({ capacity: this.options.capacity(), held: this.held.size, claimed: this.claimedSlots });
        this.claimedSlots += count;
        return count;
      },
      settleClaim: (claimed, messages) => {
        this.claimedSlots -= claimed;
        for (const message of messages) this.take(message);
        this.changed();
      },
      changed: () => this.nextChange(),
      receiveSucceeded: () => {
        if (this.lastReceiveError !== undefined) this.options.events.receiveRecovered();
        this.lastReceiveError = undefined;
      },
      receiveFailed: (error) => {
        const firstInARow = this.lastReceiveError === undefined;
        this.lastReceiveError = errorMessage(error);
        this.options.events.receiveFailed(this.lastReceiveError, firstInARow);
      },
    };
  }

  private take(message: Message): void {
    this.held.add(message);
    this.options.hold?.acquire();
    this.heartbeat.add(message);
    void this.handle(message);
  }

  private async handle(message: Message): Promise<void> {
    try {
      let fate: MessageFate | undefined;
      try {
        fate = await this.options.handleMessage(message);
      } catch {
        // Not expected (the handler never rejects): the message comes back after its visibility timeout.
      }
      await this.heartbeat.remove(message);
      if (fate !== undefined) await this.carryOut(message, fate);
    } finally {
      this.held.delete(message);
      this.options.hold?.release();
      this.changed();
    }
  }

  /** The one place a fate becomes SQS requests. Never rejects: what SQS refuses, the visibility timeout retries. */
  private async carryOut(message: Message, fate: MessageFate): Promise<void> {
    const { events } = this.options;
    switch (fate.kind) {
      case FATE_KINDS.delete:
        this.deletes.add(message);
        return;
      case FATE_KINDS.retry:
        events.messageRetried(message.MessageId, fate.receiveCount, fate.afterSeconds, fate.error, this.options.maxReceiveCount);
        await this.changeVisibility(message, fate.afterSeconds);
        return;
      case FATE_KINDS.release:
        events.messageReleased(message.MessageId);
        await this.changeVisibility(message, 0);
        return;
      case FATE_KINDS.deadLetter:
        try {
          await sendToDeadLetterQueue(this.options.sqs, this.options.deadLetterQueueUrl, message, fate.reason, fate.detail);
        } catch (error) {
          await this.carryOut(message, retryFate(error, receiveCountOf(message), this.options.retryPolicy));
          return;
        }
        events.messageDeadLettered(message.MessageId, fate.reason, fate.detail);
        this.deletes.add(message);
        return;
    }
  }

  private async changeVisibility(message: Message, visibilityTimeoutSeconds: number): Promise<void> {
    const { sqs, queueUrl } = this.options;
    try {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: visibilityTimeoutSeconds }));
    } catch {
      // The message comes back when its current visibility timeout ends, as after a crash.
    }
  }

  /** Resolves on the next change of slots, pause or stop, or after CAPACITY_RECHECK_MS. */
  private nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.changeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, CAPACITY_RECHECK_MS);
      timer.unref();
      this.changeWaiters.add(done);
    });
  }

  /** Slots, pause or stop changed: wakes waiting loops, and completes a pause or an idle wait that is now due. */
  private changed(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = new Set();
    for (const wake of waiters) wake();
    const nothingInHand = this.held.size === 0 && this.claimedSlots === 0;
    if (this.pause !== undefined && nothingInHand) this.pause.open();
    if (this.isIdle()) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of idle) resolve();
    }
  }
}
