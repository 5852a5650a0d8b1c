/**
 * SQS's limits that the emulator does not check itself, as plain functions of the request, and the
 * hooks that apply them around the emulator. The emulator already refuses, as SQS does: more than
 * 10 entries in a batch, empty batches, duplicate or malformed entry ids, a message (body plus
 * attributes) over the queue's MaximumMessageSize, a batch over 1 MiB in all, and a
 * VisibilityTimeout outside 0..43,200 in any one request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isJsonObject, parseJsonObject } from '../../../worker/common/json-object.ts';
import { SQS_MAX_BATCH_ENTRIES, SQS_MAX_PAYLOAD_BYTES } from '../../../worker/common/sqs-limits.ts';
import { sendSqsError, sqsActionOf, sqsErrorType, sqsQueryErrorHeader, SqsRequestError } from './sqs-protocol.ts';

const SQS_LIMITS = {
  maxMessageAttributes: 10,
  maxBatchEntries: SQS_MAX_BATCH_ENTRIES,
  /** For one message and for a whole SendMessageBatch. */
  maxPayloadBytes: SQS_MAX_PAYLOAD_BYTES,
  /** 12 hours from the ReceiveMessage that handed out the receipt handle; extending does not reset it. */
  maxVisibilitySeconds: 43_200,
} as const;

export interface StrictSqsLimitsOptions {
  /** Default Date.now: when a receipt handle was handed out, for the 12-hour visibility limit. */
  readonly nowMs?: () => number;
}

/** A failed entry of a batch, as SQS reports it in `Failed`. */
interface BatchEntryFailure {
  readonly Id: string;
  readonly SenderFault: true;
  readonly Code: string;
  readonly Message: string;
}

/**
 * One action's rule: may rewrite the request body, throws the error SQS answers, or returns the
 * whole answer itself; undefined lets the (possibly rewritten) request through to the emulator.
 */
type Rule = (body: Record<string, unknown>, request: FastifyRequest) => Record<string, unknown> | undefined;

/** What to do with the emulator's answer to a request let through; returns the payload to send. */
type AfterAnswer = (statusCode: number, answer: Record<string, unknown>) => Record<string, unknown>;

/** Never handed out by the emulator (its handles are UUIDs): a delete with it deletes nothing and succeeds. */
const NOTHING_TO_DELETE = 'local-stack:stale-receipt-handle';

/**
 * Holds SQS requests to the limits SQS enforces and the emulator does not: at most 10 message
 * attributes, and receipt handles that go stale once their message is received again or deleted
 * (DeleteMessage with one succeeds without deleting; ChangeMessageVisibility with one fails), with
 * a visibility timeout of at most 12 hours from the receive. Also answers fauxqs's own errors under
 * the query error code SQS uses, so that the SDK raises them under SQS's names (sqs-protocol.ts).
 */
