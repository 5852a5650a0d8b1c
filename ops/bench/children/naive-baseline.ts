/**
 * Naive baseline (child process): how the original system handled a file. The whole object is read
 * into memory, split into lines, each line parsed and transformed on its own (the worker's record
 * rules, so the output bytes can be compared), both outputs built whole in memory and uploaded whole:
 * one PutObject, or for an output over the emulator's 11 MiB request cap lib-storage's Upload of the
 * whole Buffer (still "the whole output in memory"). The generated data has no line over
 * MAX_LINE_BYTES, so that rule is left out, as the original system had none.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createAwsClients } from '../../../worker/common/aws-clients.ts';
import { evaluateLine, rejectedLine } from '../../../worker/records/pipeline.ts';
import { PRODUCTION_CONFIG, productionRecordRules } from '../production-defaults.ts';
import { childArgument, readyThenWaitForGo, reportAndWaitForRelease } from './child-protocol.ts';

export interface NaiveBaselineArgument {
  readonly endpoint: string;
  readonly region: string;
  readonly source: { readonly bucket: string; readonly key: string };
  readonly processed: { readonly bucket: string; readonly key: string };
  readonly rejected: { readonly bucket: string; readonly key: string };
}

export interface NaiveBaselineResult {
  readonly lines: number;
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly processedBytes: number;
  readonly rejectedBytes: number;
}

const SINGLE_REQUEST_LIMIT_BYTES = 11 * 1024 * 1024;
const BLANK = /^\s*$/;

async function putWhole(s3: S3Client, target: { bucket: string; key: string }, body: Buffer): Promise<void> {
  const params = { Bucket: target.bucket, Key: target.key, Body: body, ContentType: 'application/x-ndjson' };
  if (body.length <= SINGLE_REQUEST_LIMIT_BYTES) {
    await s3.send(new PutObjectCommand(params));
    return;
  }
  const { partSizeBytes, queueSize } = PRODUCTION_CONFIG.upload;
  await new Upload({ client: s3, params, partSize: partSizeBytes, queueSize, leavePartsOnError: false }).done();
}

function joinLines(lines: readonly string[]): Buffer {
  return Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8');
}

const argument = childArgument<NaiveBaselineArgument>();
const { s3 } = createAwsClients({ region: argument.region, endpoint: argument.endpoint });
const rules = productionRecordRules();
await readyThenWaitForGo();

const response = await s3.send(new GetObjectCommand({ Bucket: argument.source.bucket, Key: argument.source.key }));
const whole = Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
const text = whole.toString('utf8').replace(/^\uFEFF/, '');
const lines = text.split('\n');
if (lines[lines.length - 1] === '') lines.pop();

const processedLines: string[] = [];
const rejectedLines: string[] = [];
let filtered = 0;
let nonBlank = 0;
lines.forEach((raw, index) => {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (BLANK.test(line)) return;
  nonBlank += 1;
  const result = evaluateLine(line, rules);
  if (result.outcome === 'processed') processedLines.push(result.output);
  else if (result.outcome === 'filtered') filtered += 1;
  else rejectedLines.push(rejectedLine(index + 1, result, line));
});
const processedBody = joinLines(processedLines);
const rejectedBody = joinLines(rejectedLines);
await putWhole(s3, argument.processed, processedBody);
await putWhole(s3, argument.rejected, rejectedBody);

const result: NaiveBaselineResult = {
  lines: nonBlank,
  processed: processedLines.length,
  filtered,
  rejected: rejectedLines.length,
  processedBytes: processedBody.length,
  rejectedBytes: rejectedBody.length,
};
s3.destroy();
await reportAndWaitForRelease(result);
