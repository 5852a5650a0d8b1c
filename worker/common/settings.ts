/**
 * Settings read from environment variables, each declared once: its variable, the kind of value it
 * takes (with range and unit) and its default. The worker, the trigger and the ops scripts read
 * their environment through it. Pure: an environment in, typed values out, or one `ConfigError`
 * whose message names the variable, what it must be and the (redacted) value given.
 */
import { redactForLog } from './redact.ts';

/** The environment as a plain record: `process.env`, or an object in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A setting that is missing or malformed; its message is the one line the process prints before it exits. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, expectation: string, value: string | undefined) {
    const got = value === undefined ? 'it is not set' : `got ${JSON.stringify(redactForLog(value))}`;
    super(`${variable} must be ${expectation}; ${got}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** How a variable's text becomes a value. */
export interface SettingKind<T> {
  /** Completes "VARIABLE must be …" in the error message. */
  readonly expectation: string;
  /** The value, or undefined when the text is not one. */
  readonly parse: (text: string) => T | undefined;
  /** An empty value is a real choice (a key prefix) rather than unset; such text is read as given, untrimmed. */
  readonly keepsEmpty?: boolean;
}

interface Presence<T> {
  readonly default?: T;
  readonly required?: true;
  /** Read when the variable itself is unset, as AWS_DEFAULT_REGION stands in for AWS_REGION. */
  readonly fallbackVariable?: string;
}

/** One environment variable and how to read it. */
export class Setting<T> {
  readonly variable: string;
  private readonly kind: SettingKind<NonNullable<T>>;
  private readonly presence: Presence<T>;

  constructor(variable: string, kind: SettingKind<NonNullable<T>>, presence: Presence<T>) {
    this.variable = variable;
    this.kind = kind;
    this.presence = presence;
  }

  /** The variable's value, its default when unset, or a `ConfigError`. */
  read(env: Environment): T {
    const variables = [this.variable, ...(this.presence.fallbackVariable === undefined ? [] : [this.presence.fallbackVariable])];
    for (const variable of variables) {
      const text = this.textOf(env, variable);
      if (text === undefined) continue;
      const value = this.kind.parse(text);
      if (value === undefined) throw new ConfigError(variable, this.kind.expectation, text);
      return value;
    }
    if (this.presence.required === true) throw new ConfigError(this.variable, this.kind.expectation, undefined);
    return this.presence.default as T;
  }

  private textOf(env: Environment, variable: string): string | undefined {
    const text = env[variable];
    if (this.kind.keepsEmpty === true || text === undefined) return text;
    const trimmed = text.trim();
    return trimmed === '' ? undefined : trimmed;
  }
}

/** Declares a setting: with a default, required (unset is an error), or optional (unset is `undefined`). */
export function setting<T>(variable: string, kind: SettingKind<T>, presence: { readonly default: NoInfer<T> }): Setting<T>;
export function setting<T>(variable: string, kind: SettingKind<T>, presence: { readonly required: true; readonly fallbackVariable?: string }): Setting<T>;
export function setting<T>(variable: string, kind: SettingKind<T>): Setting<T | undefined>;
export function setting<T>(variable: string, kind: SettingKind<NonNullable<T>>, presence: Presence<T> = {}): Setting<T> {
  return new Setting(variable, kind, presence);
}

/** Settings, or groups of them, by the name their value takes in the result. */
export interface SettingsTable {
  readonly [name: string]: Setting<unknown> | SettingsTable;
}

export type SettingValues<Table extends SettingsTable> = {
  readonly [Name in keyof Table]: Table[Name] extends Setting<infer T> ? T : Table[Name] extends SettingsTable ? SettingValues<Table[Name]> : never;
};

/** Reads every setting of the table, in its order, into an object of the same shape; throws on the first bad one. */
export function readSettings<Table extends SettingsTable>(env: Environment, table: Table): SettingValues<Table> {
  const values: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(table)) {
    values[name] = entry instanceof Setting ? entry.read(env) : readSettings(env, entry);
  }
  return values as SettingValues<Table>;
}

/** Any text that is not blank. */
export function text(expectation: string): SettingKind<string> {
  return { expectation, parse: (value) => value };
}

export interface WholeNumberRange {
  readonly min: number;
  readonly max: number;
  /** Plural, as in "a whole number of seconds". */
  readonly unit?: string;
  /** What a special value means or what bounds the range, in brackets after the unit: "0 = never". */
  readonly note?: string;
}

export function wholeNumber({ min, max, unit, note }: WholeNumberRange): SettingKind<number> {
  const described = `a whole number${unit === undefined ? '' : ` of ${unit}`}${note === undefined ? '' : ` (${note})`}`;
  return {
    expectation: `${described} from ${min} to ${max}`,
    parse: (value) => {
      const parsed = Number(value);
      return /^-?\d+$/.test(value) && parsed >= min && parsed <= max ? parsed : undefined;
    },
  };
}

/** A TCP port; 0 asks the system for a free one where that makes sense. */
export function portNumber(min: 0 | 1): SettingKind<number> {
  const { parse } = wholeNumber({ min, max: 65_535 });
  return { expectation: `a port number from ${min} to 65535`, parse };
}

export function finiteNumber(): SettingKind<number> {
  return {
    expectation: 'a finite number',
    parse: (value) => {
      const parsed = Number(value);
      return Number.isFinite(parsed) ? parsed : undefined;
    },
  };
}

/** "true" or "false", or "1" or "0", in any case. */
export function trueOrFalse(): SettingKind<boolean> {
  const values: ReadonlyMap<string, boolean> = new Map([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ]);
  return { expectation: '"true" or "false"', parse: (value) => values.get(value.toLowerCase()) };
}

export function oneOf<T extends string>(allowed: readonly T[]): SettingKind<T> {
  return { expectation: `one of ${allowed.join(', ')}`, parse: (value) => allowed.find((candidate) => candidate === value) };
}

/** An absolute http: or https: URL. */
export function httpUrl(expectation: string): SettingKind<string> {
  return {
    expectation,
    parse: (value) => {
      try {
        const { protocol } = new URL(value);
        return protocol === 'http:' || protocol === 'https:' ? value : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** An S3 key prefix; empty is a real choice (the bucket's top level). */
export function keyPrefix(): SettingKind<string> {
  return { expectation: 'an S3 key prefix that does not start with "/"', parse: (value) => (value.startsWith('/') ? undefined : value), keepsEmpty: true };
}

/** Comma-separated items, each trimmed, none empty or with spaces; repeats dropped. */
export function itemList(expectation: string): SettingKind<readonly string[]> {
  return {
    expectation,
    parse: (value) => {
      const items = value.split(',').map((item) => item.trim());
      return items.some((item) => item === '' || /\s/.test(item)) ? undefined : [...new Set(items)];
    },
  };
}
