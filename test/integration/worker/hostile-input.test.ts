/**
 * A corpus of nasty inputs, each through the whole path: PutObject into the raw bucket, the emulator's S3
 * notification, the real worker, the outputs (or the DLQ) read back. Inputs are generated here.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { FileReport } from '../../../worker/telemetry.ts';
import { readObjectText, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const S3_MAX_KEY_BYTES = 1024;

function record(fields: Record<string, unknown>): string {
  return JSON.stringify({ device_id: 'sensor-alpha', temperature: 20, humidity: 50, ...fields });
}

function jsonLines(text: string | undefined): Array<Record<string, unknown>> {
  return (text ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Non-blank lines as the contract counts them, on bytes: EF BB BF off the start of the object, split on LF,
 * nothing after a final LF, blank = only space, tab and CR. (String.prototype.trim() would also take
 * \v, \f, NBSP and U+3000 for blank, which the contract does not.)
 */
function nonBlankLines(bytes: Buffer): number {
  const body = bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? bytes.subarray(3) : bytes;
  let count = 0;
  for (let start = 0; start < body.length; ) {
    const newline = body.indexOf(0x0a, start);
    const end = newline === -1 ? body.length : newline;
    if (body.subarray(start, end).some((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0d)) count += 1;
    start = end + 1;
  }
  return count;
}

/** A key of exactly `bytes` UTF-8 bytes, with spaces, `+`, `%` and non-ASCII characters in it. */
function keyOfBytes(bytes: number): string {
  let key = 'long key/+%/ü温/';
  while (Buffer.byteLength(key) + Buffer.byteLength('温 + %ü') + 6 <= bytes) key += '温 + %ü';
  key += 'x'.repeat(bytes - 6 - Buffer.byteLength(key)) + '.jsonl';
  return key;
}

/** What one pipeline offers the tests: put, wait for the outcome, read back, watch the DLQ. */
function helpers(pipeline: () => StackWithWorker) {
  const deadLetters: Message[] = [];
  const keyOf = (message: Message): string | undefined => {
    try {
      const encoded = (JSON.parse(message.Body ?? '') as { Records?: Array<{ s3?: { object?: { key?: string } } }> }).Records?.[0]?.s3?.object?.key;
      return encoded === undefined ? undefined : decodeURIComponent(encoded.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  };
  return {
    async put(key: string, body: string | Buffer): Promise<void> {
      const { clients, resources } = pipeline();
      await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: body }));
    },
    outcomeOf(key: string, timeoutMs = 20_000): Promise<FileReport> {
      return pipeline().harness.waitForReport((report) => report.ref.key === key, `the outcome of ${JSON.stringify(key)}`, timeoutMs);
    },
    reportsOf(key: string): FileReport[] {
      return pipeline().harness.reports.filter((report) => report.ref.key === key);
    },
    processed(key: string): Promise<string | undefined> {
      const { clients, resources } = pipeline();
      return readObjectText(clients.s3, resources.processedBucket, key);
    },
    rejected(key: string): Promise<string | undefined> {
      const { clients, resources } = pipeline();
      return readObjectText(clients.s3, resources.processedBucket, `rejected/${key}`);
    },
    async exists(key: string): Promise<boolean> {
      const { clients, resources } = pipeline();
      return clients.s3.send(new HeadObjectCommand({ Bucket: resources.processedBucket, Key: key })).then(
        () => true,
        (error: { name?: string }) => {
          if (error.name === 'NotFound' || error.name === 'NoSuchKey') return false;
          throw error;
        },
      );
    },
    /** The DLQ message announcing `key`; every DLQ message received is kept. */
    deadLetterOf(key: string, timeoutMs = 25_000): Promise<Message> {
      const { clients, resources } = pipeline();
      return waitFor(
        async () => {
          const { Messages = [] } = await clients.sqs.send(
            new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
          );
          for (const message of Messages) {
            deadLetters.push(message);
            await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: resources.dlqUrl, ReceiptHandle: message.ReceiptHandle }));
          }
          return deadLetters.find((message) => keyOf(message) === key);
        },
        { what: `the DLQ message of ${JSON.stringify(key)}`, timeoutMs },
      );
    },
  };
}

const reasonOf = (message: Message) => message.MessageAttributes?.['ingest-failure-reason']?.StringValue;

