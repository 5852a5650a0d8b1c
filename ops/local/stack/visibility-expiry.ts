/**
 * Counts as SQS reports them. fauxqs moves a message whose visibility timeout has passed back to
 * the visible ones only when something next receives from its queue (`SqsQueue.processTimers()`,
 * called at the start of every ReceiveMessage). Until then GetQueueAttributes counts it in
 * ApproximateNumberOfMessagesNotVisible: after a peek at a DLQ the queue reads "0 visible" for as
 * long as nobody receives, and an alert on visible messages resolves while the DLQ is full. SQS
 * counts it as visible from the moment its timeout passes, so the local stack runs fauxqs's own
 * expiry (the same code a receive runs, which also releases delayed messages whose delay is over)
 * right before every answer that reports counts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isJsonObject } from '../../../worker/common/json-object.ts';
import type { FauxqsSqsStore } from './fauxqs-stores.ts';
import { sqsActionOf } from './sqs-protocol.ts';

/** Which queues an answer about to be given counts messages of. */
export type CountedQueues =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  | { readonly kind: 'byUrl'; readonly queueUrl: string }
  | { readonly kind: 'byName'; readonly queueName: string };

/** fauxqs's non-destructive inspection endpoints, which report counts too. */
const INSPECT_ALL_QUEUES = '/_fauxqs/queues';
const INSPECT_ONE_QUEUE = '/_fauxqs/queues/:queueName';

export function countedQueuesOf(request: FastifyRequest): CountedQueues {
  if (sqsActionOf(request) === 'GetQueueAttributes') {
    const queueUrl = isJsonObject(request.body) ? request.body['QueueUrl'] : undefined;
    return typeof queueUrl === 'string' ? { kind: 'byUrl', queueUrl } : { kind: 'none' };
  }
  if (request.method !== 'GET') return { kind: 'none' };
  if (request.routeOptions.url === INSPECT_ALL_QUEUES) return { kind: 'all' };
  if (request.routeOptions.url === INSPECT_ONE_QUEUE) {
    const { queueName } = request.params as { queueName?: unknown };
    return typeof queueName === 'string' ? { kind: 'byName', queueName } : { kind: 'none' };
  }
  return { kind: 'none' };
}

/** Expires the due messages of the queues an answer counts, just before fauxqs computes it. */
export function registerVisibilityExpiry(app: FastifyInstance, store: FauxqsSqsStore): void {
  app.addHook('preHandler', (request, _reply, done) => {
    expireDueMessages(store, countedQueuesOf(request));
    done();
  });
}

function expireDueMessages(store: FauxqsSqsStore, counted: CountedQueues): void {
  switch (counted.kind) {
    case 'none':
      return;
    case 'all':
      store.processAllTimers();
      return;
    case 'byUrl':
      store.getQueue(counted.queueUrl)?.processTimers();
      return;
    case 'byName':
      store.getQueueByName(counted.queueName)?.processTimers();
      return;
  }
}
