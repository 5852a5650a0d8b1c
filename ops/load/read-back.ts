/**
 * Reads back every object of the processed bucket and hands each output line to the ledger: the two
 * outputs of every input first, then any object no input explains. Bounded concurrency, every request
 * bounded in time.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { AwsClients } from '../../worker/common/aws-clients.ts';
import { withTimeout } from '../local/child-processes.ts';
import { checkProcessedLine, checkRejectedLine } from './output-lines.ts';
import type { PlannedFile } from './inputs.ts';
import type { Ledger } from './ledger.ts';

const REQUEST_TIMEOUT_MS = 60_000;
const CONCURRENCY = 8;

export interface ReadBackOptions {
  readonly clients: AwsClients;
  readonly bucket: string;
  /** The worker's REJECTED_PREFIX (its default, `rejected/`). */
  readonly rejectedPrefix: string;
  readonly unknownLocationId: string;
  /** How many inputs there are, and each one again from its index (regenerated: the inputs are seeded). */
  readonly files: number;
  readonly planFile: (index: number) => PlannedFile;
  readonly progress: (text: string) => void;
}

export interface ReadBackFigures {
  readonly objects: number;
  readonly bytes: number;
  /** Outputs an input should have and that are not there. */
  readonly missingObjects: number;
  /** Objects no input explains. */
  readonly unexpectedObjects: number;
}

/** The object's bytes, gunzipped if they are gzip, or undefined when there is no such key. */
async function readObject(clients: AwsClients, bucket: string, key: string): Promise<{ text: string; bytes: number } | undefined> {
  const read = async () => {
    try {
      const response = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from((await response.Body?.transformToByteArray()) ?? []);
      const plain = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
      return { text: plain.toString('utf8'), bytes: body.length };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  };
  return withTimeout(read(), REQUEST_TIMEOUT_MS, `reading s3://${bucket}/${key}`);
}

function outputLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

async function listKeys(clients: AwsClients, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await withTimeout(
      clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token })),
      REQUEST_TIMEOUT_MS,
      `listing s3://${bucket}`,
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

export async function readBack(options: ReadBackOptions, ledger: Ledger): Promise<ReadBackFigures> {
  const { clients, bucket, rejectedPrefix } = options;
  const limit = pLimit(CONCURRENCY);
  const expectedKeys = new Set<string>();
  let objects = 0;
  let bytes = 0;
  let missingObjects = 0;
  let done = 0;

  const read = async (key: string) => {
    const object = await readObject(clients, bucket, key);
    if (object !== undefined) {
      objects += 1;
      bytes += object.bytes;
    }
    return object;
  };

  await Promise.all(
    Array.from({ length: options.files }, (_, index) =>
      limit(async () => {
        const file = options.planFile(index);
        const rejectedKey = rejectedPrefix + file.key;
        expectedKeys.add(file.key).add(rejectedKey);
        const [processed, rejected] = await Promise.all([read(file.key), read(rejectedKey)]);
        if (processed === undefined) missingObjects += 1;
        else for (const line of outputLines(processed.text)) checkProcessedLine(ledger, file, line, options.unknownLocationId);
        if (rejected === undefined) missingObjects += 1;
        else for (const line of outputLines(rejected.text)) checkRejectedLine(ledger, file, line);
        done += 1;
        if (done % 1000 === 0) options.progress(`read back the outputs of ${done} of ${options.files} files`);
      }),
    ),
  );

  const unexpected = (await listKeys(clients, bucket)).filter((key) => !expectedKeys.has(key));
  await Promise.all(
    unexpected.map((key) =>
      limit(async () => {
        const object = await read(key);
        if (object === undefined) return;
        const check = key.startsWith(rejectedPrefix) ? checkRejectedLine : checkProcessedLine;
        for (const line of outputLines(object.text)) check(ledger, undefined, line, options.unknownLocationId);
      }),
    ),
  );
  return { objects, bytes, missingObjects, unexpectedObjects: unexpected.length };
}
