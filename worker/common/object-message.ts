/**
 * The message the trigger Lambda (and `ops backfill`) put on the ingest queue: one object per
 * message, the key exactly as stored (not URL-encoded). The worker also accepts S3's own notifications.
 *
 * {"type":"iot-ingest.object","version":1,"bucket":"raw","key":"site 1/readings.jsonl","size":1024,
 *  "eTag":"9b2cf535f27731c974343645a3985328","versionId":"…","sequencer":"…","eventTime":"2026-11-25T18:00:00.000Z"}
 */
export const OBJECT_MESSAGE_TYPE = 'iot-ingest.object';
export const OBJECT_MESSAGE_VERSION = 1;

export interface ObjectMessage {
  readonly type: typeof OBJECT_MESSAGE_TYPE;
  readonly version: typeof OBJECT_MESSAGE_VERSION;
  readonly bucket: string;
  readonly key: string;
  readonly size?: number;
  /** Without quotes; when present the worker skips the object if it has changed since. */
  readonly eTag?: string;
  readonly versionId?: string;
  readonly sequencer?: string;
  readonly eventTime?: string;
}

export function objectMessage(fields: Omit<ObjectMessage, 'type' | 'version'>): ObjectMessage {
  return { type: OBJECT_MESSAGE_TYPE, version: OBJECT_MESSAGE_VERSION, ...fields };
}
