import { describe, expect, it } from '@jest/globals';
import { evaluateExpression } from '../../../../ops/simulate/metric-math.ts';

describe('evaluateExpression', () => {
  it('does arithmetic with precedence, parentheses and unary minus', () => {
    expect(evaluateExpression('1 + 2 * 3', {})).toBe(7);
    expect(evaluateExpression('(1 + 2) * 3', {})).toBe(9);
    expect(evaluateExpression('10 - 4 - 3', {})).toBe(3);
    expect(evaluateExpression('12 / 4 / 3', {})).toBe(1);
    expect(evaluateExpression('-a + 5', { a: 2 })).toBe(3);
    expect(evaluateExpression('- (a * 2)', { a: 2 })).toBe(-4);
    expect(evaluateExpression('2.5e1', {})).toBe(25);
  });

  it('reads ids with digits and underscores', () => {
    expect(evaluateExpression('in_flight + m1', { in_flight: 3, m1: 4 })).toBe(7);
  });

  it('compares to 1 or 0', () => {
    expect(evaluateExpression('a > 1', { a: 2 })).toBe(1);
    expect(evaluateExpression('a < 1', { a: 2 })).toBe(0);
    expect(evaluateExpression('a >= 2', { a: 2 })).toBe(1);
    expect(evaluateExpression('a <= 1', { a: 2 })).toBe(0);
    expect(evaluateExpression('a == 2', { a: 2 })).toBe(1);
    expect(evaluateExpression('a != 2', { a: 2 })).toBe(0);
  });

  it('combines conditions with AND, OR and NOT, AND binding tighter than OR', () => {
    expect(evaluateExpression('a > 0 AND b > 0', { a: 1, b: 0 })).toBe(0);
    expect(evaluateExpression('a > 0 OR b > 0', { a: 1, b: 0 })).toBe(1);
    expect(evaluateExpression('NOT a > 0', { a: 1 })).toBe(0);
    expect(evaluateExpression('1 OR 1 AND 0', {})).toBe(1);
  });

  it('chooses with IF, and IF without an else drops the datapoint when false', () => {
    expect(evaluateExpression('IF(a > 0, 10, 20)', { a: 1 })).toBe(10);
    expect(evaluateExpression('IF(a > 0, 10, 20)', { a: 0 })).toBe(20);
    expect(evaluateExpression('IF(a > 0, 10)', { a: 1 })).toBe(10);
    expect(evaluateExpression('IF(a > 0, 10)', { a: 0 })).toBeUndefined();
  });

  it('propagates a missing datapoint through every operator', () => {
    expect(evaluateExpression('a + 1', { a: undefined })).toBeUndefined();
    expect(evaluateExpression('-a', {})).toBeUndefined();
    expect(evaluateExpression('a > 1 OR 1', {})).toBeUndefined();
    expect(evaluateExpression('NOT a', {})).toBeUndefined();
    expect(evaluateExpression('IF(a, 1, 2)', {})).toBeUndefined();
  });

  it('replaces a missing datapoint with FILL, and leaves a present one alone', () => {
    expect(evaluateExpression('FILL(a, 0) + FILL(b, 0)', { a: 3 })).toBe(3);
    expect(evaluateExpression('FILL(a, 7)', { a: 2 })).toBe(2);
    expect(evaluateExpression('FILL(a, b * 2)', { b: 4 })).toBe(8);
  });

  it('gives no datapoint for a division by zero', () => {
    expect(evaluateExpression('a / b', { a: 1, b: 0 })).toBeUndefined();
  });

  it('evaluates the expressions of the template', () => {
    const backlogPerTask = 'visible / IF(FILL(running, 0) > 0, running, 1)';
    expect(evaluateExpression(backlogPerTask, { visible: 30, running: 3 })).toBe(10);
    expect(evaluateExpression(backlogPerTask, { visible: 30, running: undefined })).toBe(30);
    expect(evaluateExpression(backlogPerTask, { visible: undefined, running: 3 })).toBeUndefined();

    const fromZero = 'IF(visible > 0 AND FILL(running, 0) < 1, 1, 0)';
    expect(evaluateExpression(fromZero, { visible: 5, running: undefined })).toBe(1);
    expect(evaluateExpression(fromZero, { visible: 5, running: 1 })).toBe(0);
    expect(evaluateExpression(fromZero, { visible: 0, running: undefined })).toBe(0);
    expect(evaluateExpression(fromZero, { running: undefined })).toBeUndefined();

    expect(evaluateExpression('FILL(visible, 0) + FILL(inFlight, 0)', {})).toBe(0);

    const slots = 'IF(FILL(desired, 0) > 1, 100 * (visible + inFlight) / (desired * 8), 100)';
    expect(evaluateExpression(slots, { desired: 4, visible: 4, inFlight: 4 })).toBe(25);
    expect(evaluateExpression(slots, { desired: 1, visible: 4, inFlight: 4 })).toBe(100);
    expect(evaluateExpression(slots, { desired: 4, visible: undefined, inFlight: 4 })).toBeUndefined();
    expect(evaluateExpression(slots, { desired: undefined })).toBe(100);

    expect(evaluateExpression('FILL(visible, 0) + FILL(in_flight, 0) + FILL(delayed, 0)', { visible: 1, delayed: 2 })).toBe(3);
  });

  it('throws naming the expression when it does not parse', () => {
    expect(() => evaluateExpression('a +', {})).toThrow('cannot parse metric math expression "a +"');
    expect(() => evaluateExpression('(a', {})).toThrow('"(a"');
    expect(() => evaluateExpression('a b', {})).toThrow('"a b"');
    expect(() => evaluateExpression('IF(a)', {})).toThrow('"IF(a)"');
    expect(() => evaluateExpression('SUM(a)', {})).toThrow('unsupported function SUM');
    expect(() => evaluateExpression('a $ b', {})).toThrow("unexpected character '$'");
  });

  it('gives the same answer from the cached parse', () => {
    const expression = 'FILL(x, 1) * 2';
    expect(evaluateExpression(expression, { x: 5 })).toBe(10);
    expect(evaluateExpression(expression, {})).toBe(2);
  });
});
