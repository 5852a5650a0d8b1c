/** The worker's HTTP face: liveness, readiness and Prometheus metrics, nothing else. */
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface ServerDeps {
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly readiness: () => Readiness;
}

const RETRY_AFTER_SECONDS = 5;

export function buildServer(deps: ServerDeps) {
  // Probes and scrapes arrive every few seconds; logging each would drown the file lines.
  const server = Fastify({ loggerInstance: deps.logger, logController: new LogController({ disableRequestLogging: true }) });

  server.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));

  server.get('/readyz', async (_request, reply) => {
    const readiness = deps.readiness();
    if (readiness.ready) return { status: 'ready' };
    return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ status: 'not_ready', reason: readiness.reason });
  });

  server.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.metrics();
    return reply.header('content-type', deps.metrics.contentType).send(text);
  });

  return server;
}
