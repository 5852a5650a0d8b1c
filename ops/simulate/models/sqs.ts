/**
 * A standard SQS queue with a redrive policy, holding messages as cohorts (how many, sent when, received how
 * often, visible from when) rather than one object per message: a backfill of a million messages is a few
 * thousand cohorts.
 *
 * Order: SQS standard queues do not promise any order (best-effort ordering). Receives here take the oldest
 * visible messages first, so the oldest age this model reports is a lower bound on what SQS would show.
 *
 * ApproximateAgeOfOldestMessage follows the SQS developer guide's table of metrics
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html):
 * the age of the oldest non-deleted message, in flight ones included; a message received three times or more
 * and not deleted goes to the back of the queue and leaves that metric until it is processed; a message moved
 * to the DLQ takes its age in the DLQ from the move.
 */
import { SQS_MAX_BATCH_ENTRIES } from '../../../worker/common/sqs-limits.ts';

/** From this many receives without a delete, SQS moves a message to the back of the queue and out of the age metric. */
export const POISON_PILL_RECEIVES = 3;

/** Messages received together: what the worker holds and deletes. */
export interface ReceivedSlice<Body> {
  readonly body: Body;
  readonly sentAt: number;
  /** ApproximateReceiveCount including this receive. */
  readonly receiveCount: number;
  /** The messages of the slice still in flight (not deleted, not visible again). */
  readonly count: number;
  readonly visibleAt: number;
}

type CohortState = 'visible' | 'inFlight' | 'gone';

class Cohort<Body> implements ReceivedSlice<Body> {
  count: number;
  visibleAt: number;
  state: CohortState;
  readonly body: Body;
  readonly sentAt: number;
  readonly receiveCount: number;
  /** Position in the visible list: the send time, or for a poison pill the time it came back (the back of the queue). */
  queuedAt = 0;

  constructor(fields: { count: number; body: Body; sentAt: number; receiveCount: number; visibleAt: number; state: CohortState }) {
    this.count = fields.count;
    this.body = fields.body;
    this.sentAt = fields.sentAt;
    this.receiveCount = fields.receiveCount;
    this.visibleAt = fields.visibleAt;
    this.state = fields.state;
  }
}

export interface QueueCounters {
  /** NumberOfMessagesReceived */
  readonly received: number;
  /** NumberOfMessagesDeleted */
  readonly deleted: number;
  /** Moved to the DLQ by the redrive policy. */
  readonly deadLettered: number;
}

export interface QueueRequests {
  readonly receiveMessage: number;
  readonly deleteMessageBatch: number;
  readonly changeMessageVisibility: number;
  /** The worker's copies of failed messages to the DLQ, one SendMessage each. */
  readonly sendMessageToDeadLetterQueue: number;
}

export interface DeletePart<Body> {
  readonly slice: ReceivedSlice<Body>;
  /** Default: all the slice's messages still in flight. */
  readonly count?: number;
}

const batchRequests = (messages: number): number => Math.ceil(messages / SQS_MAX_BATCH_ENTRIES);

export class SqsQueue<Body> {
  private readonly maxReceiveCount: number;
  /** Visible cohorts in queue order from `head`; earlier entries are spent. */
  private visible: Cohort<Body>[] = [];
  private head = 0;
  /** In-flight cohorts by the time they become visible again; entries made stale by a change are skipped. */
  private readonly returns = new MinHeap<Cohort<Body>>();
  /** In-flight cohorts that still count towards the age metric, oldest sent first; stale entries skipped. */
  private readonly inFlightBySentAt = new MinHeap<Cohort<Body>>();
  private counts = { visible: 0, inFlight: 0, dlq: 0 };
  private counters = { received: 0, deleted: 0, deadLettered: 0 };
  private requestCounts = { receiveMessage: 0, deleteMessageBatch: 0, changeMessageVisibility: 0, sendMessageToDeadLetterQueue: 0 };

  /** @param maxReceiveCount the redrive policy's: receives a message may have before the next one moves it to the DLQ. */
  constructor(maxReceiveCount: number) {
    this.maxReceiveCount = maxReceiveCount;
  }

  get visibleCount(): number {
    return this.counts.visible;
  }

  get inFlightCount(): number {
    return this.counts.inFlight;
  }

  /** The queue has no delivery delay and S3 notifications set none: always 0, kept for the series. */
  get delayedCount(): number {
    return 0;
  }

  /** Messages in the DLQ, moved by the redrive policy or copied by the worker; nothing consumes them in the simulation. */
  get deadLetterCount(): number {
    return this.counts.dlq;
  }

