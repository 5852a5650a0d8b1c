import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ReceiptHandleLedger } from './receipt-handles.ts';
import {
  isRecord,
  isWellFormedBatch,
  messageAttributesError,
  messageSizeBytes,
  SQS_LIMITS,
  visibilityChangeError,
} from './sqs-limit-rules.ts';
import { sqsErrorType, sqsQueryErrorHeader } from './sqs-query-error.ts';
import { SqsRequestError, sendSqsError } from './sqs-request-error.ts';

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
 * the query error code SQS uses, so that the SDK raises them under SQS's names (sqs-query-error.ts).
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
          if (isRecord(message) && typeof message['MessageId'] === 'string' && typeof message['ReceiptHandle'] === 'string') {
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
          const receiptHandle = isRecord(success) && typeof success['Id'] === 'string' ? currentById.get(success['Id']) : undefined;
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
    if (rule === undefined || !isRecord(request.body)) return;
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

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `SendMessage` for an SQS JSON-protocol request (`POST /`, `X-Amz-Target: AmazonSQS.SendMessage`). */
function sqsActionOf(request: FastifyRequest): string | undefined {
  if (request.method !== 'POST' || request.routeOptions.url !== '/') return undefined;
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : undefined;
}
