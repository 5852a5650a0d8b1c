/**
 * Owns how messages come in and go. One sqs-consumer handles a batch and polls again only when the
 * whole batch is done, so a slow file would hold back its batch-mates. Instead the pool runs one
 * consumer per file slot, each taking one message at a time: a slow file holds only its own slot.
 * sqs-consumer only receives (and keeps the message invisible while it is handled); the message
 * handler decides the message's fate and the pool carries it out (carryOut): deletes in batches
 * across the slots (DeleteBatcher), visibility changes, copies to the DLQ. Receiving can be paused
 * (the task protection hold limit): each poller finishes its current long poll and the file it brings,
 * then waits before its next receive until the pool resumes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { backoffDelay } from '../common/backoff.ts';
import { DeleteBatcher } from './delete-batcher.ts';
import { sendToDeadLetterQueue } from './dead-letter.ts';
import { errorMessage } from '../common/error-message.ts';
import { FATE_KINDS, receiveCountOf, retryFate, type MessageFate, type RetryPolicy } from './message-fate.ts';
import type { Telemetry } from '../telemetry.ts';

export type ConsumerPoolEvents = Pick<
  Telemetry,
  'messagesDeleted' | 'messageDeletesFailed' | 'messageRetried' | 'messageReleased' | 'messageDeadLettered' | 'receiveFailed' | 'receiveRecovered'
>;

export interface ConsumerPoolOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly pollers: number;
  readonly waitTimeSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalSeconds: number;
  /** Decides a message's fate; never rejects. */
  readonly handleMessage: (message: Message) => Promise<MessageFate>;
  /** The backoff for a message whose copy the DLQ refused. */
  readonly retryPolicy: RetryPolicy;
  /** Told when a message is taken and when its fate has been carried out (task protection). */
  readonly hold?: { acquire(): void; release(): void };
  readonly events: ConsumerPoolEvents;
}

const RECEIVE_BACKOFF_MS = { firstDelay: 250, maxDelay: 5_000 } as const;
/** A finished message waits this long for others to share its delete request; short next to any visibility timeout. */
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
    this.deletes = new DeleteBatcher({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      windowMs: DELETE_BATCH_WINDOW_MS,
      events: { deleted: options.events.messagesDeleted, deleteFailed: options.events.messageDeletesFailed },
    });
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
        handleMessage: async (message) => {
          await this.handle(message);
          // Returning no message leaves its delete to carryOut.
          return undefined;
        },
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
    consumer.on('response_processed', () => {
      poller.busy = false;
      this.notifyIfIdle();
    });
    consumer.on('error', (error, message) => {
      // An error about a message (a heartbeat's visibility change) is retried by the next heartbeat; receive errors carry none.
      if (message !== undefined || this.stopping.signal.aborted) return;
      poller.receiveFailures += 1;
      this.lastReceiveError = errorMessage(error);
      options.events.receiveFailed(this.lastReceiveError, poller.receiveFailures === 1);
    });
    return poller;
  }

  private async handle(message: Message): Promise<void> {
    const { hold } = this.options;
    hold?.acquire();
    try {
      await this.carryOut(message, await this.options.handleMessage(message));
    } finally {
      hold?.release();
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
        events.messageRetried(message.MessageId, fate.receiveCount, fate.afterSeconds, fate.error);
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

  private receiveSucceeded(poller: Poller): void {
    if (poller.receiveFailures > 0 && this.lastReceiveError !== undefined) this.options.events.receiveRecovered();
    poller.receiveFailures = 0;
    this.lastReceiveError = undefined;
  }

  /** sqs-consumer re-polls at once after most errors; back off exponentially instead. */
  private async backOffAfterReceiveFailures(poller: Poller): Promise<void> {
    if (poller.receiveFailures === 0) return;
    await sleep(backoffDelay(poller.receiveFailures, RECEIVE_BACKOFF_MS), undefined, { signal: this.stopping.signal }).catch(() => undefined);
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
