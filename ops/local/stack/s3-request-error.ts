import type { FastifyReply } from 'fastify';
import { escapeXml } from './xml-text.ts';

/** An S3 API error answered to the client in S3's XML error format. */
export class S3RequestError extends Error {
  readonly code: string;
  readonly statusCode: number;

  constructor(code: string, message: string, statusCode = 400) {
    super(message);
    this.name = 'S3RequestError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

export function sendS3Error(reply: FastifyReply, error: S3RequestError, requestId: string): FastifyReply {
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>`,
    `<RequestId>${escapeXml(requestId)}</RequestId></Error>`,
  ].join('');
  return reply.status(error.statusCode).header('content-type', 'application/xml').send(xml);
}
