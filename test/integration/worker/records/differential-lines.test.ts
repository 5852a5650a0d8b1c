/**
 * A differential test of the whole line path that does not trust the worker's own helpers: seeded nasty
 * JSON Lines objects (test/support/nasty-lines.ts) go through the real worker on the local stack (the
 * emulator over HTTP, real AWS SDK clients, S3 notifications, SQS), plain and gzip, in several chunkings
 * of the bytes the worker reads; every line is then held against an independent oracle of the data
 * contract (test/support/line-oracle.ts, which imports nothing from worker/): its outcome, its rejected
 * record, its processed record, and per file the tally the worker reports.
 *
 * Chunkings: the emulator's own loopback delivery, and a fault proxy (test/support/fault-proxy.ts, fault
 * `rechunk`) between the worker and the emulator that re-writes every GetObject body in seeded chunks of
 * 1..N bytes, one write per turn of the event loop, so that each arrives as a read of its own.
 *
 * The seed is in every test's name; DIFFERENTIAL_SEED=<seed> replays a run.
 */
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FileReport } from '../../../../worker/telemetry.ts';
import { waitFor } from '../../../support/emulator.ts';
import { startFaultProxy, type FaultProxy } from '../../../support/fault-proxy.ts';
import { expectObject, fahrenheitOf, oracleRules } from '../../../support/line-oracle.ts';
import { compareFile, tallyOf, type Check, type Mismatch, type OracleTally } from '../../../support/oracle-compare.ts';
import { allKinds, differentialSeed, generateNastyFiles, type NastyFile } from '../../../support/nasty-lines.ts';
import { startStackWithWorker, type StackWithWorker } from '../../../support/worker-harness.ts';
import { objectBytes } from '../../../support/worker-process.ts';

const { seed, source } = differentialSeed();
const REPRODUCE = `DIFFERENTIAL_SEED=${seed} npm run jest -- test/integration/worker/records/differential-lines.test.ts`;
const LINE_LIMITS = [1024, 32_768] as const;
const FILES: readonly NastyFile[] = generateNastyFiles(seed, { lineLimits: LINE_LIMITS });
/** Bounds every wait for the worker's reports, per delivery. */
const SETTLE_TIMEOUT_MS = 20_000;
const TERMINAL_OUTCOMES = new Set(['succeeded', 'failed_permanent', 'missing', 'stale']);

interface Delivery {
  readonly name: string;
  readonly title: string;
  readonly maxLineBytes: number;
  /** Re-written by the fault proxy in chunks of 1..maxChunkBytes; undefined: straight from the emulator. */
  readonly maxChunkBytes?: number;
  /** Stored objects of at most this many bytes go one byte per write. */
  readonly bytewiseUpToBytes?: number;
}

const DELIVERIES: readonly Delivery[] = [
  { name: 'loopback-1k', title: 'as the emulator sends them over loopback', maxLineBytes: 1024 },
  { name: 'loopback-32k', title: 'as the emulator sends them over loopback', maxLineBytes: 32_768 },
  {
    name: 'tiny-1k',
    title: 'in seeded chunks of 1..16 bytes (objects up to 8 KiB: one byte), one write per event-loop turn',
    maxLineBytes: 1024,
    maxChunkBytes: 16,
    bytewiseUpToBytes: 8192,
  },
  { name: 'irregular-32k', title: 'in seeded chunks of 1..3000 bytes, one write per event-loop turn', maxLineBytes: 32_768, maxChunkBytes: 3000 },
];

// ---- I/O ---------------------------------------------------------------------------------------------

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An output as text: gunzipped when the input was gzip; a problem when it is not what it should be. */
function outputText(stored: Buffer | undefined, gzip: boolean, what: string, problems: string[]): string | undefined {
  if (stored === undefined) return undefined;
  let plain = stored;
  if (gzip) {
    if (stored.length < 2 || stored[0] !== 0x1f || stored[1] !== 0x8b) problems.push(`the ${what} output of a gzip input is not gzip`);
    try {
      plain = gunzipSync(stored);
    } catch (error) {
      problems.push(`the ${what} output does not gunzip: ${(error as Error).message}`);
      return undefined;
    }
  }
  try {
    return strictUtf8.decode(plain);
  } catch {
    problems.push(`the ${what} output is not valid UTF-8`);
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(plain);
  }
}

