/**
 * The order of the steps after a file's success and what a failure stops. S3 is a recorder here: what S3
 * itself does with these calls is proven on the emulator (test/integration/worker/after-success.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { createAfterSuccess, type AfterSuccessEvents, type SucceededFile } from '../../../../worker/after-success/after-success.ts';
import type { FileEventPublisher } from '../../../../worker/after-success/file-event-publisher.ts';
import type { SourceAfterSuccess } from '../../../../worker/after-success/source-action.ts';
import { isTransientFailure, TransientFileError } from '../../../../worker/errors.ts';
import { emptyTally } from '../../../../worker/records/line-outcomes.ts';

const FILE: SucceededFile = {
  source: { bucket: 'raw', key: 'a.jsonl', versionId: 'v1', eTag: 'e1' },
  outputs: { processed: [{ bucket: 'out', key: 'a.jsonl', bytes: 1 }], rejected: { bucket: 'out', key: 'rejected/a.jsonl', bytes: 0 } },
  tally: { ...emptyTally(), processed: 1 },
  bytesRead: 10,
  durationMs: 5,
};

interface Options {
  readonly mode: SourceAfterSuccess;
  readonly publish?: 'ok' | 'fail' | 'none';
  /** An S3 status for the call of this command class. */
  readonly s3Fails?: { readonly command: string; readonly status: number };
  readonly outputPrefix?: string;
}

function setup(options: Options) {
  const calls: string[] = [];
  const reported: string[] = [];
  const s3 = {
    send: (command: { constructor: { name: string } }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push(name);
      if (options.s3Fails?.command === name) {
        return Promise.reject(Object.assign(new Error(`status ${options.s3Fails.status}`), { $metadata: { httpStatusCode: options.s3Fails.status } }));
      }
      return Promise.resolve(name === 'GetObjectTagging' ? { TagSet: [] } : {});
    },
  } as unknown as S3Client;
  const publisher: FileEventPublisher = {
    publish: (event) => {
      calls.push(`Publish ${event.eventId}`);
      return options.publish === 'fail' ? Promise.reject(new TransientFileError('SNS is down')) : Promise.resolve('sns-1');
    },
  };
  const events: AfterSuccessEvents = {
    sourceActionEnded: (_source, action, outcome) => reported.push(`${action} ${outcome.result}`),
    sourceActionFailed: (_source, action) => reported.push(`${action} failed`),
    fileEventPublished: () => reported.push('event published'),
    fileEventFailed: () => reported.push('event failed'),
  };
  const afterSuccess = createAfterSuccess({
    s3,
    settings: { mode: options.mode, archive: { bucket: undefined, prefix: 'archive/' } },
    outputPrefixes: [{ bucket: 'out', prefix: options.outputPrefix ?? '' }],
    publisher: options.publish === 'none' ? undefined : publisher,
    workerVersion: '1.0.0',
    wallClockMs: () => 0,
    events,
  });
  const run = () => afterSuccess(FILE, new AbortController().signal);
  return { run, calls, reported };
}

const publishCall = (calls: readonly string[]) => calls.findIndex((call) => call.startsWith('Publish '));

describe('createAfterSuccess', () => {
  it('move: copies, publishes, then deletes the version', async () => {
    const { run, calls, reported } = setup({ mode: 'move' });

    await run();

    expect(calls.map((call) => call.split(' ')[0])).toStrictEqual(['CopyObject', 'Publish', 'DeleteObject']);
    expect(reported).toStrictEqual(['event published', 'move done']);
  });

  it('tag: tags before the event is published', async () => {
    const { run, calls, reported } = setup({ mode: 'tag' });

    await run();

    expect(calls.map((call) => call.split(' ')[0])).toStrictEqual(['GetObjectTagging', 'PutObjectTagging', 'Publish']);
    expect(reported).toStrictEqual(['tag done', 'event published']);
  });

  it('delete: a publish that fails leaves the raw object for the retry, and fails transiently', async () => {
    const { run, calls, reported } = setup({ mode: 'delete', publish: 'fail' });

    const failure = await run().catch((error: unknown) => error);

    expect(isTransientFailure(failure)).toBe(true);
    expect(calls).not.toContain('DeleteObject');
    expect(reported).toStrictEqual(['event failed']);
  });

  it('move: a copy that finds the object replaced deletes nothing, and the event still goes out', async () => {
    const { run, calls, reported } = setup({ mode: 'move', s3Fails: { command: 'CopyObject', status: 412 } });

    await run();

    expect(calls).not.toContain('DeleteObject');
    expect(publishCall(calls)).toBeGreaterThan(0);
    expect(reported).toStrictEqual(['move superseded', 'event published']);
  });

  it('delete: a version already gone is no failure (a redelivery after the delete)', async () => {
    const { run, reported } = setup({ mode: 'delete', s3Fails: { command: 'DeleteObject', status: 404 } });

    await run();

    expect(reported).toStrictEqual(['event published', 'delete gone']);
  });

  it('a refused S3 call fails the file with the error S3 gave, the event unpublished', async () => {
    const { run, calls, reported } = setup({ mode: 'tag', s3Fails: { command: 'PutObjectTagging', status: 403 } });

    await expect(run()).rejects.toThrow('status 403');

    expect(publishCall(calls)).toBe(-1);
    expect(reported).toStrictEqual(['tag failed']);
  });

  it('keep: only the event', async () => {
    const { run, calls } = setup({ mode: 'keep' });

    await run();

    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^Publish [0-9a-f]{32}$/);
  });

  it('move: refuses an archive (the raw bucket by default) where outputs are written, before any call', async () => {
    const { run, calls } = setup({ mode: 'move', publish: 'none' });
    const sameBucket = { ...FILE, source: { ...FILE.source, bucket: 'out' } };
    const afterSuccess = createAfterSuccess({
      s3: { send: () => Promise.reject(new Error('no call expected')) } as unknown as S3Client,
      settings: { mode: 'move', archive: { bucket: undefined, prefix: 'archive/' } },
      outputPrefixes: [{ bucket: 'out', prefix: '' }],
      publisher: undefined,
      workerVersion: '1',
      wallClockMs: () => 0,
      events: { sourceActionEnded: () => undefined, sourceActionFailed: () => undefined, fileEventPublished: () => undefined, fileEventFailed: () => undefined },
    });

    await expect(afterSuccess(sameBucket, new AbortController().signal)).rejects.toThrow(/SOURCE_ARCHIVE_PREFIX "archive\/" in s3:\/\/out overlaps the outputs/);
    await run();
    expect(calls).toStrictEqual(['CopyObject', 'DeleteObject']);
  });
});