export function registerStrictSqsLimits(app: FastifyInstance, options: StrictSqsLimitsOptions = {}): void {
  const nowMs = options.nowMs ?? Date.now;
  const ledger = new ReceiptHandleLedger();
  const afterAnswers = new WeakMap<FastifyRequest, AfterAnswer>();

  const rules: Readonly<Record<string, Rule>> = {
    SendMessage(body) {
      const error = messageAttributesError(body['MessageAttributes']);
      if (error) throw error;
      return undefined;
    },
    SendMessageBatch(body, request) {
      const entries = body['Entries'];
      if (!isWellFormedBatch(entries)) return undefined;
      const total = entries.reduce((sum, entry) => sum + messageSizeBytes(entry['MessageBody'], entry['MessageAttributes']), 0);
      if (total > SQS_LIMITS.maxPayloadBytes) return undefined;
      return failEntries(body, entries, request, (entry) => messageAttributesError(entry['MessageAttributes']));
    },
    ReceiveMessage(_body, request) {
      afterAnswers.set(request, (statusCode, answer) => {
        if (statusCode !== 200 || !Array.isArray(answer['Messages'])) return answer;
        const receivedAtMs = nowMs();
        for (const message of answer['Messages'] as unknown[]) {
          if (isJsonObject(message) && typeof message['MessageId'] === 'string' && typeof message['ReceiptHandle'] === 'string') {
            ledger.received(message['MessageId'], message['ReceiptHandle'], receivedAtMs);
          }
        }
        return answer;
      });
      return undefined;
    },
    DeleteMessage(body, request) {
      const receiptHandle = body['ReceiptHandle'];
      if (typeof receiptHandle !== 'string') return undefined;
      const state = ledger.stateOf(receiptHandle);
      if (state.kind === 'stale') body['ReceiptHandle'] = NOTHING_TO_DELETE;
      if (state.kind === 'current') {
        afterAnswers.set(request, (statusCode, answer) => {
          if (statusCode === 200) ledger.deleted(receiptHandle);
          return answer;
        });
      }
      return undefined;
    },
    DeleteMessageBatch(body, request) {
      const entries = body['Entries'];
      if (!isWellFormedBatch(entries)) return undefined;
      const currentById = new Map<string, string>();
      for (const entry of entries) {
        const receiptHandle = entry['ReceiptHandle'];
        if (typeof receiptHandle !== 'string') continue;
        const state = ledger.stateOf(receiptHandle);
        if (state.kind === 'stale') entry['ReceiptHandle'] = NOTHING_TO_DELETE;
        if (state.kind === 'current') currentById.set(entry['Id'] as string, receiptHandle);
      }
      afterAnswers.set(request, (statusCode, answer) => {
        if (statusCode !== 200 || !Array.isArray(answer['Successful'])) return answer;
        for (const success of answer['Successful'] as unknown[]) {
          const receiptHandle = isJsonObject(success) && typeof success['Id'] === 'string' ? currentById.get(success['Id']) : undefined;
          if (receiptHandle !== undefined) ledger.deleted(receiptHandle);
        }
        return answer;
      });
      return undefined;
    },
    ChangeMessageVisibility(body) {
      const receiptHandle = body['ReceiptHandle'];
      if (typeof receiptHandle !== 'string') return undefined;
      const error = visibilityChangeError(receiptHandle, ledger.stateOf(receiptHandle), body['VisibilityTimeout'], nowMs());
      if (error) throw error;
      return undefined;
    },
    ChangeMessageVisibilityBatch(body, request) {
      const entries = body['Entries'];
      if (!isWellFormedBatch(entries)) return undefined;
      const now = nowMs();
      return failEntries(body, entries, request, (entry) => {
        const receiptHandle = entry['ReceiptHandle'];
        if (typeof receiptHandle !== 'string') return undefined;
        return visibilityChangeError(receiptHandle, ledger.stateOf(receiptHandle), entry['VisibilityTimeout'], now);
      });
    },
  };

  /**
   * Takes the entries SQS would fail out of the batch and reports them in `Failed` next to what the
   * emulator answers for the rest; answers at once when no entry is left.
   */
  function failEntries(
    body: Record<string, unknown>,
    entries: ReadonlyArray<Record<string, unknown>>,
    request: FastifyRequest,
    errorOf: (entry: Record<string, unknown>) => SqsRequestError | undefined,
  ): Record<string, unknown> | undefined {
    const failures: BatchEntryFailure[] = [];
    const kept = entries.filter((entry) => {
      const error = errorOf(entry);
      if (error === undefined) return true;
      failures.push({ Id: entry['Id'] as string, SenderFault: true, Code: error.code, Message: error.message });
      return false;
    });
    if (failures.length === 0) return undefined;
    if (kept.length === 0) return { Successful: [], Failed: failures };
    body['Entries'] = kept;
    afterAnswers.set(request, (statusCode, answer) => {
      if (statusCode !== 200) return answer;
      const failed = Array.isArray(answer['Failed']) ? (answer['Failed'] as unknown[]) : [];
      return { ...answer, Failed: [...failed, ...failures] };
    });
    return undefined;
  }

  app.addHook('preHandler', async (request, reply) => {
    const action = sqsActionOf(request);
    const rule = action === undefined ? undefined : rules[action];
    if (rule === undefined || !isJsonObject(request.body)) return;
    try {
      const answer = rule(request.body, request);
      if (answer !== undefined) {
        return reply.status(200).header('content-type', 'application/x-amz-json-1.0').send(JSON.stringify(answer));
      }
    } catch (error) {
      if (error instanceof SqsRequestError) return sendSqsError(reply, error);
      throw error;
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const after = afterAnswers.get(request);
    afterAnswers.delete(request);
    const queryError = reply.getHeader('x-amzn-query-error');
    const fixedQueryError = typeof queryError === 'string' ? sqsQueryErrorHeader(queryError) : undefined;
    if ((after === undefined && fixedQueryError === undefined) || typeof payload !== 'string') return payload;
    const answer = parseJsonObject(payload);
    if (answer === undefined) return payload;
    if (fixedQueryError !== undefined) {
      reply.header('x-amzn-query-error', fixedQueryError);
      answer['__type'] = sqsErrorType(fixedQueryError.split(';')[0] ?? '');
    }
    return JSON.stringify(after === undefined ? answer : after(reply.statusCode, answer));
  });
}

/** The errors SQS answers to a request that breaks one of its limits, each with SQS's own wording. */
const sqsErrors = {
  tooManyMessageAttributes: (count: number) =>
    new SqsRequestError('InvalidParameterValue', `Number of message attributes [${count}] exceeds the allowed maximum [10].`),
  staleReceiptHandle: (receiptHandle: string) =>
    new SqsRequestError(
      'InvalidParameterValue',
      `Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
    ),
  visibilityBeyondLimit: (visibilityTimeoutSeconds: number, limitSeconds: number) =>
    new SqsRequestError(
      'InvalidParameterValue',
      `Value ${visibilityTimeoutSeconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${limitSeconds} seconds]`,
    ),
} as const;

const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

interface MessageAttributeValue {
  readonly DataType?: unknown;
  readonly StringValue?: unknown;
  readonly BinaryValue?: unknown;
}

function messageAttributesError(attributes: unknown): SqsRequestError | undefined {
  const count = isJsonObject(attributes) ? Object.keys(attributes).length : 0;
  return count > SQS_LIMITS.maxMessageAttributes ? sqsErrors.tooManyMessageAttributes(count) : undefined;
}

/**
 * Whether a batch passes SQS's checks on the batch as a whole. Only then may entries be failed one
 * by one: taking an entry out of a batch that SQS refuses whole would turn its refusal into a success.
 */
function isWellFormedBatch(entries: unknown): entries is ReadonlyArray<Record<string, unknown>> {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > SQS_LIMITS.maxBatchEntries) return false;
  const ids = new Set<string>();
  for (const entry of entries as unknown[]) {
    if (!isJsonObject(entry) || typeof entry['Id'] !== 'string' || !BATCH_ENTRY_ID.test(entry['Id']) || ids.has(entry['Id'])) return false;
    ids.add(entry['Id']);
  }
  return true;
}

/** A message's size as SQS counts it against its limits: the body and every attribute's name, type and value. */
function messageSizeBytes(body: unknown, attributes: unknown): number {
  let size = typeof body === 'string' ? Buffer.byteLength(body) : 0;
  if (!isJsonObject(attributes)) return size;
  for (const [name, value] of Object.entries(attributes)) {
    const attribute: MessageAttributeValue = isJsonObject(value) ? value : {};
    size += Buffer.byteLength(name);
    for (const part of [attribute.DataType, attribute.StringValue, attribute.BinaryValue]) {
      if (typeof part === 'string') size += Buffer.byteLength(part);
    }
  }
  return size;
}

/** ChangeMessageVisibility on a handle: SQS's refusal, or undefined to let the request through. */
function visibilityChangeError(
  receiptHandle: string,
  state: ReceiptHandleState,
  visibilityTimeoutSeconds: unknown,
  nowMs: number,
): SqsRequestError | undefined {
  if (state.kind === 'stale') return sqsErrors.staleReceiptHandle(receiptHandle);
  if (state.kind === 'unknown' || typeof visibilityTimeoutSeconds !== 'number') return undefined;
  // Outside 0..43,200 the emulator answers SQS's own error for the parameter.
  if (visibilityTimeoutSeconds < 0 || visibilityTimeoutSeconds > SQS_LIMITS.maxVisibilitySeconds) return undefined;
  // To the millisecond: a client that counts whole seconds from its receive stays within what SQS takes.
  const elapsedSeconds = (nowMs - state.receivedAtMs) / 1000;
  if (elapsedSeconds + visibilityTimeoutSeconds > SQS_LIMITS.maxVisibilitySeconds) {
    return sqsErrors.visibilityBeyondLimit(visibilityTimeoutSeconds, SQS_LIMITS.maxVisibilitySeconds);
  }
  return undefined;
}

// SQS gives a message a new receipt handle each time it is received, and only the latest one
// acts on it: DeleteMessage with an older one succeeds without deleting, ChangeMessageVisibility
// with one fails. The emulator forgets handles instead of telling them apart, so the local stack
// remembers every handle it saw go out in a ReceiveMessage answer.

/** What a receipt handle still means. `unknown`: never handed out here, left to the emulator. */
type ReceiptHandleState =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'current'; readonly receivedAtMs: number }
  | { readonly kind: 'stale' };

interface IssuedHandle {
  readonly messageId: string;
  readonly receivedAtMs: number;
}

interface MessageReceipts {
  latestHandle: string;
  deleted: boolean;
}

/** Far more handles than any local run keeps in play; beyond it the oldest are forgotten, so memory stays bounded. */
const DEFAULT_MAX_HANDLES = 200_000;

class ReceiptHandleLedger {
  private readonly handles = new Map<string, IssuedHandle>();
  private readonly messages = new Map<string, MessageReceipts>();
  private readonly maxHandles: number;

  constructor(maxHandles = DEFAULT_MAX_HANDLES) {
    this.maxHandles = maxHandles;
  }

  /** A ReceiveMessage answer handed out `receiptHandle` for `messageId` at `receivedAtMs`. */
  received(messageId: string, receiptHandle: string, receivedAtMs: number): void {
    this.handles.set(receiptHandle, { messageId, receivedAtMs });
    this.messages.set(messageId, { latestHandle: receiptHandle, deleted: false });
    while (this.handles.size > this.maxHandles) this.forgetOldest();
  }

  stateOf(receiptHandle: string): ReceiptHandleState {
    const issued = this.handles.get(receiptHandle);
    if (issued === undefined) return { kind: 'unknown' };
    const message = this.messages.get(issued.messageId);
    if (message === undefined || message.deleted || message.latestHandle !== receiptHandle) return { kind: 'stale' };
    return { kind: 'current', receivedAtMs: issued.receivedAtMs };
  }

  /** The message was deleted with its current handle: every handle of it is stale from now on. */
  deleted(receiptHandle: string): void {
    const issued = this.handles.get(receiptHandle);
    const message = issued && this.messages.get(issued.messageId);
    if (message !== undefined && message.latestHandle === receiptHandle) message.deleted = true;
  }

  private forgetOldest(): void {
    const oldest = this.handles.entries().next();
    if (oldest.done === true) return;
    const [receiptHandle, { messageId }] = oldest.value;
    this.handles.delete(receiptHandle);
    if (this.messages.get(messageId)?.latestHandle === receiptHandle) this.messages.delete(messageId);
  }
}