/** The sizes of the chunks each GetObject body delivered (what its socket handed the HTTP parser), by key. */
function recordBodyChunks(s3: S3Client, chunks: Map<string, number[]>): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const body = (result.output as { Body?: unknown }).Body;
      if (context.commandName === 'GetObjectCommand' && body instanceof Readable) {
        const sizes: number[] = [];
        chunks.set(String((args.input as { Key?: unknown }).Key), sizes);
        const push = body.push.bind(body);
        body.push = (chunk: unknown, encoding?: BufferEncoding) => {
          if (chunk instanceof Uint8Array) sizes.push(chunk.length);
          return push(chunk, encoding);
        };
      }
      return result;
    },
    { step: 'initialize', name: 'differentialBodyChunks' },
  );
}

// ---- reporting ---------------------------------------------------------------------------------------

function describeMismatch(mismatch: Mismatch): string {
  const where = mismatch.line === undefined ? mismatch.file : `${mismatch.file} line ${mismatch.line}`;
  const input = mismatch.input === undefined ? '' : `\n    input: ${mismatch.input}${mismatch.hex === undefined ? '' : `\n    hex:   ${mismatch.hex}`}`;
  return `  ${where}${input}\n    expected: ${mismatch.expected}\n    actual:   ${mismatch.actual}`;
}

/** Fails with every mismatch of `check`, grouped by what was expected and found, with the seed to replay. */
function expectNoMismatches(mismatches: readonly Mismatch[], check: Check): void {
  const found = mismatches.filter((mismatch) => mismatch.check === check);
  if (found.length === 0) return;
  const groups = new Map<string, Mismatch[]>();
  for (const mismatch of found) {
    const group = check === 'outcome' ? `expected ${mismatch.expected}, actual ${mismatch.actual}` : `${mismatch.expected.slice(0, 80)}`;
    groups.set(group, [...(groups.get(group) ?? []), mismatch]);
  }
  const shown = [...groups.entries()].slice(0, 30).map(([group, members]) => {
    const examples = members.slice(0, 2).map(describeMismatch).join('\n');
    return `• ${members.length} × ${group}\n${examples}`;
  });
  throw new Error(
    `${found.length} ${check} mismatch(es) with the oracle in ${groups.size} group(s); seed ${seed} (${source}); replay: ${REPRODUCE}\n\n${shown.join('\n\n')}` +
      (groups.size > 30 ? `\n\n… and ${groups.size - 30} more groups` : ''),
  );
}

// ---- the tests ---------------------------------------------------------------------------------------

/** Every delivery's decoded outputs, by MAX_LINE_BYTES and file: the same input must give the same bytes. */
const outputsByFile = new Map<string, Array<{ where: string; processed: string; rejected: string }>>();

