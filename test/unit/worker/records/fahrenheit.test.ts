import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { toFahrenheit } from '../../../../worker/records/fahrenheit.ts';

/**
 * The oracle: °F in hundredths as an exact fraction of BigInts built from the temperature's text
 * (C = p / q, so F × 100 = (900p + 16000q) / 5q), rounded half away from zero, then read back as a
 * double from its decimal text. It shares no arithmetic with the code under test.
 */
function fahrenheitOracle(celsius: number): number {
  const text = String(celsius);
  const [mantissa = '', exponentText = '0'] = text.split('e');
  const negative = mantissa.startsWith('-');
  const [whole = '', fraction = ''] = mantissa.replace('-', '').split('.');
  const exponent = Number(exponentText) - fraction.length;
  let p = BigInt(whole + fraction) * (negative ? -1n : 1n);
  let q = 1n;
  if (exponent >= 0) p *= 10n ** BigInt(exponent);
  else q = 10n ** BigInt(-exponent);
  const numerator = 900n * p + 16000n * q;
  const denominator = 5n * q;
  const magnitude = numerator < 0n ? -numerator : numerator;
  let hundredths = magnitude / denominator;
  if (2n * (magnitude % denominator) >= denominator) hundredths += 1n;
  const digits = hundredths.toString().padStart(3, '0');
  const value = Number(`${digits.slice(0, -2)}.${digits.slice(-2)}`);
  return numerator < 0n && value !== 0 ? -value : value;
}

describe('toFahrenheit', () => {
  it.each([
    [-40, -40],
    [0, 32],
    [100, 212],
    [37.7777, 100],
    [37.777777, 100],
    [37.775, 100],
    [37.225, 99.01],
    [-273.15, -459.67],
    [1.005, 33.81],
    [0.025, 32.05],
    [20.025, 68.05],
    // Just under the half: the exact °F is 68.044999999599…, which rounds down.
    [20.02499999977778, 68.04],
    [1e-7, 32],
    [5e-324, 32],
    [1e21, 1.8e21],
    // An intermediate ×100 would overflow; °F itself is finite.
    [1e307, 1.8e307],
  ])('converts %p °C to %p °F', (celsius, fahrenheit) => {
    expect(toFahrenheit(celsius)).toBe(fahrenheit);
  });

  it.each([-17.78, -17.7775, -17.7777])('returns 0, never -0, for %d °C', (celsius) => {
    expect(Object.is(toFahrenheit(celsius), 0)).toBe(true);
  });

  // -17.225 °C is exactly 0.995 °F: every decimal rounding rule gives 1.
  it('rounds 0.995 °F (from -17.225 °C) up to 1', () => {
    expect(toFahrenheit(-17.225)).toBe(1);
  });

  it('returns ±Infinity when °F is beyond a double', () => {
    expect(toFahrenheit(1.7e308)).toBe(Infinity);
    expect(toFahrenheit(-1.7e308)).toBe(-Infinity);
  });
});

describe('toFahrenheit against exact decimal arithmetic (properties)', () => {
  const agrees = (celsius: number) => expect([celsius, toFahrenheit(celsius)]).toStrictEqual([celsius, fahrenheitOracle(celsius)]);

  it('agrees on any finite double', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), agrees), { numRuns: 20_000 });
  });

  it('agrees on decimals of up to eight places, where exact halves are common', () => {
    const decimal = fc.tuple(fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }), fc.integer({ min: 0, max: 8 })).map(([n, places]) => n / 10 ** places);
    fc.assert(fc.property(decimal, agrees), { numRuns: 20_000 });
  });

  it('agrees on the doubles next to exact halves', () => {
    // C = (h + 0.5) hundredths of °F back in °C, then one or two doubles either side.
    const nearHalf = fc.tuple(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: -2, max: 2 })).map(([hundredths, steps]) => {
      const celsius = (((hundredths + 0.5) / 100 - 32) * 5) / 9;
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, celsius);
      view.setBigInt64(0, view.getBigInt64(0) + BigInt(steps));
      return view.getFloat64(0);
    });
    fc.assert(fc.property(nearHalf.filter(Number.isFinite), agrees), { numRuns: 20_000 });
  });
});