  get requests(): QueueRequests {
    return { ...this.requestCounts };
  }

  get totalRequests(): number {
    const r = this.requestCounts;
    return r.receiveMessage + r.deleteMessageBatch + r.changeMessageVisibility + r.sendMessageToDeadLetterQueue;
  }

  /** The counters since the last call, which resets them (the engine reads them once a second). */
  takeCounters(): QueueCounters {
    const taken = { ...this.counters };
    this.counters.received = 0;
    this.counters.deleted = 0;
    this.counters.deadLettered = 0;
    return taken;
  }

  send(count: number, now: number, body: Body): void {
    if (count <= 0) return;
    const last = this.visible.at(-1);
    if (this.visible.length > this.head && last?.queuedAt === now && last.sentAt === now && last.receiveCount === 0 && last.body === body) {
      last.count += count;
    } else {
      this.enqueueVisible(new Cohort({ count, body, sentAt: now, receiveCount: 0, visibleAt: now, state: 'visible' }));
    }
    this.counts.visible += count;
  }

  /** Makes visible again the in-flight messages whose visibility timeout has run out by `now`. */
  advance(now: number): void {
    for (;;) {
      const at = this.returns.peekKey();
      if (at === undefined || at > now) return;
      const cohort = this.returns.pop() as Cohort<Body>;
      if (cohort.state !== 'inFlight' || cohort.visibleAt !== at || cohort.count === 0) continue;
      this.counts.inFlight -= cohort.count;
      this.counts.visible += cohort.count;
      cohort.state = 'visible';
      this.enqueueVisible(cohort);
    }
  }

  /**
   * One worker's receive of up to `max` messages (as many ReceiveMessage calls of ten as it takes, one if it
   * finds nothing). A message already received maxReceiveCount times goes to the DLQ instead of to the caller.
   */
  receive(max: number, now: number, visibilityTimeoutSeconds: number): ReceivedSlice<Body>[] {
    this.advance(now);
    const slices: ReceivedSlice<Body>[] = [];
    let wanted = Math.max(0, Math.floor(max));
    while (wanted > 0 && this.head < this.visible.length) {
      const source = this.visible[this.head];
      if (source === undefined) break;
      if (source.count === 0) {
        this.head += 1;
        continue;
      }
      if (source.receiveCount >= this.maxReceiveCount) {
        this.counts.visible -= source.count;
        this.counts.dlq += source.count;
        this.counters.deadLettered += source.count;
        source.count = 0;
        source.state = 'gone';
        this.head += 1;
        continue;
      }
      const taken = Math.min(wanted, source.count);
      source.count -= taken;
      if (source.count === 0) {
        source.state = 'gone';
        this.head += 1;
      }
      const slice = new Cohort({
        count: taken,
        body: source.body,
        sentAt: source.sentAt,
        receiveCount: source.receiveCount + 1,
        visibleAt: now + visibilityTimeoutSeconds,
        state: 'inFlight',
      });
      this.returns.push(slice.visibleAt, slice);
      if (slice.receiveCount < POISON_PILL_RECEIVES) this.inFlightBySentAt.push(slice.sentAt, slice);
      slices.push(slice);
      wanted -= taken;
      this.counts.visible -= taken;
      this.counts.inFlight += taken;
    }
    this.compact();
    const received = slices.reduce((sum, slice) => sum + slice.count, 0);
    this.counters.received += received;
    this.requestCounts.receiveMessage += Math.max(1, batchRequests(received));
    return slices;
  }

  /** One worker's deletes, in DeleteMessageBatch requests of ten. A part no longer in flight is ignored (its receipt expired). */
  deleteBatch(parts: readonly DeletePart<Body>[]): void {
    let deleted = 0;
    for (const part of parts) {
      const cohort = this.ownCohort(part.slice);
      if (cohort.state !== 'inFlight') continue;
      const count = Math.min(cohort.count, part.count ?? cohort.count);
      cohort.count -= count;
      if (cohort.count === 0) cohort.state = 'gone';
      deleted += count;
    }
    if (deleted === 0) return;
    this.counts.inFlight -= deleted;
    this.counters.deleted += deleted;
    this.requestCounts.deleteMessageBatch += batchRequests(deleted);
  }

  delete(slice: ReceivedSlice<Body>, count?: number): void {
    this.deleteBatch([{ slice, count }]);
  }

