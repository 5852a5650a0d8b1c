import { describe, expect, it } from '@jest/globals';
import { SqsQueue } from '../../../../ops/simulate/models/sqs.ts';

const TIMEOUT = 30;

describe('SqsQueue', () => {
  it('makes a received message that is not deleted visible again exactly at its visibility timeout', () => {
    const queue = new SqsQueue<string>(5);
    queue.send(1, 0, 'a');
    const [slice] = queue.receive(10, 10, TIMEOUT);
    expect(slice?.receiveCount).toBe(1);
    expect(slice?.visibleAt).toBe(40);

    queue.advance(39);
    expect({ visible: queue.visibleCount, inFlight: queue.inFlightCount }).toEqual({ visible: 0, inFlight: 1 });
    expect(queue.receive(10, 39, TIMEOUT)).toEqual([]);

    queue.advance(40);
    expect({ visible: queue.visibleCount, inFlight: queue.inFlightCount }).toEqual({ visible: 1, inFlight: 0 });
    const [again] = queue.receive(10, 40, TIMEOUT);
    expect(again?.receiveCount).toBe(2);
    expect(again?.sentAt).toBe(0);
  });

  it('deletes part or all of a slice, and a deleted message never comes back', () => {
    const queue = new SqsQueue<string>(5);
    queue.send(8, 0, 'a');
    const [slice] = queue.receive(8, 0, TIMEOUT);
    if (slice === undefined) throw new Error('nothing received');
    queue.delete(slice, 3);
    expect(queue.inFlightCount).toBe(5);
    queue.delete(slice);
    queue.advance(1000);
    expect({ visible: queue.visibleCount, inFlight: queue.inFlightCount }).toEqual({ visible: 0, inFlight: 0 });
    expect(queue.takeCounters()).toEqual({ received: 8, deleted: 8, deadLettered: 0 });
    expect(queue.takeCounters()).toEqual({ received: 0, deleted: 0, deadLettered: 0 });
  });

  it('moves a message received maxReceiveCount times to the DLQ on the next receive instead of returning it', () => {
    const queue = new SqsQueue<string>(3);
    queue.send(2, 0, 'poison');
    let now = 0;
    for (let receive = 1; receive <= 3; receive += 1) {
      const slices = queue.receive(10, now, TIMEOUT);
      expect(slices.map((slice) => [slice.count, slice.receiveCount])).toEqual([[2, receive]]);
      now += TIMEOUT;
    }
    queue.send(1, now, 'fresh');
    const last = queue.receive(10, now, TIMEOUT);
    expect(last.map((slice) => [slice.body, slice.count])).toEqual([['fresh', 1]]);
    expect(queue.deadLetterCount).toBe(2);
    expect(queue.takeCounters().deadLettered).toBe(2);
    expect(queue.visibleCount + queue.inFlightCount).toBe(1);
  });

  it('receives the oldest visible messages first, across cohorts', () => {
    const queue = new SqsQueue<string>(5);
    queue.send(3, 0, 'a');
    queue.send(3, 5, 'b');
    const slices = queue.receive(4, 6, TIMEOUT);
    expect(slices.map((slice) => [slice.body, slice.count, slice.sentAt])).toEqual([
      ['a', 3, 0],
      ['b', 1, 5],
    ]);
    expect(queue.visibleCount).toBe(2);
  });

  it('reports the age of the oldest message, in flight ones included, and leaves out poison pills', () => {
    const queue = new SqsQueue<string>(10);
    expect(queue.oldestAgeSeconds(100)).toBe(0);
    queue.send(1, 0, 'old');
    queue.send(1, 50, 'newer');
    queue.receive(1, 60, TIMEOUT);
    // The oldest is in flight: it still counts.
    expect(queue.oldestAgeSeconds(70)).toBe(70);

    // Received three times and not deleted: SQS moves it to the back and out of the metric.
    queue.advance(90);
    queue.receive(1, 90, TIMEOUT);
    queue.advance(120);
    const [third] = queue.receive(1, 120, TIMEOUT);
    expect(third?.receiveCount).toBe(3);
    expect(queue.oldestAgeSeconds(130)).toBe(80);
    queue.advance(150);
    // Back of the queue: the newer message comes first now.
    expect(queue.receive(1, 150, TIMEOUT).map((slice) => slice.body)).toEqual(['newer']);
  });

  it('counts ReceiveMessage and DeleteMessageBatch requests of ten, and visibility changes', () => {
    const queue = new SqsQueue<string>(5);
    queue.send(25, 0, 'a');
    const slices = queue.receive(25, 0, TIMEOUT);
    expect(queue.requests.receiveMessage).toBe(3);
    queue.receive(10, 0, TIMEOUT);
    // An empty receive is still a request.
    expect(queue.requests.receiveMessage).toBe(4);

    const [slice] = slices;
    if (slice === undefined) throw new Error('nothing received');
    queue.deleteBatch([{ slice, count: 11 }]);
    expect(queue.requests.deleteMessageBatch).toBe(2);
    queue.changeVisibility([slice], 5, TIMEOUT);
    expect(queue.requests.changeMessageVisibility).toBe(2);
    expect(slice.visibleAt).toBe(35);
    expect(queue.totalRequests).toBe(8);
  });

  it('counts the worker’s own dead-lettering as a SendMessage per message and a batched delete', () => {
    const queue = new SqsQueue<string>(5);
    queue.send(12, 0, 'poison');
    const slices = queue.receive(12, 0, TIMEOUT);
    queue.deadLetterByWorker(slices);
    expect({ dlq: queue.deadLetterCount, inFlight: queue.inFlightCount }).toEqual({ dlq: 12, inFlight: 0 });
    expect(queue.requests).toEqual({ receiveMessage: 2, deleteMessageBatch: 2, changeMessageVisibility: 0, sendMessageToDeadLetterQueue: 12 });
    expect(queue.takeCounters()).toEqual({ received: 12, deleted: 12, deadLettered: 12 });
  });

  it('releases held messages at once with a visibility of zero', () => {
    const queue = new SqsQueue<string>(5);
    queue.send(4, 0, 'a');
    const slices = queue.receive(4, 0, TIMEOUT);
    queue.changeVisibility(slices, 10, 0);
    expect({ visible: queue.visibleCount, inFlight: queue.inFlightCount }).toEqual({ visible: 4, inFlight: 0 });
    // The stale receipt can no longer delete.
    queue.deleteBatch(slices.map((slice) => ({ slice })));
    expect(queue.visibleCount).toBe(4);
  });
});
