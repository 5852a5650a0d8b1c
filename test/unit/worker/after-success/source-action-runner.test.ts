/**
 * Which account each S3 call of a source action names (SOURCES' expectedBucketOwner). S3 is a recorder here:
 * the calls themselves are proven on the emulator (test/integration/worker/after-success.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { runSourceSteps } from '../../../../worker/after-success/source-action-runner.ts';
import { planSourceAction, type SourceActionSettings } from '../../../../worker/after-success/source-action.ts';
import type { SourceVersion } from '../../../../worker/after-success/source-version.ts';

const OWNER = '111122223333';
const COUNTS = { processed: 1, filtered: 0, rejected: 0 };
/** Without a version id, so that tag checks the key still holds it first. */
const UNVERSIONED: SourceVersion = { bucket: 'raw', key: 'east/a.jsonl', eTag: 'e1' };

type Call = { readonly command: string } & Readonly<Record<string, unknown>>;

function recordingS3(): { s3: S3Client; calls: Call[] } {
  const calls: Call[] = [];
  const s3 = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ command: command.constructor.name.replace(/Command$/, ''), ...command.input });
      return Promise.resolve(command.constructor.name === 'GetObjectTaggingCommand' ? { TagSet: [] } : {});
    },
  } as unknown as S3Client;
  return { s3, calls };
}

async function callsOf(settings: SourceActionSettings, expectedBucketOwner: string | undefined): Promise<Call[]> {
  const { s3, calls } = recordingS3();
  const plan = planSourceAction(settings, UNVERSIONED, COUNTS);
  const options = { s3, signal: new AbortController().signal, ...(expectedBucketOwner === undefined ? {} : { expectedBucketOwner }) };
  await runSourceSteps([...plan.beforeEvent, ...plan.afterEvent], options);
  return calls;
}

const pick = (calls: readonly Call[], ...fields: string[]) =>
  calls.map((call) => Object.fromEntries(['command', ...fields].filter((field) => call[field] !== undefined).map((field) => [field, call[field]])));

describe('runSourceSteps with an expected bucket owner', () => {
  it('tag: the HeadObject, GetObjectTagging and PutObjectTagging on the raw object each name it', async () => {
    const calls = await callsOf({ mode: 'tag', archive: { bucket: undefined, prefix: 'archive/' } }, OWNER);

    expect(pick(calls, 'Bucket', 'ExpectedBucketOwner')).toStrictEqual([
      { command: 'HeadObject', Bucket: 'raw', ExpectedBucketOwner: OWNER },
      { command: 'GetObjectTagging', Bucket: 'raw', ExpectedBucketOwner: OWNER },
      { command: 'PutObjectTagging', Bucket: 'raw', ExpectedBucketOwner: OWNER },
    ]);
  });

  it('delete: the DeleteObject names it', async () => {
    const calls = await callsOf({ mode: 'delete', archive: { bucket: undefined, prefix: 'archive/' } }, OWNER);

    expect(pick(calls, 'Bucket', 'ExpectedBucketOwner')).toStrictEqual([{ command: 'DeleteObject', Bucket: 'raw', ExpectedBucketOwner: OWNER }]);
  });

  it('move within the raw bucket: the copy names it for its source and its destination, the delete for the raw object', async () => {
    const calls = await callsOf({ mode: 'move', archive: { bucket: undefined, prefix: 'archive/' } }, OWNER);

    expect(pick(calls, 'Bucket', 'Key', 'ExpectedBucketOwner', 'ExpectedSourceBucketOwner')).toStrictEqual([
      { command: 'CopyObject', Bucket: 'raw', Key: 'archive/east/a.jsonl', ExpectedBucketOwner: OWNER, ExpectedSourceBucketOwner: OWNER },
      { command: 'DeleteObject', Bucket: 'raw', Key: 'east/a.jsonl', ExpectedBucketOwner: OWNER },
    ]);
  });

  it('move to another archive bucket: the copy names the owner of its source only, the archive owner being unknown', async () => {
    const calls = await callsOf({ mode: 'move', archive: { bucket: 'archive-bucket', prefix: 'archive/' } }, OWNER);

    expect(pick(calls, 'Bucket', 'ExpectedBucketOwner', 'ExpectedSourceBucketOwner')).toStrictEqual([
      { command: 'CopyObject', Bucket: 'archive-bucket', ExpectedSourceBucketOwner: OWNER },
      { command: 'DeleteObject', Bucket: 'raw', ExpectedBucketOwner: OWNER },
    ]);
  });

  it('names no owner when none is expected', async () => {
    const calls = [
      ...(await callsOf({ mode: 'tag', archive: { bucket: undefined, prefix: 'archive/' } }, undefined)),
      ...(await callsOf({ mode: 'move', archive: { bucket: undefined, prefix: 'archive/' } }, undefined)),
    ];

    expect(calls).toHaveLength(5);
    expect(calls.every((call) => !('ExpectedBucketOwner' in call) && !('ExpectedSourceBucketOwner' in call))).toBe(true);
  });
});
