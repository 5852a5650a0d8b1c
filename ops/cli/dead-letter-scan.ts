/**
 * One bounded pass over the messages a DLQ held when a command started, for `dlq drop` and the
 * client-side `redrive`: receive a batch, hand the selected messages to the command, keep the rest
 * hidden while the pass lasts (so that receives get through to the others) and make them visible again
 * at once when it ends, however it ends.
 *
 * Left alone: a message sent to the DLQ after the start (a redriven message failing again would
 * otherwise go round for ever), and one not selected. Every loop is bounded: the pass ends when a
 * receive brings nothing, when it brings only messages already seen (their hiding ran out: nothing
 * else is left to find), at the receive budget, at the command's limit, or on Ctrl-C.
 */
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH_ENTRIES } from '../../worker/common/sqs-limits.ts';
import { releaseMessages } from './peek-messages.ts';

export interface DeadLetterScanOptions {
  readonly dlqUrl: string;
  readonly select: (message: Message) => boolean;
  /** When the command started (epoch ms): a message with a later SentTimestamp arrived during it. */
  readonly startedAtMs: number;
  /** Checked before every receive: a batch in hand is always finished first. */
  readonly signal: AbortSignal;
  /** Upper bound on ReceiveMessage calls; see `receiveBudget`. */
  readonly maxReceives: number;
  /** How long received messages stay hidden; far above the time one batch takes. @default 120 */
  readonly visibilityTimeoutSeconds?: number;
  /** A long poll asks every SQS server, so an empty answer means an empty queue. @default 1 */
  readonly receiveWaitSeconds?: number;
  /** Selected messages wanted from the next receive (at most 10); 0 ends the pass at the command's limit. */
  readonly nextBatchSize?: () => number;
  /** Awaited before each receive (a rate limit), so that a received batch is never held while waiting. */
  readonly beforeReceive?: (count: number) => Promise<void>;
}

/**
 * Acts on selected messages; resolves with those it left in the DLQ, which the pass keeps hidden and
 * releases at the end. When it throws, it has released its batch itself.
 */
export type SelectedBatchHandler = (batch: readonly Message[]) => Promise<readonly Message[]>;

export const SCAN_ENDINGS = {
  /** Every message the DLQ held at the start (and did not hide elsewhere) was seen. */
  completed: 'completed',
  limit: 'limit',
  interrupted: 'interrupted',
  /** The receive budget ran out first: run again to go on. */
  receiveBudget: 'receive-budget',
} as const;
export type ScanEnding = (typeof SCAN_ENDINGS)[keyof typeof SCAN_ENDINGS];

export interface ScanResult {
  readonly stoppedBy: ScanEnding;
  /** Handed to the command. */
  readonly selected: number;
  /** In the DLQ at the start, and not selected. */
  readonly notSelected: number;
  /** Sent to the DLQ after the start, and left there. */
  readonly arrivedDuringRun: number;
  readonly receives: number;
}

/**
 * Receives enough for every message present at the start even when SQS returns one at a time (each
 * receive that does not end the pass brings at least one unseen message), with room for arrivals.
 */
export function receiveBudget(messagesAtStart: number): number {
  return 2 * Math.max(0, messagesAtStart) + 20;
}

function arrivedAfter(message: Message, startedAtMs: number): boolean {
  const sentMs = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(sentMs) && sentMs > startedAtMs;
}

const idOf = (message: Message): string => message.MessageId ?? message.ReceiptHandle ?? '';

export async function scanDeadLetterQueue(sqs: SQSClient, options: DeadLetterScanOptions, handle: SelectedBatchHandler): Promise<ScanResult> {
  const selectedIds = new Set<string>();
  const notSelectedIds = new Set<string>();
  const arrivedIds = new Set<string>();
  // Latest receipt handle of every message kept hidden, to release it at the end.
  const held = new Map<string, Message>();
  let receives = 0;
  const result = (stoppedBy: ScanEnding): ScanResult => ({
    stoppedBy,
    selected: selectedIds.size,
    notSelected: notSelectedIds.size,
    arrivedDuringRun: arrivedIds.size,
    receives,
  });
  try {
    for (;;) {
      if (options.signal.aborted) return result(SCAN_ENDINGS.interrupted);
      const wanted = Math.min(SQS_MAX_BATCH_ENTRIES, options.nextBatchSize?.() ?? SQS_MAX_BATCH_ENTRIES);
      if (wanted <= 0) return result(SCAN_ENDINGS.limit);
      if (receives >= options.maxReceives) return result(SCAN_ENDINGS.receiveBudget);
      await options.beforeReceive?.(wanted);
      if (options.signal.aborted) return result(SCAN_ENDINGS.interrupted);
      receives += 1;
      const { Messages: received = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.dlqUrl,
          MaxNumberOfMessages: wanted,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 120,
          WaitTimeSeconds: options.receiveWaitSeconds ?? 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (received.length === 0) return result(SCAN_ENDINGS.completed);
      const unseen = received.filter((message) => !selectedIds.has(idOf(message)) && !held.has(idOf(message)));
      for (const message of received) if (held.has(idOf(message))) held.set(idOf(message), message);
      if (unseen.length === 0) return result(SCAN_ENDINGS.completed);

      const batch: Message[] = [];
      for (const message of unseen) {
        if (arrivedAfter(message, options.startedAtMs)) arrivedIds.add(idOf(message));
        else if (!options.select(message)) notSelectedIds.add(idOf(message));
        else {
          selectedIds.add(idOf(message));
          batch.push(message);
          continue;
        }
        held.set(idOf(message), message);
      }
      if (batch.length === 0) continue;
      for (const message of await handle(batch)) held.set(idOf(message), message);
    }
  } finally {
    // Only so that they are visible at once; otherwise they return after their visibility timeout.
    await releaseMessages(sqs, options.dlqUrl, [...held.values()]).catch(() => undefined);
  }
}
