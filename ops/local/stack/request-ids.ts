import { randomBytes } from 'node:crypto';

/** 16 upper-case hex characters, the shape of S3's x-amz-request-id. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** An opaque base64 token, the shape of S3's x-amz-id-2. */
export function newHostId(): string {
  return randomBytes(48).toString('base64');
}