  /**
   * The worker's own dead-lettering of held messages: a copy of each to the DLQ (one SendMessage each), then a
   * delete of the original, in DeleteMessageBatch requests of ten.
   */
  deadLetterByWorker(slices: readonly ReceivedSlice<Body>[]): void {
    let copied = 0;
    for (const slice of slices) {
      const cohort = this.ownCohort(slice);
      if (cohort.state === 'inFlight') copied += cohort.count;
    }
    if (copied === 0) return;
    this.counts.dlq += copied;
    this.counters.deadLettered += copied;
    this.requestCounts.sendMessageToDeadLetterQueue += copied;
    this.deleteBatch(slices.map((slice) => ({ slice })));
  }

  /**
   * Sets the visibility of held slices to `seconds` from now, in ChangeMessageVisibilityBatch requests of ten:
   * the worker's heartbeat, or 0 to release them at shutdown.
   */
  changeVisibility(slices: readonly ReceivedSlice<Body>[], now: number, seconds: number): void {
    let changed = 0;
    for (const slice of slices) {
      const cohort = this.ownCohort(slice);
      if (cohort.state !== 'inFlight') continue;
      cohort.visibleAt = now + seconds;
      this.returns.push(cohort.visibleAt, cohort);
      changed += cohort.count;
    }
    if (changed === 0) return;
    this.requestCounts.changeMessageVisibility += batchRequests(changed);
    this.advance(now);
  }

  /** ApproximateAgeOfOldestMessage: visible and in flight, poison pills (received three times or more) left out; 0 when none. */
  oldestAgeSeconds(now: number): number {
    let oldest = Infinity;
    for (let index = this.head; index < this.visible.length; index += 1) {
      const cohort = this.visible[index];
      // Queue order is send order among messages received fewer than three times: the first one found is the oldest.
      if (cohort !== undefined && cohort.count > 0 && cohort.receiveCount < POISON_PILL_RECEIVES) {
        oldest = cohort.sentAt;
        break;
      }
    }
    for (;;) {
      const top = this.inFlightBySentAt.peek();
      if (top === undefined) break;
      if (top.state === 'inFlight' && top.count > 0) {
        oldest = Math.min(oldest, top.sentAt);
        break;
      }
      this.inFlightBySentAt.pop();
    }
    return oldest === Infinity ? 0 : Math.max(0, now - oldest);
  }

  private ownCohort(slice: ReceivedSlice<Body>): Cohort<Body> {
    if (!(slice instanceof Cohort)) throw new TypeError('not a slice this queue handed out');
    return slice as Cohort<Body>;
  }

  /** Inserts in queue order: by send time, except that a poison pill goes to the back (the SQS guide's reordering). */
  private enqueueVisible(cohort: Cohort<Body>): void {
    cohort.queuedAt = cohort.receiveCount >= POISON_PILL_RECEIVES ? cohort.visibleAt : cohort.sentAt;
    const list = this.visible;
    let low = this.head;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const at = list[mid]?.queuedAt ?? -Infinity;
      if (at <= cohort.queuedAt) low = mid + 1;
      else high = mid;
    }
    if (low === list.length) list.push(cohort);
    else list.splice(low, 0, cohort);
  }

  /** Drops the spent prefix once it is most of the list, so the list stays as long as the visible cohorts. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.visible.length) {
      this.visible = this.visible.slice(this.head);
      this.head = 0;
    }
  }
}

/** A binary min-heap of values by a numeric key, keys and values in parallel arrays (no closure per comparison). */
class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number | undefined {
    return this.keys[0];
  }

  peek(): T | undefined {
    return this.values[0];
  }

  push(key: number, value: T): void {
    const { keys, values } = this;
    let index = keys.length;
    keys.push(key);
    values.push(value);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentKey = keys[parent] as number;
      if (parentKey <= key) break;
      keys[index] = parentKey;
      values[index] = values[parent] as T;
      index = parent;
    }
    keys[index] = key;
    values[index] = value;
  }

  pop(): T | undefined {
    const { keys, values } = this;
    const top = values[0];
    const lastKey = keys.pop();
    const lastValue = values.pop() as T;
    if (keys.length === 0 || lastKey === undefined) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= keys.length) break;
      const right = left + 1;
      const child = right < keys.length && (keys[right] as number) < (keys[left] as number) ? right : left;
      const childKey = keys[child] as number;
      if (childKey >= lastKey) break;
      keys[index] = childKey;
      values[index] = values[child] as T;
      index = child;
    }
    keys[index] = lastKey;
    values[index] = lastValue;
    return top;
  }
}
