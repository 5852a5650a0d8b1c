/**
 * °C to °F as on paper: on the decimal value the temperature shows (its shortest representation, as JSON
 * and JavaScript print it), F = C × 9/5 + 32 exactly, rounded half away from zero to hundredths.
 * Binary arithmetic cannot do this: 20.025 is stored as 20.02499999999999857…, and ×9/5 adds more noise.
 */

/** Past this, a double may have several 6-decimal representations; the exact path takes over. */
const FAST_PATH_MAX_ABS = 1e6;
const FAST_PATH_MAX_DECIMALS = 6;
const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] as const;

/** °F in hundredths is C × 180 + 3200; numerator ÷ denominator rounded half away from zero. */
function roundHalfAwayFromZero(numerator: number, denominator: number): number {
  // % and the division of a multiple are exact on integers below 2^53, where a plain division could round up.
  const remainder = numerator % denominator;
  const quotient = (numerator - remainder) / denominator;
  return 2 * Math.abs(remainder) >= denominator ? quotient + Math.sign(numerator) : quotient;
}

/**
 * The common case in doubles, exactly: a temperature below a million with at most six decimals is
 * n / 10^k for the smallest such k, and that decimal is its shortest representation.
 */
function fastHundredths(celsius: number): number | undefined {
  if (!(Math.abs(celsius) < FAST_PATH_MAX_ABS)) return undefined;
  for (let decimals = 0; decimals <= FAST_PATH_MAX_DECIMALS; decimals += 1) {
    const scale = POWERS_OF_TEN[decimals] as number;
    const scaled = Math.round(celsius * scale);
    if (scaled / scale === celsius) return roundHalfAwayFromZero(scaled * 180 + 3200 * scale, scale);
  }
  return undefined;
}

/** Any finite double, through its shortest representation and BigInt; Infinity when °F is beyond a double. */
function exactFahrenheit(celsius: number): number {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(celsius));
  if (!match) throw new Error(`unexpected number representation ${String(celsius)}`);
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const scaleExponent = Number(exponent) - fraction.length;
  // The temperature is digits × 10^scaleExponent; in hundredths of °F: digits × 180 × 10^scaleExponent + 3200.
  const digits = BigInt(sign + whole + fraction) * 180n;
  let hundredths: bigint;
  if (scaleExponent >= 0) {
    hundredths = digits * 10n ** BigInt(scaleExponent) + 3200n;
  } else {
    const denominator = 10n ** BigInt(-scaleExponent);
    const numerator = digits + 3200n * denominator;
    const quotient = numerator / denominator; // truncates toward zero
    const remainder = numerator - quotient * denominator;
    const away = 2n * (remainder < 0n ? -remainder : remainder) >= denominator;
    hundredths = away ? quotient + (numerator < 0n ? -1n : 1n) : quotient;
  }
  const negative = hundredths < 0n;
  const text = (negative ? -hundredths : hundredths).toString().padStart(3, '0');
  // Number() of the decimal text is correctly rounded: the double nearest the exact hundredths.
  return Number(`${negative ? '-' : ''}${text.slice(0, -2)}.${text.slice(-2)}`);
}

/** °F rounded half away from zero to 2 decimals; Infinity (or -Infinity) when it is beyond a double. */
export function toFahrenheit(celsius: number): number {
  const hundredths = fastHundredths(celsius);
  const fahrenheit = hundredths === undefined ? exactFahrenheit(celsius) : hundredths / 100;
  return fahrenheit === 0 ? 0 : fahrenheit;
}