describe(`differential line path (seed ${seed}, ${source})`, () => {
  describe('the generator and the oracle, before any worker', () => {
    it('the generated files hold every kind of nasty line, file start and file end, and most lines are processed', () => {
      const kinds = new Set(FILES.flatMap((file) => file.kinds));
      expect(allKinds(LINE_LIMITS).filter((kind) => !kinds.has(kind))).toEqual([]);
      for (const limit of LINE_LIMITS) {
        const tallies = FILES.map((file) => tallyOf(expectObject(file.bytes, oracleRules(limit))));
        const processed = tallies.reduce((sum, tally) => sum + tally.processed, 0);
        const nonBlank = tallies.reduce((sum, tally) => sum + tally.nonBlank, 0);
        expect(processed / nonBlank).toBeGreaterThan(0.5);
        for (const reason of ['invalid_json', 'not_an_object', 'missing_field', 'invalid_type', 'out_of_range', 'line_too_long']) {
          expect({ limit, reason, lines: tallies.some((tally) => (tally.rejectedByReason[reason] ?? 0) > 0) }).toEqual({ limit, reason, lines: true });
        }
      }
    });

    it('the oracle computes °F exactly on the shortest decimal, half away from zero, with no -0 and overflow as not finite', () => {
      expect(fahrenheitOf(20.025)).toEqual({ decimal: '68.05', value: 68.05 });
      expect(fahrenheitOf(20.02499999977778)).toEqual({ decimal: '68.04', value: 68.04 });
      expect(fahrenheitOf(37.775)).toEqual({ decimal: '100.00', value: 100 });
      expect(fahrenheitOf(1e307).value).toBe(1.8e307);
      expect(Object.is(fahrenheitOf(-17.78).value, 0)).toBe(true);
      expect(fahrenheitOf(-17.7778)).toEqual({ decimal: '0.00', value: 0 });
      expect(fahrenheitOf(-40.005)).toEqual({ decimal: '-40.01', value: -40.01 });
      expect(fahrenheitOf(1.7e308).value).toBe(Infinity);
    });
  });

  for (const delivery of DELIVERIES) {
    describe(`${FILES.length * 2} objects (plain and gzip) delivered ${delivery.title}, MAX_LINE_BYTES=${delivery.maxLineBytes}`, () => {
      let pipeline: StackWithWorker | undefined;
      let proxy: FaultProxy | undefined;
      const bodyChunks = new Map<string, number[]>();
      const mismatches: Mismatch[] = [];
      const inputs: Array<{ key: string; name: string; bytes: Buffer; stored: Buffer; gzip: boolean; tally?: OracleTally }> = [];

      beforeAll(async () => {
        const started = performance.now();
        const endpoint = process.env['IOT_TEST_ENDPOINT'];
        if (endpoint === undefined) throw new Error('IOT_TEST_ENDPOINT is not set: run through jest');
        for (const file of FILES) {
          for (const gzip of [false, true]) {
            const stored = gzip ? gzipSync(file.bytes) : file.bytes;
            inputs.push({ key: `${delivery.name}/${file.name}.jsonl${gzip ? '.gz' : ''}`, name: file.name, bytes: file.bytes, stored, gzip });
          }
        }
        if (delivery.maxChunkBytes !== undefined) {
          const { maxChunkBytes, bytewiseUpToBytes = 0 } = delivery;
          const storedBytes = new Map(inputs.map((input) => [input.key, input.stored.length]));
          proxy = await startFaultProxy(endpoint, (request) => {
            if (request.service !== 's3' || request.operation !== 'GetObject') return undefined;
            const bytewise = (storedBytes.get(request.key ?? '') ?? Infinity) <= bytewiseUpToBytes;
            return { kind: 'rechunk', seed: seed + request.id, maxChunkBytes: bytewise ? 1 : maxChunkBytes };
          });
        }
        pipeline = await startStackWithWorker({
          env: { MAX_LINE_BYTES: String(delivery.maxLineBytes), ...(proxy ? { AWS_ENDPOINT_URL: proxy.url } : {}) },
          prepareS3: (s3) => recordBodyChunks(s3, bodyChunks),
        });
        const { clients, resources, harness } = pipeline;

        await Promise.all(inputs.map((input) => clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: input.key, Body: input.stored }))));

        const finalReport = (key: string): FileReport | undefined =>
          harness.reports.filter((report) => report.ref.key === key && TERMINAL_OUTCOMES.has(report.outcome)).at(-1);
        await waitFor(() => Promise.resolve(inputs.every((input) => finalReport(input.key) !== undefined) ? true : undefined), {
          what: 'a final report for every object',
          timeoutMs: SETTLE_TIMEOUT_MS,
          intervalMs: 50,
        }).catch(() => undefined); // what is missing is reported per file below

        const rules = oracleRules(delivery.maxLineBytes);
        for (const input of inputs) {
          const report = finalReport(input.key) ?? harness.reports.filter((candidate) => candidate.ref.key === input.key).at(-1);
          const problems: string[] = [];
          const processed = outputText(await objectBytes(clients.s3, resources.processedBucket, input.key), input.gzip, 'processed', problems);
          const rejected = outputText(await objectBytes(clients.s3, resources.processedBucket, `rejected/${input.key}`), input.gzip, 'rejected', problems);
          const result = report?.result;
          const compared = compareFile(
            {
              name: input.key,
              object: input.bytes,
              reportOutcome: report?.outcome ?? `no report within ${SETTLE_TIMEOUT_MS} ms`,
              ...(report?.error === undefined ? {} : { reportError: report.error }),
              ...(result?.outcome === 'succeeded' ? { tally: result.tally } : {}),
              ...(processed === undefined ? {} : { processedOutput: processed }),
              ...(rejected === undefined ? {} : { rejectedOutput: rejected }),
            },
            rules,
          );
          input.tally = compared.tally;
          outputsByFile.set(`${delivery.maxLineBytes} ${input.name}`, [
            ...(outputsByFile.get(`${delivery.maxLineBytes} ${input.name}`) ?? []),
            { where: input.key, processed: processed ?? '(none)', rejected: rejected ?? '(none)' },
          ]);
          mismatches.push(...compared.mismatches);
          for (const problem of problems) mismatches.push({ check: 'file', file: input.key, expected: 'outputs as the input (gzip or not), valid UTF-8', actual: problem });
        }
        const elapsedMs = performance.now() - started;
        const lines = inputs.reduce((sum, input) => sum + (input.tally?.nonBlank ?? 0), 0);
        const processedLines = inputs.reduce((sum, input) => sum + (input.tally?.processed ?? 0), 0);
        const reads = [...bodyChunks.values()].reduce((sum, sizes) => sum + sizes.length, 0);
        process.stdout.write(
          `differential-lines [${delivery.name}] seed ${seed}: ${inputs.length} objects, ${lines} non-blank lines (${processedLines} processed by the oracle), ` +
            `${reads} body reads, ${mismatches.length} mismatches, ${Math.round(elapsedMs)} ms\n`,
        );
      }, SETTLE_TIMEOUT_MS + 20_000);

      afterAll(async () => {
        await pipeline?.stop();
        await proxy?.close();
      });

      it('every object succeeds and gets both outputs, gzip when its input was, valid UTF-8', () => {
        expect(inputs).toHaveLength(FILES.length * 2);
        expectNoMismatches(mismatches, 'file');
      });

      it('every non-blank line ends in the outcome the oracle predicts (processed, filtered, or rejected with its reason and field); blank lines in none', () => {
        expectNoMismatches(mismatches, 'outcome');
      });

      it('no line is rejected as unprocessable (the oracle never predicts it)', () => {
        expectNoMismatches(mismatches, 'unprocessable');
      });

      it('each rejected line has exactly one record with its line number, reason, field, a message, and its decoded text (the first 1024 bytes cut at a character when over-long)', () => {
        expectNoMismatches(mismatches, 'rejected-record');
      });

      it('each processed record keeps every input member as written, in order, drops the reserved keys, and ends with location_id and the exact °F (by tokens and by JSON.parse)', () => {
        expectNoMismatches(mismatches, 'processed-record');
      });

      it('both outputs keep the order of the input lines', () => {
        expectNoMismatches(mismatches, 'order');
      });

      it('per object, the reported tally equals the oracle’s and processed + filtered + rejected = the non-blank lines', () => {
        expectNoMismatches(mismatches, 'tally');
      });

      if (delivery.maxChunkBytes !== undefined) {
        const { maxChunkBytes, bytewiseUpToBytes = 0 } = delivery;
        it(`the worker's GetObject bodies arrived as the proxy wrote them: reads of 1..${maxChunkBytes} bytes${bytewiseUpToBytes > 0 ? ' (one byte for small objects)' : ''}, many per object`, () => {
          expect(proxy?.requests.filter((request) => request.fault === 'rechunk').length).toBeGreaterThanOrEqual(inputs.length);
          const problems: string[] = [];
          // Objects of a few bytes are read while the SDK still handles the response headers: not measured.
          for (const input of inputs.filter((candidate) => candidate.stored.length >= 64)) {
            const cap = input.stored.length <= bytewiseUpToBytes ? 1 : maxChunkBytes;
            const sizes = bodyChunks.get(input.key) ?? [];
            // The first chunk comes with the response headers, before the SDK hands the body over: not counted.
            const expectedReads = (input.stored.length - cap) / cap;
            // Written in separate event-loop turns, chunks arrive as separate reads; now and then two are read as one,
            // which in an object of a few chunks is half its reads: the lower median tolerates that.
            const median = [...sizes].sort((a, b) => a - b)[Math.floor((sizes.length - 1) / 2)] ?? 0;
            if (sizes.length < expectedReads / 2 || median > cap) {
              problems.push(`${input.key}: ${input.stored.length} bytes in ${sizes.length} reads, median ${median} bytes (chunks of at most ${cap})`);
            }
          }
          expect(problems).toEqual([]);
        });
      }
    });
  }

  describe('across deliveries', () => {
    it('an object gives byte-identical outputs plain or gzip and in every chunking (for one MAX_LINE_BYTES)', () => {
      expect(outputsByFile.size).toBe(FILES.length * LINE_LIMITS.length);
      const differing: string[] = [];
      for (const [file, outputs] of outputsByFile) {
        const [first, ...others] = outputs;
        for (const other of others) {
          if (first && (other.processed !== first.processed || other.rejected !== first.rejected)) differing.push(`${file}: ${other.where} differs from ${first.where}`);
        }
      }
      expect(differing).toEqual([]);
    });
  });
});
