import type { FastifyRequest } from 'fastify';

// fauxqs routes S3 as `/:bucket` and `/:bucket/*`; find-my-way has already URL-decoded both
// (`%2B` → `+`, `%25` → `%`, `%2F` → `/`, UTF-8 sequences), and fauxqs stores objects under exactly these.
export function bucketOf(request: FastifyRequest): string | undefined {
  return paramsOf(request)['bucket'];
}

export function keyOf(request: FastifyRequest): string | undefined {
  return paramsOf(request)['*'];
}

export function queryOf(request: FastifyRequest): Readonly<Record<string, unknown>> {
  return isRecord(request.query) ? request.query : {};
}

function paramsOf(request: FastifyRequest): Readonly<Record<string, string | undefined>> {
  return isRecord(request.params) ? (request.params as Record<string, string | undefined>) : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
