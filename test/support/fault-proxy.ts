/**
 * A fault-injecting HTTP proxy on loopback, between a worker (AWS_ENDPOINT_URL = the proxy) and the
 * emulator. It tells S3 from SQS (SQS's JSON protocol is `POST /` with an X-Amz-Target header; S3 is
 * path-style `/bucket/key`), names the operation, and per request may answer 500/503 with an S3-style
 * error body, delay, reset the connection before or after forwarding (a cut response body), trickle
 * the response body, or re-write it in small seeded chunks. An outage mode resets every open and every
 * new connection. Every request is recorded, and so are the messages SQS hands out (ReceiveMessage
 * results) and the multipart uploads.
 */
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { forwardedHeaders, headerText, s3BucketOperation, s3ObjectOperation, upstreamRequestOptions } from '../../ops/bench/latency-proxy/request-kind.ts';
import { mulberry32 } from '../../ops/local/synthetic-data.ts';

export type Service = 's3' | 'sqs';

export interface ProxiedRequest {
  readonly id: number;
  readonly service: Service;
  /** S3: GetObject, PutObject, UploadPart, CreateMultipartUpload, CompleteMultipartUpload, … SQS: the X-Amz-Target action. */
  readonly operation: string;
  readonly method: string;
  readonly url: string;
  /** S3 only; the key decoded. */
  readonly bucket?: string;
  readonly key?: string;
  /** S3 UploadPart, CompleteMultipartUpload, AbortMultipartUpload. */
  readonly uploadId?: string;
  readonly partNumber?: number;
}

export type Fault =
  /** Answered by the proxy, never forwarded: an S3 XML (or SQS JSON) error body. */
  | { readonly kind: 'status'; readonly status: 500 | 503; readonly code?: string }
  /** Forwarded after a pause. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** The connection is reset before anything is forwarded. */
  | { readonly kind: 'reset' }
  /** Forwarded; the client gets the status, the headers and `fraction` of the body, then a reset (no headers when the body is empty). */
  | { readonly kind: 'cut-response'; readonly fraction: number }
  /** Forwarded; the response body trickles at this rate. */
  | { readonly kind: 'slow-body'; readonly bytesPerSecond: number }
  /**
   * Forwarded whole, the response body re-written in seeded chunks of 1..maxChunkBytes bytes, one write per
   * turn of the event loop (setImmediate) or every pauseMs, so that each arrives as a read of its own.
   */
  | { readonly kind: 'rechunk'; readonly seed: number; readonly maxChunkBytes: number; readonly pauseMs?: number };

export type FaultRule = (request: ProxiedRequest) => Fault | undefined;

export interface RecordedRequest extends ProxiedRequest {
  readonly atMs: number;
  /** What the proxy did to it: a fault kind, 'outage' (reset while the outage lasted), or undefined (passed through). */
  fault: Fault['kind'] | 'outage' | undefined;
  /** The status the upstream answered (set as soon as its headers arrive), or the proxy's for a status fault; undefined if none came. */
  status: number | undefined;
  /** performance.now() when the proxy finished with it (answered, cut or failed). */
  doneAtMs: number | undefined;
}

/** One message as a ReceiveMessage response (as the upstream sent it) handed it out. */
export interface ReceivedMessage {
  readonly atMs: number;
  /** The id of the ReceiveMessage request that handed it out. */
  readonly requestId: number;
  readonly queueUrl: string;
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number | undefined;
}

export interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** UploadPart requests the upstream answered with 200. */
  partsStored: number;
  /** A CompleteMultipartUpload / AbortMultipartUpload the upstream answered with 2xx. */
  completed: boolean;
  aborted: boolean;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  readonly received: readonly ReceivedMessage[];
  readonly uploads: readonly MultipartUpload[];
  /** Connections reset because of the outage. */
  readonly outageResets: () => number;
  /** Replaces the fault rule; undefined passes everything through. */
  setRule(rule: FaultRule | undefined): void;
  /** Resets every open connection, and every new one until endOutage. */
  startOutage(): void;
  endOutage(): void;
  /** The first request (an earlier one included) that matches `predicate`; checked on every arrival, upstream answer and completion. */
  waitForRequest(predicate: (request: RecordedRequest) => boolean, timeoutMs: number, what: string): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const S3_ERROR_CODES: Record<number, string> = { 500: 'InternalError', 503: 'ServiceUnavailable' };
