/**
 * SQS's query protocol on the local stack. fauxqs speaks only SQS's JSON protocol and hands every
 * form-encoded POST to its SNS emulation, so the AWS CLI v2.9 (Debian's), which speaks the query
 * protocol, got `InvalidAction ... Unknown action` for every `aws sqs` call. Here a query request
 * is read into the JSON request it stands for (sqs-query-request.ts), sent to this same server
 * (so the strict SQS limits, the visibility expiry and fauxqs handle it exactly as an SDK's
 * request), and the JSON answer is written back as SQS's XML (sqs-query-response.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isJsonObject, parseJsonObject } from '../../../worker/common/json-object.ts';
import { SqsRequestError } from './sqs-protocol.ts';
import { SQS_QUERY_API_VERSION, sqsJsonRequestOf, type QueryParameters } from './sqs-query-request.ts';
import { renderSqsQueryError, renderSqsQueryResponse, sqsQueryErrorOf } from './sqs-query-response.ts';

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** A queue's own URL as a path: `/<12-digit account>/<queue name>`. */
const QUEUE_PATH = /^\/\d{12}\/[^/?]+$/;

/**
 * The parameters of an SQS query-protocol request, or undefined for any other request (SNS and
 * STS share the form encoding; SQS's requests carry its API version or are signed for `sqs`).
 */
export function sqsQueryParametersOf(request: FastifyRequest): QueryParameters | undefined {
  if (request.method !== 'POST') return undefined;
  const contentType = request.headers['content-type'];
  if (typeof contentType !== 'string' || !contentType.toLowerCase().startsWith(FORM_CONTENT_TYPE)) return undefined;
  if (!isJsonObject(request.body)) return undefined;
  const parameters = { ...stringEntries(request.query), ...stringEntries(request.body) };
  const isSqs = parameters['Version'] === SQS_QUERY_API_VERSION || signingServiceOf(request.headers.authorization) === 'sqs';
  return isSqs ? parameters : undefined;
}

export interface SqsQueryProtocolOptions {
  /** Default randomUUID: the RequestId of each answer. */
  readonly newRequestId?: () => string;
}

/** Answers SQS query-protocol requests; register it before anything else looks at SQS requests. */
export function registerSqsQueryProtocol(app: FastifyInstance, options: SqsQueryProtocolOptions = {}): void {
  const newRequestId = options.newRequestId ?? randomUUID;

  // preValidation: the body is parsed by then, and no preHandler (strict limits, fauxqs) has run.
  app.addHook('preValidation', async (request, reply) => {
    const parameters = sqsQueryParametersOf(request);
    if (parameters === undefined) return;
    const requestId = newRequestId();
    reply.header('x-amzn-requestid', requestId).header('content-type', 'text/xml');
    let jsonRequest;
    try {
      jsonRequest = sqsJsonRequestOf(parameters, queueUrlFromPath(request));
    } catch (error) {
      if (!(error instanceof SqsRequestError)) throw error;
      return sendError(reply, error.statusCode, { type: 'Sender', code: error.code, message: error.message }, requestId);
    }
    const answer = await app.inject({
      method: 'POST',
      url: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AmazonSQS.${jsonRequest.action}`,
        // fauxqs builds queue URLs from the host and takes the region from the signature.
        ...pickHeaders(request, ['host', 'authorization', 'user-agent']),
      },
      payload: JSON.stringify(jsonRequest.body),
    });
    const jsonAnswer = parseJsonObject(answer.body);
    if (answer.statusCode === 200) {
      return reply.status(200).send(renderSqsQueryResponse(jsonRequest.action, jsonAnswer ?? {}, requestId));
    }
    const queryErrorHeader = answer.headers['x-amzn-query-error'];
    const error = sqsQueryErrorOf(answer.statusCode, typeof queryErrorHeader === 'string' ? queryErrorHeader : undefined, jsonAnswer);
    return sendError(reply, answer.statusCode, error, requestId);
  });
}

function sendError(reply: FastifyReply, statusCode: number, error: Parameters<typeof renderSqsQueryError>[0], requestId: string): FastifyReply {
  return reply.status(statusCode).send(renderSqsQueryError(error, requestId));
}

/** Older clients post to the queue's URL rather than naming it in `QueueUrl`. */
function queueUrlFromPath(request: FastifyRequest): string | undefined {
  const path = request.url.split('?')[0] ?? '';
  const host = request.headers.host;
  return QUEUE_PATH.test(path) && host !== undefined ? `http://${host}${path}` : undefined;
}

function stringEntries(value: unknown): Record<string, string> {
  if (!isJsonObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** The service a SigV4 `Authorization` header is scoped to (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`). */
function signingServiceOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /Credential=[^/\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization)?.[1];
}

function pickHeaders(request: FastifyRequest, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}