function tallyOf(report: FileReport) {
  expect(report.outcome).toBe('succeeded');
  return report.result?.outcome === 'succeeded' ? report.result.tally : undefined;
}

const TALLY_ZERO = { processed: 0, filtered: 0, rejected: 0, rejectedByReason: {}, unknownDevices: 0 };

// ---------------------------------------------------------------------------------------------------

describe('hostile input through the real worker', () => {
  let pipeline: StackWithWorker;
  const io = helpers(() => pipeline);

  /** [command, key] of every S3 call the worker makes. */
  const workerCalls: Array<[string, unknown]> = [];

  beforeAll(async () => {
    pipeline = await startStackWithWorker({
      prepareS3: (s3) =>
        s3.middlewareStack.add(
          (next, context) => (args) => {
            workerCalls.push([context.commandName ?? '?', (args.input as { Key?: unknown }).Key]);
            return next(args);
          },
          { step: 'initialize', name: 'recordCalls' },
        ),
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  describe('encodings and line ends', () => {
    it('tolerates a leading BOM and CRLF; a BOM on a later line is invalid JSON; a lone CR does not end a line', async () => {
      const body = [
        '\uFEFF' + record({ device_id: 'sensor-alpha', temperature: 20 }),
        record({ device_id: 'sensor-beta', temperature: 25 }),
        '\uFEFF' + record({ device_id: 'sensor-gamma', temperature: 30 }),
        record({ temperature: 21 }) + '\r' + record({ temperature: 22 }),
        '',
      ].join('\r\n');
      await io.put('hostile/bom-crlf.jsonl', body);

      expect(tallyOf(await io.outcomeOf('hostile/bom-crlf.jsonl'))).toEqual({ ...TALLY_ZERO, processed: 2, rejected: 2, rejectedByReason: { invalid_json: 2 } });
      expect(jsonLines(await io.processed('hostile/bom-crlf.jsonl')).map((out) => [out.device_id, out.temp_fahrenheit])).toEqual([
        ['sensor-alpha', 68],
        ['sensor-beta', 77],
      ]);
      expect(jsonLines(await io.rejected('hostile/bom-crlf.jsonl')).map(({ line, reason, text }) => ({ line, reason, text }))).toEqual([
        { line: 3, reason: 'invalid_json', text: '\uFEFF' + record({ device_id: 'sensor-gamma', temperature: 30 }) },
        { line: 4, reason: 'invalid_json', text: record({ temperature: 21 }) + '\r' + record({ temperature: 22 }) },
      ]);
    });

    it('decodes invalid UTF-8 as U+FFFD: inside a string value the record is processed, outside it the line is invalid JSON', async () => {
      const bad = Buffer.from([0xff, 0xfe]);
      const body = Buffer.concat([
        Buffer.from('{"device_id":"sensor-'), bad, Buffer.from('","temperature":20,"humidity":50}\n'),
        Buffer.from('{"device_id":"sensor-alpha",'), bad, Buffer.from('"temperature":20,"humidity":50}\n'),
        bad, Buffer.from('\n'),
        Buffer.from(record({ device_id: 'sensor-beta' }) + '\n'),
      ]);
      await io.put('hostile/invalid-utf8.jsonl', body);

      expect(tallyOf(await io.outcomeOf('hostile/invalid-utf8.jsonl'))).toEqual({
        ...TALLY_ZERO, processed: 2, rejected: 2, rejectedByReason: { invalid_json: 2 }, unknownDevices: 1,
      });
      expect(jsonLines(await io.processed('hostile/invalid-utf8.jsonl')).map((out) => [out.device_id, out.location_id])).toEqual([
        ['sensor-\uFFFD\uFFFD', 'unknown'],
        ['sensor-beta', 'loc-warehouse-b'],
      ]);
      expect(jsonLines(await io.rejected('hostile/invalid-utf8.jsonl')).map(({ line, reason, text }) => ({ line, reason, text }))).toEqual([
        { line: 2, reason: 'invalid_json', text: '{"device_id":"sensor-alpha",\uFFFD\uFFFD"temperature":20,"humidity":50}' },
        { line: 3, reason: 'invalid_json', text: '\uFFFD\uFFFD' },
      ]);
    });

    it('rejects every non-blank line of a UTF-16 file (with its FF FE byte order mark) as invalid JSON', async () => {
      const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${record({})}\n${record({})}\n`, 'utf16le')]);
      await io.put('hostile/utf16.jsonl', body);

      const tally = tallyOf(await io.outcomeOf('hostile/utf16.jsonl'));
      expect(tally).toEqual({ ...TALLY_ZERO, rejected: nonBlankLines(body), rejectedByReason: { invalid_json: nonBlankLines(body) } });
      expect(await io.processed('hostile/utf16.jsonl')).toBe('');
    });
  });

  describe('one 10 MB line', () => {
    it('is rejected as line_too_long with its line number and its first 1024 bytes, and the next line is still processed', async () => {
      const huge = record({ note: 'x'.repeat(10_000_000) });
      await io.put('hostile/huge-line.jsonl', `${record({})}\n${huge}\n${record({ device_id: 'sensor-beta' })}\n`);

      expect(tallyOf(await io.outcomeOf('hostile/huge-line.jsonl', 30_000))).toEqual({
        ...TALLY_ZERO, processed: 2, rejected: 1, rejectedByReason: { line_too_long: 1 },
      });
      expect(jsonLines(await io.processed('hostile/huge-line.jsonl')).map((out) => out.device_id)).toEqual(['sensor-alpha', 'sensor-beta']);
      expect(jsonLines(await io.rejected('hostile/huge-line.jsonl'))).toEqual([
        {
          line: 2,
          reason: 'line_too_long',
          message: `the line is ${huge.length} bytes; text holds its first 1024`,
          text: huge.slice(0, 1024),
        },
      ]);
    });
  });

  describe('values', () => {
    // [line text, outcome]: 'processed' (with the checks given), 'filtered', or `rejected:reason[:field]`.
    const cases: ReadonlyArray<readonly [string, string, Record<string, unknown>?]> = [
      ['{"device_id":"sensor-alpha","temperature":NaN,"humidity":50}', 'rejected:invalid_json'],
      ['{"device_id":"sensor-alpha","temperature":Infinity,"humidity":50}', 'rejected:invalid_json'],
      ['{"device_id":"sensor-alpha","temperature":-Infinity,"humidity":50}', 'rejected:invalid_json'],
      ['{"device_id":"sensor-alpha","temperature":"20.5","humidity":50}', 'rejected:invalid_type:temperature'],
      ['{"device_id":"sensor-alpha","temperature":20.5,"humidity":"50"}', 'rejected:invalid_type:humidity'],
      ['{"device_id":"sensor-alpha","temperature":{"value":20,"unit":"C"},"humidity":50}', 'rejected:invalid_type:temperature'],
      ['{"device_id":{"id":"sensor-alpha"},"temperature":20,"humidity":50}', 'rejected:invalid_type:device_id'],
      ['{"device_id":"sensor-alpha","temperature":[20],"humidity":50}', 'rejected:invalid_type:temperature'],
      ['{"device_id":"sensor-alpha","temperature":5,"humidity":50,"temperature":25}', 'processed', { temperature: 25, temp_fahrenheit: 77 }],
      ['{"device_id":"sensor-alpha","temperature":25,"humidity":50,"temperature":5}', 'filtered'],
      ['{"device_id":"sensor-alpha","temperature":25,"humidity":50,"humidity":150}', 'rejected:out_of_range:humidity'],
      ['{"device_id":"sensor-alpha","temperature":25,"humidity":50,"device_id":"sensor-beta"}', 'processed', { device_id: 'sensor-beta', location_id: 'loc-warehouse-b' }],
      ['{"device_id":"sensor-alpha","temperature":1e309,"humidity":50}', 'rejected:out_of_range:temperature'],
      ['{"device_id":"sensor-alpha","temperature":20,"humidity":-1e309}', 'rejected:out_of_range:humidity'],
      ['{"device_id":"sensor-alpha","temperature":5e-324,"humidity":50}', 'filtered'],
      ['{"device_id":"sensor-alpha","temperature":20,"humidity":5e-324}', 'processed', { humidity: 5e-324, temp_fahrenheit: 68 }],
      ['{"device_id":"sensor-alpha","temperature":20,"humidity":50,"meta":{"a":[1,{"b":null}],"c":{"d":{}}}}', 'processed', { meta: { a: [1, { b: null }], c: { d: {} } } }],
      // 1e308 °C is 1.8e308 °F, past the largest double: it cannot be converted, so it is out of range.
      ['{"device_id":"sensor-alpha","temperature":1e308,"humidity":50}', 'rejected:out_of_range:temperature'],
      // °F on the decimal as written, half away from zero: just under a half rounds down, a half up.
      ['{"device_id":"sensor-alpha","temperature":20.02499999977778,"humidity":50}', 'processed', { temp_fahrenheit: 68.04 }],
      ['{"device_id":"sensor-alpha","temperature":20.025,"humidity":50}', 'processed', { temp_fahrenheit: 68.05 }],
      // An intermediate ×100 would overflow; the °F value itself is finite.
      ['{"device_id":"sensor-alpha","temperature":1e307,"humidity":50}', 'processed', { temp_fahrenheit: 1.8e307 }],
      // device_id is any non-empty string.
      ['{"device_id":" ","temperature":20,"humidity":50}', 'processed', { device_id: ' ', location_id: 'unknown' }],
      ['{"device_id":"\u3000","temperature":20,"humidity":50}', 'processed', { device_id: '\u3000', location_id: 'unknown' }],
    ];
    const key = 'hostile/values.jsonl';
    let report: FileReport;
    let processed: Array<Record<string, unknown>>;
    let rejected: Array<Record<string, unknown>>;

    beforeAll(async () => {
      await io.put(key, cases.map(([text]) => text).join('\n') + '\n');
      report = await io.outcomeOf(key);
      processed = jsonLines(await io.processed(key));
      rejected = jsonLines(await io.rejected(key));
    });

    it.each(cases.map(([text, outcome, checks], index) => [index + 1, outcome, text, checks] as const))('line %d: %s (%s)', (line, outcome, text, checks) => {
      expect(report.outcome).toBe('succeeded');
      const [kind, reason, field] = outcome.split(':');
      const rejection = rejected.find((candidate) => candidate.line === line);
      const processedBefore = cases.slice(0, line - 1).filter(([, earlier]) => earlier === 'processed').length;
      if (kind === 'rejected') {
        expect(rejection).toEqual({ line, reason, ...(field === undefined ? {} : { field }), message: expect.any(String), text });
        return;
      }
      expect(rejection).toBeUndefined();
      if (kind === 'processed') {
        const output = processed[processedBefore];
        expect(output).toMatchObject({ location_id: expect.any(String), temp_fahrenheit: expect.any(Number), ...checks });
        expect(Object.keys(output ?? {})).toEqual([...Object.keys(JSON.parse(text) as object), 'location_id', 'temp_fahrenheit']);
      }
    });

    it('accounts for every line exactly once', () => {
      const tally = tallyOf(report);
      const count = (kind: string) => cases.filter(([, outcome]) => outcome.startsWith(kind)).length;
      expect(tally && [tally.processed, tally.filtered, tally.rejected]).toEqual([count('processed'), count('filtered'), count('rejected')]);
      expect(processed.every((output) => Number.isFinite(output.temp_fahrenheit))).toBe(true);
    });
  });

  describe('lines that once failed their whole file or vanished uncounted', () => {
    it('keeps a member nested 5,000 levels deep, and an integer past 2^53, as written in a record that had a field to replace', async () => {
      const deep = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
      const lines = [
        record({ device_id: 'sensor-beta' }),
        `{"device_id":"sensor-alpha","temperature":20,"humidity":50,"deep":${deep},"location_id":"mine"}`,
        '{"device_id":"sensor-alpha","temperature":20.0,"humidity":50,"serial":12345678901234567890,"temp_fahrenheit":0}',
        record({ device_id: 'sensor-gamma' }),
      ];
      await io.put('hostile/reserved-fields.jsonl', lines.join('\n') + '\n');

      expect(tallyOf(await io.outcomeOf('hostile/reserved-fields.jsonl'))).toEqual({ ...TALLY_ZERO, processed: 4 });
      const output = (await io.processed('hostile/reserved-fields.jsonl'))?.split('\n');
      expect(output?.[1]).toBe(`{"device_id":"sensor-alpha","temperature":20,"humidity":50,"deep":${deep},"location_id":"loc-warehouse-a","temp_fahrenheit":68}`);
      expect(output?.[2]).toBe('{"device_id":"sensor-alpha","temperature":20.0,"humidity":50,"serial":12345678901234567890,"location_id":"loc-warehouse-a","temp_fahrenheit":68}');
      expect(await io.rejected('hostile/reserved-fields.jsonl')).toBe('');
    });

    it.each([
      ['a stray EF', [0xef]],
      ['a space then BB', [0x20, 0xbb]],
    ])('rejects an over-long line that starts with %s then spaces as line_too_long, never as blank', async (_what, start) => {
      const key = `hostile/overlong-${start.join('-')}.jsonl`;
      const overlong = Buffer.concat([Buffer.from(start), Buffer.alloc(1024 * 1024 + 10, ' ')]);
      await io.put(key, Buffer.concat([overlong, Buffer.from(`\n${record({})}\n`)]));

      expect(tallyOf(await io.outcomeOf(key))).toEqual({ ...TALLY_ZERO, processed: 1, rejected: 1, rejectedByReason: { line_too_long: 1 } });
      expect(jsonLines(await io.rejected(key))).toEqual([
        { line: 1, reason: 'line_too_long', message: expect.any(String), text: overlong.subarray(0, 1024).toString('utf8') },
      ]);
    });

    it('does not count the BOM toward line 1: a line of exactly MAX_LINE_BYTES after a BOM is processed', async () => {
      const base = record({});
      const exact = `${base.slice(0, -1)},"pad":"${'x'.repeat(1024 * 1024 - base.length - 9)}"}`;
      expect(Buffer.byteLength(exact)).toBe(1024 * 1024);
      await io.put('hostile/bom-exact-limit.jsonl', `\uFEFF${exact}\n`);

      expect(tallyOf(await io.outcomeOf('hostile/bom-exact-limit.jsonl'))).toEqual({ ...TALLY_ZERO, processed: 1 });
    });
  });

  describe('files with nothing in them', () => {
    it('writes both outputs, empty, for an empty file', async () => {
      await io.put('hostile/empty.jsonl', '');

      expect(tallyOf(await io.outcomeOf('hostile/empty.jsonl'))).toEqual(TALLY_ZERO);
      expect(await io.processed('hostile/empty.jsonl')).toBe('');
      expect(await io.rejected('hostile/empty.jsonl')).toBe('');
    });

    it('writes both outputs, empty, for a file of blank lines only (spaces, tabs, CRLF: JSON whitespace)', async () => {
      await io.put('hostile/blank.jsonl', '\n\n   \r\n\t\n\r\n \t \n   ');

      expect(tallyOf(await io.outcomeOf('hostile/blank.jsonl'))).toEqual(TALLY_ZERO);
      expect(await io.processed('hostile/blank.jsonl')).toBe('');
      expect(await io.rejected('hostile/blank.jsonl')).toBe('');
    });

    it('rejects lines of other Unicode spaces (NBSP, ideographic space, a BOM after line 1) as invalid_json, since JSON does not count them as whitespace', async () => {
      await io.put('hostile/unicode-spaces.jsonl', '\n\u00A0\u3000\n\uFEFF\n');

      expect(tallyOf(await io.outcomeOf('hostile/unicode-spaces.jsonl'))).toEqual({
        ...TALLY_ZERO,
        rejected: 2,
        rejectedByReason: { invalid_json: 2 },
      });
      expect(jsonLines(await io.rejected('hostile/unicode-spaces.jsonl')).map((line) => [line.line, line.reason])).toEqual([
        [2, 'invalid_json'],
        [3, 'invalid_json'],
      ]);
    });
  });

  describe('broken gzip', () => {
    const lines = (count: number) => `${record({})}\n`.repeat(count);

    it.each([
      ['truncated (cut in half)', 'hostile/truncated.jsonl.gz', () => { const gz = gzipSync(lines(1000)); return gz.subarray(0, gz.length >> 1); }],
      ['corrupt (gzip magic, then garbage)', 'hostile/garbage-after-magic.jsonl', () => Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(4096)])],
      ['corrupt (CRC trailer wrong, after more than a part of output was uploaded)', 'hostile/bad-crc.jsonl.gz', () => {
        // Random notes keep the gzip output over one 5 MiB part, so a multipart upload is under way when the CRC fails.
        const body = Array.from({ length: 90_000 }, () => `${record({ note: randomBytes(100).toString('base64') })}\n`).join('');
        const gz = Buffer.from(gzipSync(body));
        gz[gz.length - 8] = (gz[gz.length - 8] as number) ^ 0xff;
        return gz;
      }],
    ])('sends a %s file to the DLQ at once as corrupt_gzip, leaving no output', async (_what, key, body) => {
      await io.put(key, body());

      const dead = await io.deadLetterOf(key);
      expect(reasonOf(dead)).toBe('corrupt_gzip');
      expect(io.reportsOf(key).map((report) => report.outcome)).toEqual(['failed_permanent']);
      expect({ processed: await io.exists(key), rejected: await io.exists(`rejected/${key}`) }).toEqual({ processed: false, rejected: false });
      if (key === 'hostile/bad-crc.jsonl.gz') expect(workerCalls).toContainEqual(['UploadPartCommand', key]);
    });
  });

  describe('a binary file', () => {
    it('rejects every non-blank line of 256 KiB of random bytes, and nothing crashes', async () => {
      const body = randomBytes(256 * 1024);
      body[0] = 0x00; // not the gzip magic
      await io.put('hostile/random.bin', body);

      const tally = tallyOf(await io.outcomeOf('hostile/random.bin'));
      expect(tally && [tally.processed, tally.filtered, tally.rejected]).toEqual([0, 0, nonBlankLines(body)]);
      const rejected = jsonLines(await io.rejected('hostile/random.bin'));
      expect(rejected).toHaveLength(nonBlankLines(body));
      expect(rejected.every((line, index) => index === 0 || (line.line as number) > (rejected[index - 1]?.line as number))).toBe(true);
      expect(await io.processed('hostile/random.bin')).toBe('');
    });
  });

  describe('keys', () => {
    const keys = [
      'hostile keys/with space.jsonl',
      'hostile keys/a+b=c.jsonl',
      'hostile keys/100%.jsonl',
      'hostile keys/%41%2B%20 already-encoded.jsonl',
      'hostile keys/+ +%20+.jsonl',
      'hostile keys/ünï cødé/温度 🌡️ ✓.jsonl',
      // The longest raw key whose outputs fit S3's limit with the default prefixes: rejected/ + key.
      keyOfBytes(S3_MAX_KEY_BYTES - Buffer.byteLength('rejected/')),
    ];

    it.each(keys.map((key) => [Buffer.byteLength(key), key] as const))('processes the %d-byte key %j under the exact same key', async (_bytes, key) => {
      expect(Buffer.byteLength(key)).toBeLessThanOrEqual(S3_MAX_KEY_BYTES);
      await io.put(key, `${record({})}\n`);

      expect(tallyOf(await io.outcomeOf(key))).toEqual({ ...TALLY_ZERO, processed: 1 });
      expect(jsonLines(await io.processed(key))).toHaveLength(1);
    });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('a 1,024-byte key, with the local stack refusing keys over 1,024 bytes as S3 does (rejected/ + key is 1,033 bytes)', () => {
  let pipeline: StackWithWorker;
  const io = helpers(() => pipeline);
  const key = keyOfBytes(S3_MAX_KEY_BYTES);
  let dead: Message | undefined;

  beforeAll(async () => {
    pipeline = await startStackWithWorker({ maxReceiveCount: 3 });
    await io.put(key, `${record({})}\n{"oops"\n`);
    dead = await io.deadLetterOf(key).catch(() => undefined);
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('does not crash the worker or loop: the message ends in the DLQ, not silently lost', async () => {
    expect(dead).toBeDefined();
    expect(pipeline.harness.reports.filter((report) => report.ref.key === key).length).toBeGreaterThan(0);
    const response = await fetch(`${pipeline.harness.worker.httpAddress}/healthz`).catch(() => undefined);
    expect(response?.status).toBe(200);
  });

  it('fails at once as a permanent failure, since the rejected output key can never be written', () => {
    expect(io.reportsOf(key).map((report) => report.outcome)).toEqual(['failed_permanent']);
    expect(dead && reasonOf(dead)).toEqual(expect.any(String));
  });

  it('leaves no output behind: the processed object does not appear without its rejected lines', async () => {
    expect(await io.exists(key)).toBe(false);
  });
});
