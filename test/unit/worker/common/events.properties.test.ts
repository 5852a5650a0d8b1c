/**
 * Hostile input for the event parser, property-based: whatever an SQS message body holds,
 * parseMessageBody returns a well-formed ParsedMessage or throws a PoisonMessageError, nothing else
 * (a TypeError or RangeError would turn a poison message into retries instead of the DLQ at once).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeS3EventKey, parseMessageBody, POISON_REASONS, PoisonMessageError, type ParsedMessage } from '../../../../worker/common/events.ts';
import { OBJECT_MESSAGE_TYPE } from '../../../../worker/common/object-message.ts';

// ---- what every outcome must look like -------------------------------------------------------------

const POISON = new Set<string>(Object.values(POISON_REASONS));

function expectWellFormed(result: ParsedMessage): void {
  switch (result.kind) {
    case 'objects':
      expect(result.objects.length).toBeGreaterThan(0);
      for (const ref of result.objects) {
        expect(typeof ref.bucket === 'string' && ref.bucket.length > 0).toBe(true);
        expect(typeof ref.key === 'string' && ref.key.length > 0).toBe(true);
        if (ref.size !== undefined) expect(typeof ref.size).toBe('number');
        if (ref.eTag !== undefined) expect(typeof ref.eTag === 'string' && !ref.eTag.includes('"')).toBe(true);
        if (ref.versionId !== undefined) expect(typeof ref.versionId === 'string' && ref.versionId.length > 0).toBe(true);
      }
      return;
    case 'test-event':
      expect(result.bucket === undefined || typeof result.bucket === 'string').toBe(true);
      return;
    case 'ignored':
      expect(typeof result.reason).toBe('string');
      return;
    default:
      throw new Error(`unexpected kind in ${JSON.stringify(result)}`);
  }
}

/** 'objects' | 'test-event' | 'ignored' | 'poison:REASON' | 'crash:ErrorName: message' */
function outcomeOf(body: string | undefined): string {
  let result: ParsedMessage;
  try {
    result = parseMessageBody(body);
  } catch (error) {
    if (error instanceof PoisonMessageError && POISON.has(error.reason)) return `poison:${error.reason}`;
    return `crash:${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  }
  expectWellFormed(result);
  return result.kind;
}

function expectParsedOrPoison(body: string | undefined): void {
  expect(outcomeOf(body)).not.toMatch(/^crash:/);
}

// ---- JSON text built by hand: duplicate keys, __proto__, toString and numbers JSON.stringify never writes ----

type Node =
  | { readonly t: 'raw'; readonly text: string }
  | { readonly t: 'str'; readonly value: string }
  | { readonly t: 'arr'; readonly items: readonly Node[] }
  | { readonly t: 'obj'; readonly entries: ReadonlyArray<readonly [string, Node]> };

function serialize(node: Node): string {
  switch (node.t) {
    case 'raw':
      return node.text;
    case 'str':
      return JSON.stringify(node.value);
    case 'arr':
      return `[${node.items.map(serialize).join(',')}]`;
    case 'obj':
      return `{${node.entries.map(([key, value]) => `${JSON.stringify(key)}:${serialize(value)}`).join(',')}}`;
  }
}

const raw = (text: string): Node => ({ t: 'raw', text });
const str = (value: string): Node => ({ t: 'str', value });
/** Entries whose value is undefined are left out. */
const obj = (entries: ReadonlyArray<readonly [string, Node | undefined]>): Node => ({
  t: 'obj',
  entries: entries.flatMap(([key, value]) => (value === undefined ? [] : [[key, value] as const])),
});

const INTERESTING_KEYS = [
  'toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', 'length',
  'Records', 'eventSource', 'eventName', 's3', 'bucket', 'object', 'name', 'key', 'size', 'eTag', 'versionId',
  'Type', 'Message', 'Event', 'Bucket', 'source', 'detail-type', 'detail', 'etag', 'version-id',
  'type', 'version', 'requestContext', 'requestPayload',
];
const INTERESTING_STRINGS = [
  '', 'aws:s3', 'aws.s3', 'ObjectCreated:Put', 'ObjectCreated:', 'ObjectRemoved:Delete', 'Object Created', 'Notification',
  's3:TestEvent', OBJECT_MESSAGE_TYPE, '%', '%E0%A4%A', '%ZZ', '%ED%A0%80', '%C0%AF', '+', '"', '\u0000', '\uD800',
];
const NUMBER_TEXTS = ['0', '-0', '1', '2', '-1', '1e999', '-1e999', '1e308', '5e-324', '1.5', '123456789012345678901234567890'];

/** Any UTF-16 text, lone surrogates included. */
const anyText = fc.string({ unit: fc.oneof(fc.constantFrom('%', '+', ' ', '\uD800', '\uDC00', '"'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 24 });

const stringLeaf = fc.oneof(fc.constantFrom(...INTERESTING_STRINGS), anyText).map(str);
const leaf: fc.Arbitrary<Node> = fc.oneof(
  stringLeaf,
  fc.constantFrom('true', 'false', 'null', ...NUMBER_TEXTS).map(raw),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => raw(JSON.stringify(value))),
);
const objectKey = fc.oneof(
  { arbitrary: fc.constantFrom('toString', 'valueOf', '__proto__'), weight: 2 },
  { arbitrary: fc.constantFrom(...INTERESTING_KEYS), weight: 3 },
  { arbitrary: anyText, weight: 2 },
);

const { node: hostile } = fc.letrec<{ node: Node; arr: Node; obj: Node }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('arr'), tie('obj')),
  arr: fc.array(tie('node'), { maxLength: 4 }).map((items): Node => ({ t: 'arr', items })),
  obj: fc.array(fc.tuple(objectKey, tie('node')), { maxLength: 5 }).map((entries): Node => ({ t: 'obj', entries })),
}));

/** Mostly the expected value, sometimes anything, sometimes absent. */
function field(expected: fc.Arbitrary<Node>): fc.Arbitrary<Node | undefined> {
  return fc.oneof({ arbitrary: expected, weight: 20 }, { arbitrary: hostile, weight: 1 }, { arbitrary: fc.constant(undefined), weight: 1 });
}
const fixed = (...values: string[]) => fc.constantFrom(...values).map(str);

// ---- S3 key encodings ------------------------------------------------------------------------------

const SAFE_ASCII = /^[A-Za-z0-9\-_.~!*'()/=&,;:@$]$/;
const hex = (byte: number, lower: boolean) => {
  const text = byte.toString(16).padStart(2, '0');
  return '%' + (lower ? text : text.toUpperCase());
};

/** S3's own encoding: UTF-8, form-urlencoded (`+` for space). */
function encodeLikeS3(key: string): string {
  return [...Buffer.from(key, 'utf8')]
    .map((byte) => (byte === 0x20 ? '+' : byte < 0x80 && SAFE_ASCII.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : hex(byte, false)))
    .join('');
}

/** Every valid encoding of a key: literal or %XX / %xx per safe byte, `+` or %20 for a space, raw non-ASCII kept. */
const encodingOf = (key: string): fc.Arbitrary<string> =>
  fc.array(fc.nat(3), { minLength: [...key].length, maxLength: [...key].length }).map((choices) =>
    [...key]
      .map((character, index) => {
        const choice = choices[index] ?? 0;
        const bytes = [...Buffer.from(character, 'utf8')];
        if (character === ' ') return choice % 2 === 0 ? '+' : '%20';
        if (bytes.length > 1 && choice === 3) return character;
        if (bytes.length === 1 && SAFE_ASCII.test(character) && choice < 2) return character;
        return bytes.map((byte) => hex(byte, choice % 2 === 1)).join('');
      })
      .join(''),
  );

const wellFormedKey = fc
  .string({ unit: fc.oneof(fc.constantFrom(' ', '+', '%', '/', 'ü', '温', '🌡', '\u0000'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 30 })
  .filter((key) => !/\p{Cs}/u.test(key)); // no lone surrogates

const keyNode: fc.Arbitrary<Node> = fc.oneof(
  wellFormedKey.map((key) => str(encodeLikeS3(key))),
  wellFormedKey.chain(encodingOf).map(str),
  fc.stringMatching(/^(%[0-9A-Fa-fG]{0,2}|\+|[a-z/])*$/).map(str),
  anyText.map(str),
);

// ---- message shapes --------------------------------------------------------------------------------

const bucketName = fixed('raw', 'iot-raw', 'a');
const s3Record: fc.Arbitrary<Node> = fc
  .record({
    eventSource: field(fixed('aws:s3')),
    eventName: field(fixed('ObjectCreated:Put', 'ObjectCreated:CompleteMultipartUpload', 'ObjectRemoved:Delete', 'ObjectCreated:')),
    bucket: field(fc.record({ name: field(bucketName) }).map(({ name }) => obj([['name', name]]))),
    object: field(
      fc
        .record({
          key: field(keyNode),
          size: field(fc.constantFrom(...NUMBER_TEXTS).map(raw)),
          eTag: field(fixed('"abc"', 'abc', '""')),
          versionId: field(fixed('v1', '')),
        })
        .map(({ key, size, eTag, versionId }) => obj([['key', key], ['size', size], ['eTag', eTag], ['versionId', versionId], ['sequencer', str('0A')]])),
    ),
  })
  .chain(({ eventSource, eventName, bucket, object }) =>
    field(fc.constant(obj([['bucket', bucket], ['object', object]]))).map((s3) =>
      obj([['eventVersion', str('2.1')], ['eventSource', eventSource], ['eventName', eventName], ['s3', s3]]),
    ),
  );

const notification = field(fc.array(s3Record, { minLength: 1, maxLength: 4 }).map((items): Node => ({ t: 'arr', items }))).map((records) =>
  obj([['Records', records]]),
);

const testEvent = fc
  .record({ event: field(fixed('s3:TestEvent')), bucket: field(bucketName) })
  .map(({ event, bucket }) => obj([['Service', str('Amazon S3')], ['Event', event], ['Bucket', bucket]]));

const eventBridge = fc
  .record({
    source: field(fixed('aws.s3')),
    detailType: field(fixed('Object Created', 'Object Deleted')),
    bucket: field(fc.record({ name: field(bucketName) }).map(({ name }) => obj([['name', name]]))),
    object: field(
      fc
        .record({ key: field(keyNode), size: field(fc.constantFrom(...NUMBER_TEXTS).map(raw)), etag: field(fixed('abc')), versionId: field(fixed('v9')) })
        .map(({ key, size, etag, versionId }) => obj([['key', key], ['size', size], ['etag', etag], ['version-id', versionId]])),
    ),
  })
  .chain(({ source, detailType, bucket, object }) =>
    field(fc.constant(obj([['bucket', bucket], ['object', object]]))).map((detail) =>
      obj([['version', str('0')], ['source', source], ['detail-type', detailType], ['detail', detail]]),
    ),
  );

const objectMessage = fc
  .record({
    type: field(fixed(OBJECT_MESSAGE_TYPE)),
    version: field(fc.constantFrom('1', '2', '"1"').map(raw)),
    bucket: field(bucketName),
    key: field(fc.oneof(anyText, wellFormedKey).map(str)),
    size: field(fc.constantFrom(...NUMBER_TEXTS).map(raw)),
    eTag: field(fixed('"abc"', 'abc')),
    versionId: field(fixed('v1')),
  })
  .map(({ type, version, bucket, key, size, eTag, versionId }) =>
    obj([['type', type], ['version', version], ['bucket', bucket], ['key', key], ['size', size], ['eTag', eTag], ['versionId', versionId]]),
  );

const s3Event = fc.oneof(notification, testEvent, eventBridge, objectMessage);

const sns = (inner: Node) =>
  fc
    .record({
      type: field(fixed('Notification')),
      message: fc.oneof({ arbitrary: fc.constant(str(serialize(inner))), weight: 6 }, { arbitrary: hostile, weight: 1 }, { arbitrary: fixed('{oops', ''), weight: 1 }),
    })
    .map(({ type, message }) => obj([['Type', type], ['MessageId', str('m-1')], ['Message', message]]));

const failureDestination = (inner: Node) =>
  field(fc.constant(obj([['requestId', str('r')]]))).map((context) =>
    obj([['version', str('1.0')], ['requestContext', context], ['requestPayload', inner], ['responsePayload', obj([])]]),
  );

const envelope: fc.Arbitrary<Node> = fc.oneof(
  { arbitrary: s3Event, weight: 4 },
  { arbitrary: s3Event.chain(sns), weight: 2 },
  { arbitrary: s3Event.chain(failureDestination), weight: 2 },
  { arbitrary: s3Event.chain(sns).chain(failureDestination), weight: 1 },
  { arbitrary: s3Event.chain(failureDestination).chain(sns), weight: 1 },
  { arbitrary: s3Event.chain(sns).chain(sns), weight: 1 },
);

// ---- properties ------------------------------------------------------------------------------------

describe('parseMessageBody on hostile input (properties)', () => {

  it('returns a ParsedMessage or throws PoisonMessageError for any string body, or none', () => {
    fc.assert(fc.property(fc.option(fc.oneof(anyText, fc.string({ unit: 'binary' })), { nil: undefined }), expectParsedOrPoison), { numRuns: 500 });
  });

  it('returns a ParsedMessage or throws PoisonMessageError for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => expectParsedOrPoison(JSON.stringify(value))), { numRuns: 400 });
  });

  it('returns a ParsedMessage or throws PoisonMessageError for JSON with duplicate keys, __proto__, toString and odd numbers', () => {
    fc.assert(fc.property(hostile, (node) => expectParsedOrPoison(serialize(node))), { numRuns: 400 });
  });

  it('returns a ParsedMessage or throws PoisonMessageError for S3-event-shaped messages, direct, SNS-wrapped or in a failure record', () => {
    fc.assert(fc.property(envelope, (node) => expectParsedOrPoison(serialize(node))), { numRuns: 2000 });
  });

  it('returns every object of a well-formed notification with its key decoded exactly, direct or SNS-wrapped', () => {
    fc.assert(
      fc.property(
        fc.array(wellFormedKey.chain((key) => fc.tuple(fc.constant(key), fc.oneof(fc.constant(encodeLikeS3(key)), encodingOf(key)))), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (keys, wrapInSns) => {
          const records = keys.map(([, encoded]) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'raw' }, object: { key: encoded } } }));
          const notificationText = JSON.stringify({ Records: records });
          const body = wrapInSns ? JSON.stringify({ Type: 'Notification', Message: notificationText }) : notificationText;
          expect(parseMessageBody(body)).toStrictEqual({ kind: 'objects', objects: keys.map(([key]) => ({ bucket: 'raw', key })) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodeS3EventKey inverts every encoding of a key, and answers anything else with a key or PoisonMessageError', () => {
    fc.assert(fc.property(wellFormedKey.chain((key) => fc.tuple(fc.constant(key), encodingOf(key))), ([key, encoded]) => {
      expect(decodeS3EventKey(encoded)).toBe(key);
    }), { numRuns: 300 });
    fc.assert(
      fc.property(fc.oneof(anyText, fc.stringMatching(/^(%[0-9A-Fa-f]{0,2}|\+|.)*$/)), (encoded) => {
        try {
          expect(typeof decodeS3EventKey(encoded)).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(PoisonMessageError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---- the counterexamples, as plain tests -----------------------------------------------------------

describe('parseMessageBody on hostile input (cases)', () => {
  it('answers an EventBridge event whose detail-type is an object with a "toString" key without crashing', () => {
    const body = JSON.stringify({ source: 'aws.s3', 'detail-type': { toString: 1 }, detail: {} });
    expectParsedOrPoison(body);
  });

  it('refuses a trigger object message whose version is an object with a "toString" key as poison', () => {
    const body = JSON.stringify({ type: OBJECT_MESSAGE_TYPE, version: { toString: 'x' }, bucket: 'raw', key: 'a.jsonl' });
    expect(outcomeOf(body)).toBe('poison:invalid_record');
  });

  it('refuses failure records nested inside each other up to the SQS size limit (1 MiB) as poison, without a stack overflow', () => {
    const opening = '{"requestContext":{},"requestPayload":';
    const depth = Math.floor((1024 * 1024 - 2) / (opening.length + 1));
    const body = opening.repeat(depth) + '{}' + '}'.repeat(depth);
    expect(body.length).toBeLessThanOrEqual(1024 * 1024);
    expect(outcomeOf(body)).toMatch(/^poison:/);
  });

  it('treats an own "__proto__" key as data, not as the prototype', () => {
    expect(outcomeOf('{"__proto__":{"Records":[{"eventSource":"aws:s3"}]}}')).toBe('poison:not_an_s3_event');
  });
});
