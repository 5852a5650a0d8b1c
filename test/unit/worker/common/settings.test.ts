import { describe, it, expect } from '@jest/globals';
import {
  ConfigError,
  finiteNumber,
  httpUrl,
  itemList,
  keyPrefix,
  oneOf,
  portNumber,
  readSettings,
  setting,
  text,
  trueOrFalse,
  wholeNumber,
  type Environment,
  type Setting,
} from '../../../../worker/common/settings.ts';

function errorOf(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function messageFor<T>(declared: Setting<T>, env: Environment): string {
  return errorOf(() => declared.read(env)).message;
}

describe('setting presence', () => {
  const port = wholeNumber({ min: 1, max: 9 });

  it('takes the default when the variable is unset, empty or blank', () => {
    const declared = setting('N', port, { default: 5 });
    expect([declared.read({}), declared.read({ N: '' }), declared.read({ N: '  ' }), declared.read({ N: ' 7 ' })]).toEqual([5, 5, 5, 7]);
  });

  it('leaves an optional setting undefined when unset', () => {
    expect(setting('N', port).read({})).toBeUndefined();
  });

  it('says a required variable is not set, with what it must be', () => {
    const declared = setting('N', port, { required: true });
    expect(messageFor(declared, { N: ' ' })).toBe('N must be a whole number from 1 to 9; it is not set');
  });

  it('reads a fallback variable when the variable is unset, and names the one that was bad', () => {
    const region = setting('AWS_REGION', text('a region'), { required: true, fallbackVariable: 'AWS_DEFAULT_REGION' });
    expect(region.read({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' })).toBe('eu-west-1');
    expect(region.read({ AWS_REGION: '', AWS_DEFAULT_REGION: 'us-west-2' })).toBe('us-west-2');
    expect(errorOf(() => region.read({})).variable).toBe('AWS_REGION');
    const url = setting('PRIMARY', httpUrl('a URL'), { required: true, fallbackVariable: 'SECONDARY' });
    expect(errorOf(() => url.read({ SECONDARY: 'nope' })).variable).toBe('SECONDARY');
  });
});

describe('kinds', () => {
  it('wholeNumber: digits within the range, its unit and note in the message', () => {
    const declared = setting('GRACE_SECONDS', wholeNumber({ min: 0, max: 60, unit: 'seconds', note: '0 = never' }), { default: 25 });
    expect(declared.read({ GRACE_SECONDS: '0' })).toBe(0);
    expect(declared.read({ GRACE_SECONDS: '60' })).toBe(60);
    for (const bad of ['61', '-1', '1.5', '1e1', '0x10', 'ten']) {
      expect(messageFor(declared, { GRACE_SECONDS: bad })).toBe(`GRACE_SECONDS must be a whole number of seconds (0 = never) from 0 to 60; got ${JSON.stringify(bad)}`);
    }
  });

  it('portNumber: 0 to 65535, or from 1 where the port is connected to', () => {
    expect(setting('P', portNumber(0), { default: 1 }).read({ P: '0' })).toBe(0);
    expect(messageFor(setting('P', portNumber(1), { default: 1 }), { P: '0' })).toBe('P must be a port number from 1 to 65535; got "0"');
    expect(messageFor(setting('P', portNumber(0), { default: 1 }), { P: '65536' })).toBe('P must be a port number from 0 to 65535; got "65536"');
  });

  it('finiteNumber: any finite number, not NaN or Infinity', () => {
    const declared = setting('T', finiteNumber(), { default: 10 });
    expect([declared.read({ T: '-2.5' }), declared.read({ T: '1e2' })]).toEqual([-2.5, 100]);
    expect(messageFor(declared, { T: 'Infinity' })).toBe('T must be a finite number; got "Infinity"');
    expect(messageFor(declared, { T: 'warm' })).toBe('T must be a finite number; got "warm"');
  });

  it('trueOrFalse: true/false or 1/0 in any case, and nothing an object inherits', () => {
    const declared = setting('B', trueOrFalse(), { default: false });
    expect(['TRUE', 'true', '1', 'False', '0'].map((value) => declared.read({ B: value }))).toEqual([true, true, true, false, false]);
    expect(messageFor(declared, { B: 'yes' })).toBe('B must be "true" or "false"; got "yes"');
    expect(messageFor(declared, { B: 'constructor' })).toBe('B must be "true" or "false"; got "constructor"');
  });

  it('oneOf: exactly one of the allowed values', () => {
    const declared = setting('LEVEL', oneOf(['info', 'debug'] as const), { default: 'info' });
    expect(declared.read({ LEVEL: 'debug' })).toBe('debug');
    expect(messageFor(declared, { LEVEL: 'DEBUG' })).toBe('LEVEL must be one of info, debug; got "DEBUG"');
  });

  it('httpUrl: absolute http(s) URLs only, and the value given is redacted in the message', () => {
    const declared = setting('U', httpUrl('an http(s) URL'));
    expect(declared.read({ U: 'https://sqs.eu-west-1.amazonaws.com/1/q' })).toBe('https://sqs.eu-west-1.amazonaws.com/1/q');
    expect(messageFor(declared, { U: 'localhost:4566' })).toBe('U must be an http(s) URL; got "localhost:4566"');
    expect(messageFor(declared, { U: 'ftp://user:secret@host/x?token=abc' })).toBe('U must be an http(s) URL; got "ftp://user:***@host/x?…"');
  });

  it('keyPrefix: keeps an empty value and reads the text untrimmed, refuses a leading slash', () => {
    const declared = setting('PREFIX', keyPrefix(), { default: 'out/' });
    expect([declared.read({}), declared.read({ PREFIX: '' }), declared.read({ PREFIX: ' a/' })]).toEqual(['out/', '', ' a/']);
    expect(messageFor(declared, { PREFIX: '/out/' })).toBe('PREFIX must be an S3 key prefix that does not start with "/"; got "/out/"');
  });

  it('itemList: trimmed items without repeats, none empty or with spaces', () => {
    const declared = setting('SUFFIXES', itemList('suffixes'), { default: ['.jsonl'] });
    expect(declared.read({ SUFFIXES: '.csv, .jsonl ,.csv' })).toEqual(['.csv', '.jsonl']);
    for (const bad of [',', '.jsonl,', '.a,,.b', '.json l']) {
      expect(errorOf(() => declared.read({ SUFFIXES: bad })).message).toBe(`SUFFIXES must be suffixes; got ${JSON.stringify(bad)}`);
    }
  });
});

describe('readSettings', () => {
  const table = {
    name: setting('NAME', text('a name'), { required: true }),
    limits: {
      lines: setting('MAX_LINES', wholeNumber({ min: 1, max: 100 }), { default: 10 }),
      bytes: setting('MAX_BYTES', wholeNumber({ min: 1, max: 100, unit: 'bytes' })),
    },
  } as const;

  it('reads a table of settings into an object of the same shape', () => {
    expect(readSettings({ NAME: 'a', MAX_BYTES: '7' }, table)).toStrictEqual({ name: 'a', limits: { lines: 10, bytes: 7 } });
  });

  it('stops at the first bad setting in the order of the table', () => {
    const error = errorOf(() => readSettings({ MAX_LINES: '0', MAX_BYTES: '0' }, table));
    expect([error.variable, error.message]).toEqual(['NAME', 'NAME must be a name; it is not set']);
    expect(errorOf(() => readSettings({ NAME: 'a', MAX_LINES: '0', MAX_BYTES: '0' }, table)).variable).toBe('MAX_LINES');
  });
});