/** Bodies captured to read what SQS handed out and the upload ids S3 gave; never more than this. */
const MAX_CAPTURE_BYTES = 4 * 1024 * 1024;
const SLOW_BODY_TICK_MS = 50;

/** Resolves when `response` can take more, or is closed. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

function s3Operation(method: string, key: string, query: URLSearchParams, headers: IncomingHttpHeaders, hasBucket: boolean): string {
  if (!hasBucket) return method === 'GET' ? 'ListBuckets' : `${method} /`;
  return key === '' ? s3BucketOperation(method, query) : s3ObjectOperation(method, query, headers);
}

/** What a request is: which service, which operation, which object. */
export function classifyRequest(id: number, method: string, url: string, headers: IncomingHttpHeaders): ProxiedRequest {
  const target = headerText(headers, 'x-amz-target');
  const parsed = new URL(url, 'http://proxy.invalid');
  if (target !== undefined) return { id, service: 'sqs', operation: target.slice(target.lastIndexOf('.') + 1), method, url };
  const contentType = headerText(headers, 'content-type') ?? '';
  if (method === 'POST' && parsed.pathname === '/' && contentType.startsWith('application/x-www-form-urlencoded')) {
    // The SQS query protocol, which older clients speak.
    return { id, service: 'sqs', operation: new URLSearchParams(parsed.search).get('Action') ?? 'Query', method, url };
  }
  const [, bucketPart = '', ...keyParts] = parsed.pathname.split('/');
  const bucket = decodeURIComponent(bucketPart);
  const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
  const query = parsed.searchParams;
  const partNumber = query.get('partNumber');
  const uploadId = query.get('uploadId');
  return {
    id,
    service: 's3',
    operation: s3Operation(method, key, query, headers, bucket !== ''),
    method,
    url,
    bucket,
    key,
    ...(uploadId === null ? {} : { uploadId }),
    ...(partNumber === null ? {} : { partNumber: Number(partNumber) }),
  };
}

