/** The smoke test's verdicts: outputs, DLQ and metrics judged from what was read; the exit code; the table. */
import { describe, expect, it } from '@jest/globals';
import {
  CHECKS,
  fail,
  firstDifference,
  judgeDeadLetterQueue,
  judgeProcessedJsonl,
  judgeProcessedParquet,
  judgeQueueMetrics,
  judgeRejected,
  judgeSucceededCounter,
  pass,
  skip,
  smokeTable,
  verdict,
} from '../../../../../ops/cli/smoke/checks.ts';
import { buildSmokeFile, smokeKey } from '../../../../../ops/cli/smoke/file.ts';

const NOW = new Date('2026-12-02T06:30:05Z');
const FILE = buildSmokeFile(smokeKey(NOW, 'abcd1234'), NOW);
const WHERE = 's3://processed/smoke/x.jsonl';

describe('judgeProcessedJsonl', () => {
  it('passes the exact bytes only', () => {
    expect(judgeProcessedJsonl(FILE.processedOutput, { found: true, text: FILE.processedOutput }, WHERE, 2).result).toBe('pass');
  });

  it('names where a different output first differs', () => {
    const wrong = FILE.processedOutput.replace('"temp_fahrenheit":70.7', '"temp_fahrenheit":70.69');

    const row = judgeProcessedJsonl(FILE.processedOutput, { found: true, text: wrong }, WHERE, 2);

    expect(row.result).toBe('fail');
    expect(row.detail).toContain(`at character ${FILE.processedOutput.indexOf('70.7') + 4}`);
  });

  it('fails a missing output with the time waited and the last error other than "no such key"', () => {
    expect(judgeProcessedJsonl('x', { found: false }, WHERE, 30).detail).toBe(
      `${WHERE} not there after 30 s: is a worker running and consuming the queue?`,
    );
    expect(judgeProcessedJsonl('x', { found: false, lastError: 'AccessDenied: denied' }, WHERE, 30).detail).toContain('(last answer: AccessDenied: denied)');
  });
});

describe('judgeProcessedParquet', () => {
  it('passes an object framed by PAR1 at both ends, and fails anything else', () => {
    const parquet = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(20), Buffer.from('PAR1')]);

    expect(judgeProcessedParquet(parquet, WHERE).result).toBe('pass');
    expect(judgeProcessedParquet(Buffer.from('{"a":1}\n'), WHERE).result).toBe('fail');
    expect(judgeProcessedParquet(Buffer.from('PAR1PAR1'), WHERE).result).toBe('fail');
  });
});

describe('judgeRejected', () => {
  const expected = FILE.rejectedOutput;
  const line = (overrides: Record<string, unknown> = {}) =>
    `${JSON.stringify({ line: 3, reason: 'missing_field', field: 'humidity', message: 'any words', text: FILE.lines.rejected, ...overrides })}\n`;

  it('passes on the contract fields (line, reason, field, text), whatever the message says', () => {
    const row = judgeRejected(expected, { found: true, text: line() }, WHERE, 1);

    expect(row).toEqual(pass(CHECKS.rejected, `${WHERE}: line 3 missing_field (humidity), as expected`));
  });

  it('fails on a wrong field, an extra line or a line that is not JSON', () => {
    expect(judgeRejected(expected, { found: true, text: line({ line: 2 }) }, WHERE, 1).detail).toContain('line is 2, expected 3');
    expect(judgeRejected(expected, { found: true, text: line() + line() }, WHERE, 1).detail).toContain('holds 2 line(s), expected 1');
    expect(judgeRejected(expected, { found: true, text: 'oops\n' }, WHERE, 1).detail).toContain('is not JSON');
    expect(judgeRejected(expected, { found: false }, WHERE, 5).result).toBe('fail');
  });
});

describe('judgeDeadLetterQueue', () => {
  it('passes an empty DLQ and fails one holding messages, visible or in flight', () => {
    expect(judgeDeadLetterQueue('dlq', { visible: 0, inFlight: 0, delayed: 0 }).result).toBe('pass');
    expect(judgeDeadLetterQueue('dlq', { visible: 0, inFlight: 1, delayed: 0 }).detail).toBe(
      'dlq: 0 visible, 1 in flight: see npm run ops -- dlq peek (README "DLQ is not empty")',
    );
  });
});

describe('metrics', () => {
  it('passes when the succeeded counter grew', () => {
    expect(judgeSucceededCounter('http://w/metrics', 4, 5)).toEqual(pass(CHECKS.metrics, 'iot_ingest_files_total{outcome="succeeded"} 4 → 5 at http://w/metrics'));
    expect(judgeSucceededCounter('http://w/metrics', 4, 4).result).toBe('fail');
  });

  it('without /metrics: passes a drained queue, or deletes seen by CloudWatch', () => {
    expect(judgeQueueMetrics('q', { visible: 0, inFlight: 0, delayed: 0 }, undefined, 'no --metrics-url').result).toBe('pass');
    expect(judgeQueueMetrics('q', { visible: 3, inFlight: 1, delayed: 0 }, 2, 'no --metrics-url').result).toBe('pass');
    expect(judgeQueueMetrics('q', { visible: 3, inFlight: 1, delayed: 0 }, 0, 'no --metrics-url').detail).toBe(
      'no --metrics-url; q: 3 visible, 1 in flight, 0 delayed: not drained; CloudWatch NumberOfMessagesDeleted since the upload: 0',
    );
  });
});

describe('verdict and table', () => {
  const rows = [pass(CHECKS.upload, 'ok'), skip(CHECKS.alarm, '--local: there is no CloudWatch locally')];

  it('exits 0 when nothing failed, 1 when something did, 3 when Ctrl-C cut a run that had not failed', () => {
    expect(verdict(rows, false)).toEqual({ passed: true, exitCode: 0 });
    expect(verdict([...rows, fail(CHECKS.metrics, 'x')], false)).toEqual({ passed: false, exitCode: 1 });
    expect(verdict(rows, true)).toEqual({ passed: false, exitCode: 3 });
    expect(verdict([...rows, fail(CHECKS.metrics, 'x')], true).exitCode).toBe(1);
  });

  it('prints aligned columns and a summary line', () => {
    expect(smokeTable(rows, false)).toEqual([
      'check   result  detail',
      'upload  pass    ok',
      'alarm   skip    --local: there is no CloudWatch locally',
      '',
      'smoke test passed: 1 passed, 0 failed, 1 skipped',
    ]);
    expect(smokeTable([...rows, fail(CHECKS.metrics, 'x')], false).at(-1)).toBe('smoke test FAILED: 1 passed, 1 failed, 1 skipped');
  });

  it('shows both sides of the first difference, shortened', () => {
    expect(firstDifference('abcdef', 'abcxef')).toBe('at character 4: expected "def", got "xef"');
    expect(firstDifference('a'.repeat(100), 'a'.repeat(50))).toBe(`at character 51: expected "${'a'.repeat(40)}"…, got ""`);
  });
});
