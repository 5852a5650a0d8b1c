/**
 * The latency proxy: an HTTP server on loopback between the worker (AWS_ENDPOINT_URL = the proxy) and
 * the emulator. Every request waits `delayMs` before it is forwarded, as if each took that long on the
 * network; the request body and the response then stream through as they come (long polls included),
 * optionally capped per connection and direction. Every exchange is counted by service and operation
 * once it has ended (answered, failed or abandoned).
 */
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { BandwidthSchedule, throttle } from './bandwidth.ts';
import { RequestCounter, type RequestCounts } from './request-counts.ts';
import { classifyRequest, forwardedHeaders, upstreamRequestOptions } from './request-kind.ts';

export interface LatencyProxyOptions {
  /** The emulator: a loopback http URL. */
  readonly target: string;
  /** Added to every request before it is forwarded. */
  readonly delayMs: number;
  /** Cap on each connection's bytes per second, each direction; null for none. */
  readonly bytesPerSecond: number | null;
}

export interface LatencyProxy {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL. */
  readonly url: string;
  /** Exchanges that have ended so far. */
  counts(): RequestCounts;
  /** Exchanges received and not yet ended. */
  inFlight(): number;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

interface ConnectionLinks {
  readonly up: BandwidthSchedule;
  readonly down: BandwidthSchedule;
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const upstream = new URL(options.target);
  if (upstream.protocol !== 'http:' || !LOOPBACK_HOSTS.includes(upstream.hostname)) {
    throw new Error(`the latency proxy forwards to loopback http only, not ${options.target}`);
  }
  if (!(options.delayMs >= 0)) throw new RangeError(`delayMs must be 0 or more, got ${options.delayMs}`);
  const { bytesPerSecond } = options;
  const agent = new Agent({ keepAlive: true });
  const counter = new RequestCounter();
  const links = new WeakMap<Socket, ConnectionLinks>();
  const sockets = new Set<Socket>();
  let inFlight = 0;

  function linksOf(socket: Socket): ConnectionLinks | undefined {
    if (bytesPerSecond === null) return undefined;
    let found = links.get(socket);
    if (found === undefined) {
      found = { up: new BandwidthSchedule(bytesPerSecond), down: new BandwidthSchedule(bytesPerSecond) };
      links.set(socket, found);
    }
    return found;
  }

  function carry(source: Readable, schedule: BandwidthSchedule | undefined, destination: Writable): void {
    if (schedule === undefined) {
      source.pipe(destination);
      return;
    }
    const paced = throttle(schedule);
    destination.once('close', () => paced.destroy());
    source.pipe(paced).pipe(destination);
  }

  function forward(request: IncomingMessage, response: ServerResponse): void {
    const connection = linksOf(request.socket);
    const upstreamRequest = httpRequest(upstreamRequestOptions(request, upstream, agent));
    upstreamRequest.on('error', () => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('latency proxy: the upstream failed');
    });
    // The client went away (an aborted long poll, a stopped worker): end the upstream side too.
    response.once('close', () => {
      if (!response.writableFinished) upstreamRequest.destroy();
    });
    carry(request, connection?.up, upstreamRequest);
    upstreamRequest.on('response', (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, forwardedHeaders(upstreamResponse.headers));
      upstreamResponse.on('error', () => response.destroy());
      carry(upstreamResponse, connection?.down, response);
    });
  }

  const server = createServer((request, response) => {
    const kind = classifyRequest(request.method ?? 'GET', request.url ?? '/', request.headers);
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
      counter.add(kind);
    });
    if (options.delayMs === 0) {
      forward(request, response);
      return;
    }
    // The body waits in the socket meanwhile (the request stream is not read until it is piped).
    const timer = setTimeout(() => {
      if (!response.destroyed) forward(request, response);
    }, options.delayMs);
    response.once('close', () => clearTimeout(timer));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  // Long polls last up to 20 s plus the delay; node's defaults would cut idle keep-alive sockets sooner than the SDK expects.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => counter.read(),
    inFlight: () => inFlight,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