function errorBody(request: ProxiedRequest, status: number, code: string): { contentType: string; body: string } {
  const message = `injected by the fault proxy (request ${request.id})`;
  if (request.service === 'sqs') {
    return { contentType: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message }) };
  }
  return {
    contentType: 'application/xml',
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy-${request.id}</RequestId>` +
      `<HostId>fault-proxy</HostId></Error>`,
  };
}

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target` (a loopback http URL). */
export async function startFaultProxy(target: string, initialRule?: FaultRule): Promise<FaultProxy> {
  const upstream = new URL(target);
  if (upstream.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(upstream.hostname)) {
    throw new Error(`the fault proxy forwards to loopback http only, not ${target}`);
  }
  const agent = new Agent({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  const received: ReceivedMessage[] = [];
  const uploads: MultipartUpload[] = [];
  const sockets = new Set<Socket>();
  const listeners = new Set<() => void>();
  let rule = initialRule;
  let outage = false;
  let outageResets = 0;
  let nextId = 1;
  /** Ends every pause and trickle when the proxy closes, so that no timer outlives it. */
  const closing = new AbortController();
  /** Waits `ms`, or less if the client goes away or the proxy closes. */
  const pause = async (ms: number, response: ServerResponse) => {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    response.once('close', onClose);
    try {
      await sleep(ms, undefined, { signal: AbortSignal.any([gone.signal, closing.signal]) });
    } catch {
      // cut short
    } finally {
      response.off('close', onClose);
    }
  };
  const notify = () => {
    for (const listener of listeners) listener();
  };

  function finish(record: RecordedRequest, status: number | undefined): void {
    if (record.doneAtMs !== undefined) return;
    record.status ??= status;
    record.doneAtMs = performance.now();
    trackUploads(record);
    notify();
  }

  function trackUploads(record: RecordedRequest): void {
    if (record.service !== 's3' || record.status === undefined || record.status >= 300 || record.uploadId === undefined) return;
    const upload = uploads.find((candidate) => candidate.uploadId === record.uploadId);
    if (upload === undefined) return;
    if (record.operation === 'UploadPart') upload.partsStored += 1;
    if (record.operation === 'CompleteMultipartUpload') upload.completed = true;
    if (record.operation === 'AbortMultipartUpload') upload.aborted = true;
  }

  function captured(record: RecordedRequest, requestBody: string, responseBody: string): void {
    try {
      if (record.service === 'sqs' && record.operation === 'ReceiveMessage') {
        const { QueueUrl: queueUrl = '' } = JSON.parse(requestBody) as { QueueUrl?: string };
        const { Messages: messages = [] } = JSON.parse(responseBody) as {
          Messages?: Array<{ MessageId?: string; Body?: string; Attributes?: Record<string, string> }>;
        };
        for (const message of messages) {
          const count = message.Attributes?.['ApproximateReceiveCount'];
          received.push({
            atMs: performance.now(),
            requestId: record.id,
            queueUrl,
            messageId: message.MessageId ?? '',
            body: message.Body ?? '',
            receiveCount: count === undefined ? undefined : Number(count),
          });
        }
      }
      if (record.service === 's3' && record.operation === 'CreateMultipartUpload') {
        const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(responseBody)?.[1];
        if (uploadId !== undefined) {
          uploads.push({ bucket: record.bucket ?? '', key: record.key ?? '', uploadId, partsStored: 0, completed: false, aborted: false });
        }
      }
    } catch {
      // Not what was expected (an error body): nothing to record.
    }
  }

  function resetClient(response: ServerResponse): void {
    response.socket?.resetAndDestroy();
    response.destroy();
  }

  async function answerWithStatus(request: IncomingMessage, response: ServerResponse, record: RecordedRequest, status: number, code: string) {
    // Read the request body first, as S3 does, so that the client is not cut off while it sends.
    request.resume();
    if (!request.readableEnded) await once(request, 'end').catch(() => undefined);
    const { contentType, body } = errorBody(record, status, code);
    response.writeHead(status, { 'content-type': contentType, 'x-amz-request-id': `fault-proxy-${record.id}`, 'content-length': Buffer.byteLength(body) });
    response.end(record.method === 'HEAD' ? undefined : body);
    finish(record, status);
  }

  function forward(request: IncomingMessage, response: ServerResponse, record: RecordedRequest, fault: Fault | undefined): void {
    const capture = (record.service === 'sqs' && record.operation === 'ReceiveMessage') || record.operation === 'CreateMultipartUpload';
    const requestChunks: Buffer[] = [];
    const upstreamRequest = httpRequest(upstreamRequestOptions(request, upstream, agent));
    upstreamRequest.on('error', () => {
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end('fault proxy: the upstream failed');
        finish(record, 502);
      } else {
        resetClient(response);
        finish(record, undefined);
      }
    });
    // The client went away (an aborted request, a killed worker): stop the upstream side too.
    response.on('close', () => {
      if (!response.writableFinished) {
        upstreamRequest.destroy();
        finish(record, undefined);
      }
    });
    if (capture) request.on('data', (chunk: Buffer) => requestChunks.push(chunk));
    request.pipe(upstreamRequest);

    upstreamRequest.on('response', (upstreamResponse) => {
      const status = upstreamResponse.statusCode ?? 502;
      record.status = status;
      notify();
      const headers = forwardedHeaders(upstreamResponse.headers);
      if (fault?.kind === 'cut-response') {
        cutResponse(upstreamResponse, response, record, headers, fault.fraction);
        return;
      }
      response.writeHead(status, headers);
      const responseChunks: Buffer[] = [];
      let capturedBytes = 0;
      if (capture) {
        upstreamResponse.on('data', (chunk: Buffer) => {
          capturedBytes += chunk.length;
          if (capturedBytes <= MAX_CAPTURE_BYTES) responseChunks.push(chunk);
        });
      }
      upstreamResponse.on('end', () => {
        if (capture) captured(record, Buffer.concat(requestChunks).toString('utf8'), Buffer.concat(responseChunks).toString('utf8'));
      });
      upstreamResponse.on('error', () => resetClient(response));
      response.on('finish', () => finish(record, status));
      if (fault?.kind === 'slow-body') void trickle(upstreamResponse, response, fault.bytesPerSecond);
      else if (fault?.kind === 'rechunk') void rechunk(upstreamResponse, response, fault);
      else upstreamResponse.pipe(response);
    });
  }

  function cutResponse(
    upstreamResponse: IncomingMessage,
    response: ServerResponse,
    record: RecordedRequest,
    headers: Record<string, string | string[]>,
    fraction: number,
  ): void {
    const length = Number(headerText(upstreamResponse.headers, 'content-length') ?? 0);
    const keep = Math.floor(length * Math.min(Math.max(fraction, 0), 0.99));
    if (record.method === 'HEAD' || length === 0 || keep === 0) {
      upstreamResponse.resume();
      resetClient(response);
      finish(record, undefined);
      return;
    }
    response.writeHead(record.status ?? 200, headers);
    let sent = 0;
    upstreamResponse.on('data', (chunk: Buffer) => {
      if (sent >= keep) return;
      const part = chunk.subarray(0, keep - sent);
      sent += part.length;
      if (sent < keep) {
        response.write(part);
        return;
      }
      // Once the bytes are out, close the connection in the middle of the body.
      upstreamResponse.destroy();
      response.write(part, () => {
        response.socket?.destroy();
        response.destroy();
        finish(record, undefined);
      });
    });
    upstreamResponse.on('error', () => undefined);
  }

  async function trickle(upstreamResponse: IncomingMessage, response: ServerResponse, bytesPerSecond: number): Promise<void> {
    const perTick = Math.max(1, Math.floor((bytesPerSecond * SLOW_BODY_TICK_MS) / 1000));
    try {
      for await (const chunk of upstreamResponse as AsyncIterable<Buffer>) {
        for (let offset = 0; offset < chunk.length; offset += perTick) {
          if (response.destroyed || closing.signal.aborted) {
            upstreamResponse.destroy();
            resetClient(response);
            return;
          }
          response.write(chunk.subarray(offset, offset + perTick));
          await pause(SLOW_BODY_TICK_MS, response);
        }
      }
      response.end();
    } catch {
      resetClient(response);
    }
  }

  async function rechunk(upstreamResponse: IncomingMessage, response: ServerResponse, fault: Extract<Fault, { kind: 'rechunk' }>): Promise<void> {
    const random = mulberry32(fault.seed);
    const maxChunkBytes = Math.max(1, Math.floor(fault.maxChunkBytes));
    try {
      for await (const chunk of upstreamResponse as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          if (response.destroyed || closing.signal.aborted) {
            upstreamResponse.destroy();
            resetClient(response);
            return;
          }
          const size = 1 + Math.floor(random() * maxChunkBytes);
          const flushed = response.write(chunk.subarray(offset, offset + size));
          offset += size;
          if (!flushed) await drained(response);
          if (fault.pauseMs === undefined) await new Promise<void>((resolve) => setImmediate(resolve));
          else await pause(fault.pauseMs, response);
        }
      }
      response.end();
    } catch {
      resetClient(response);
    }
  }

  const server = createServer((request, response) => {
    const record: RecordedRequest = {
      ...classifyRequest(nextId++, request.method ?? 'GET', request.url ?? '/', request.headers),
      atMs: performance.now(),
      fault: undefined,
      status: undefined,
      doneAtMs: undefined,
    };
    requests.push(record);
    notify();
    if (outage) {
      record.fault = 'outage';
      outageResets += 1;
      resetClient(response);
      finish(record, undefined);
      return;
    }
    const fault = rule?.(record);
    record.fault = fault?.kind;
    void (async () => {
      switch (fault?.kind) {
        case 'status':
          await answerWithStatus(request, response, record, fault.status, fault.code ?? S3_ERROR_CODES[fault.status] ?? 'InternalError');
          return;
        case 'reset':
          resetClient(response);
          finish(record, undefined);
          return;
        case 'delay':
          await pause(fault.ms, response);
          if (response.destroyed || closing.signal.aborted) {
            finish(record, undefined);
            return;
          }
          forward(request, response, record, undefined);
          return;
        default:
          forward(request, response, record, fault);
      }
    })();
  });
  server.on('connection', (socket) => {
    if (outage) {
      outageResets += 1;
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    received,
    uploads,
    outageResets: () => outageResets,
    setRule(next) {
      rule = next;
    },
    startOutage() {
      outage = true;
      for (const socket of sockets) {
        outageResets += 1;
        socket.resetAndDestroy();
      }
      sockets.clear();
    },
    endOutage() {
      outage = false;
    },
    waitForRequest(predicate, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = requests.find(predicate);
          if (match === undefined) return;
          done();
          resolve(match);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`fault proxy: no ${what} within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async close() {
      closing.abort();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
