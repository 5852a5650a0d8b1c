/** Commander argument parsers: a bad value becomes commander's own one-line error, and exit 2. */
import { InvalidArgumentError } from 'commander';

export function wholeNumber(minimum: number, maximum = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < minimum || parsed > maximum) {
      const range = maximum === Number.MAX_SAFE_INTEGER ? `of at least ${minimum}` : `from ${minimum} to ${maximum}`;
      throw new InvalidArgumentError(`must be a whole number ${range}`);
    }
    return parsed;
  };
}

export function anyInteger(value: string): number {
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) throw new InvalidArgumentError('must be an integer');
  return parsed;
}

export function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a number above 0');
  return parsed;
}

export function ratio(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1');
  return parsed;
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`);
    return match;
  };
}

/** For a repeatable option: the first use replaces the default list, later ones add to it. */
export function repeatable(defaults: readonly string[]) {
  return (value: string, previous: readonly string[]): string[] => (previous === defaults ? [value] : [...previous, value]);
}
