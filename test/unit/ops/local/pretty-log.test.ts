import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { formatLogLine, prettyDestination, resolveLogFormat, useColor } from '../../../../ops/local/pretty-log.ts';

/** 12:03:04.123 in this machine's time zone, as the formatter shows local time. */
const AT = new Date(2025, 6, 11, 12, 3, 4, 123).getTime();
const plain = { color: false };
const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: AT, pid: 7, hostname: 'h', service: 'iot-ingest-worker', ...fields });

describe('formatLogLine', () => {
  it('shows a processed file as time, level, message, where, the three counts, the reject reasons and the duration', () => {
    const text = line({
      msg: 'file processed',
      bucket: 'iot-raw',
      key: 'samples/sample_outcomes.jsonl',
      outcome: 'succeeded',
      durationMs: 21,
      records: { processed: 2, filtered: 1, rejected: 3 },
      rejectedByReason: { invalid_json: 1, missing_field: 1, invalid_type: 1 },
      unknownDevices: 1,
      bytesRead: 700,
      bytesWritten: { processed: 411, rejected: 721 },
      gzip: false,
      outputs: { processed: [{ bucket: 'iot-processed', key: 'samples/sample_outcomes.jsonl', bytes: 411 }] },
    });

    expect(formatLogLine(text, plain)).toBe(
      '12:03:04.123 INFO  file processed  s3://iot-raw/samples/sample_outcomes.jsonl  2 processed, 1 filtered, 3 rejected' +
        '  (invalid_json 1, missing_field 1, invalid_type 1)  21 ms  unknownDevices=1',
    );
  });

  it('leaves out what says nothing: no reject reasons, no unknown devices, the succeeded outcome', () => {
    const text = line({
      msg: 'file processed',
      bucket: 'iot-raw',
      key: 'a.jsonl',
      outcome: 'succeeded',
      durationMs: 3,
      records: { processed: 5, filtered: 0, rejected: 0 },
      rejectedByReason: {},
      unknownDevices: 0,
    });

    expect(formatLogLine(text, plain)).toBe('12:03:04.123 INFO  file processed  s3://iot-raw/a.jsonl  5 processed, 0 filtered, 0 rejected  3 ms');
  });

  it('shows any other field as name=value, quoting text with spaces, and the error last', () => {
    const text = line({ level: 40, msg: 'message failed', messageId: 'm-1', receiveCount: 2, detail: 'a b', err: 'socket hang up', tags: ['x', 'y'] });

    expect(formatLogLine(text, plain)).toBe('12:03:04.123 WARN  message failed  messageId=m-1  receiveCount=2  detail="a b"  tags=x,y  error: socket hang up');
  });

  it('shows the message of a serialized Error and a failed file with its outcome', () => {
    const text = line({ level: 50, msg: 'file failed', bucket: 'b', key: 'k', outcome: 'failed_transient', durationMs: 9, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } });

    expect(formatLogLine(text, plain)).toBe('12:03:04.123 ERROR file failed  s3://b/k  outcome=failed_transient  9 ms  error: boom');
  });

  it('keeps a line that is not a JSON object as it is', () => {
    expect(formatLogLine('not json {', plain)).toBe('not json {');
    expect(formatLogLine('[1,2]', plain)).toBe('[1,2]');
  });

  it('colours the time and the level only when asked', () => {
    const coloured = formatLogLine(line({ level: 50, msg: 'cannot receive' }), { color: true });

    expect(coloured).toBe('\u001b[2m12:03:04.123\u001b[0m \u001b[31mERROR\u001b[0m cannot receive');
    expect(formatLogLine(line({ level: 50, msg: 'cannot receive' }), plain)).not.toContain('\u001b');
  });
});

describe('prettyDestination', () => {
  it('turns what pino writes into one readable line per event', () => {
    const written: string[] = [];
    const logger = pino({ base: { service: 'iot-ingest-worker' } }, prettyDestination({ write: (text: string) => written.push(text) }, plain));

    logger.info({ devices: 3, source: 'builtin' }, 'device registry loaded');
    logger.warn('grace period over');

    expect(written).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}device registry loaded {2}devices=3 {2}source=builtin\n$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}grace period over\n$/),
    ]);
  });

  it('formats each line of a chunk that holds several', () => {
    const written: string[] = [];
    prettyDestination({ write: (text: string) => written.push(text) }, plain).write(`${line({ msg: 'a' })}\n${line({ msg: 'b' })}\n`);

    expect(written).toEqual(['12:03:04.123 INFO  a\n12:03:04.123 INFO  b\n']);
  });
});

describe('choosing the format', () => {
  it.each([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('LOG_FORMAT=%s with a terminal %s: %s', (setting, terminal, format) => {
    expect(resolveLogFormat(setting, terminal)).toBe(format);
  });

  it('colours a terminal unless NO_COLOR is set, and never a pipe', () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(true, { NO_COLOR: '' })).toBe(true);
    expect(useColor(false, {})).toBe(false);
  });
});
