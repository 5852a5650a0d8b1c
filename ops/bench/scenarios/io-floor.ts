/**
 * Scenario 2: the I/O the worker cannot avoid for the large file, with no processing: GetObject of
 * the raw object and, at the same time (as the worker streams), a multipart upload of an object the
 * size of both outputs with the worker's uploader, part size and queue, fed in 64 KiB pieces.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { LineOutcomeRouter, TextLines } from '../../../worker/records/line-outcomes.ts';
import { LineSplitter } from '../../../worker/records/line-splitter.ts';
import { MultipartUpload } from '../../../worker/output/multipart-upload.ts';
import { withTimeout } from '../../local/child-processes.ts';
import type { BenchContext } from '../context.ts';
import { cpuDelta, cpuSecondsOf } from '../process-stats.ts';
import { PRODUCTION_CONFIG, productionRecordRules } from '../production-defaults.ts';
import type { IoFloorFigures } from '../results.ts';

const PIECE_BYTES = 64 * 1024;

/** Output size of the large file, from scenario 1 if it ran, else from one pass of the pipeline here. */
function outputBytes(context: BenchContext): number {
  const known = context.results.computeFloor?.outputBytes;
  if (known !== undefined) return known.processed + known.rejected;
  const outputs = { processed: new TextLines(), rejected: new TextLines() };
  const splitter = new LineSplitter(PRODUCTION_CONFIG.inputLimits.maxLineBytes, new LineOutcomeRouter(productionRecordRules(), outputs));
  let bytes = 0;
  const take = () => Buffer.byteLength(outputs.processed.take()) + Buffer.byteLength(outputs.rejected.take());
  for (const piece of pieces(context.largeInput().body, context.largeInput().body.length)) {
    splitter.push(piece);
    bytes += take();
  }
  splitter.end();
  return bytes + take();
}

/** `total` bytes cut from the input (again from its start when it is shorter). */
function* pieces(source: Buffer, total: number): Generator<Buffer> {
  let sent = 0;
  while (sent < total) {
    const offset = sent % source.length;
    const piece = source.subarray(offset, Math.min(source.length, offset + PIECE_BYTES, offset + total - sent));
    sent += piece.length;
    yield piece;
  }
}

export async function measureIoFloor(context: BenchContext): Promise<IoFloorFigures> {
  const reference = await context.referenceObject();
  const input = context.largeInput();
  const writtenBytes = outputBytes(context);
  const { partSizeBytes, queueSize } = PRODUCTION_CONFIG.upload;
  context.progress(`2 I/O floor: GetObject of ${(input.body.length / 1e6).toFixed(1)} MB while uploading ${(writtenBytes / 1e6).toFixed(1)} MB`);
  const timeoutMs = 60_000 + input.body.length / 100_000;

  const emulatorPid = context.emulator.child.pid;
  const emulatorBefore = cpuSecondsOf(emulatorPid);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const read = (async () => {
    const response = await context.clients.s3.send(new GetObjectCommand({ Bucket: reference.bucket, Key: reference.key }));
    let bytes = 0;
    for await (const chunk of response.Body as AsyncIterable<Uint8Array>) bytes += chunk.length;
    return { bytes, seconds: (performance.now() - start) / 1000 };
  })();
  const upload = new MultipartUpload(context.clients.s3, {
    bucket: reference.bucket,
    key: `io-floor/output-${writtenBytes}.jsonl`,
    contentType: 'application/x-ndjson',
    partSizeBytes,
    queueSize,
  });
  const write = (async () => {
    for (const piece of pieces(input.body, writtenBytes)) await upload.write(piece);
    await upload.finish();
    return (performance.now() - start) / 1000;
  })();
  let both: [{ bytes: number; seconds: number }, number];
  try {
    both = await withTimeout(Promise.all([read, write]), timeoutMs, 'the I/O floor');
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const [{ bytes: readBytes, seconds: readSeconds }, writeSeconds] = both;
  if (readBytes !== input.body.length) throw new Error(`GetObject returned ${readBytes} bytes of ${input.body.length}`);
  return {
    readBytes,
    writtenBytes,
    readSeconds,
    writeSeconds,
    seconds,
    megabytesPerSecond: (readBytes + writtenBytes) / 1e6 / seconds,
    partSizeBytes,
    uploadQueueSize: queueSize,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    emulatorCpuSeconds: cpuDelta(emulatorBefore, cpuSecondsOf(emulatorPid)),
  };
}
