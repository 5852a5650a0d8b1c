/**
 * A JSON tokenizer for the line oracle (test/support/line-oracle.ts) that keeps every member's key and
 * value text as written, at any depth. Independent of the worker: imports nothing.
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'true' | 'false' | 'null';

export interface JsonMember {
  /** The key as written, quotes and escapes included. */
  readonly keyText: string;
  /** The key decoded. */
  readonly key: string;
  /** The value as written, from its first character to its last (inner whitespace included). */
  readonly valueText: string;
  readonly kind: JsonKind;
  /** For a string value: decoded. */
  readonly stringValue?: string;
}

export type Tokenized =
  | { readonly ok: true; readonly kind: JsonKind; readonly members: readonly JsonMember[] }
  | { readonly ok: false; readonly error: string };

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function isJsonWhitespace(code: number): boolean {
  return code === SPACE || code === TAB || code === LF || code === CR;
}

function skipWhitespace(text: string, at: number): number {
  let index = at;
  while (index < text.length && isJsonWhitespace(text.charCodeAt(index))) index += 1;
  return index;
}

class JsonSyntaxError extends Error {}

/** The string starting at `at` (a quote): where it ends (past the closing quote) and its decoded value. */
function scanString(text: string, at: number): { end: number; value: string } {
  let index = at + 1;
  let value = '';
  let runStart = index;
  for (;;) {
    if (index >= text.length) throw new JsonSyntaxError(`unterminated string from ${at}`);
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      value += text.slice(runStart, index);
      return { end: index + 1, value };
    }
    if (code < 0x20) throw new JsonSyntaxError(`unescaped control character U+${code.toString(16).padStart(4, '0')} in a string at ${index}`);
    if (code === 0x5c) {
      value += text.slice(runStart, index);
      const escape = text[index + 1];
      if (escape === undefined) throw new JsonSyntaxError(`unterminated escape at ${index}`);
      const simple = SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        value += simple;
        index += 2;
      } else if (escape === 'u' && HEX4.test(text.slice(index + 2, index + 6))) {
        value += String.fromCharCode(parseInt(text.slice(index + 2, index + 6), 16));
        index += 6;
      } else {
        throw new JsonSyntaxError(`bad escape \\${escape} at ${index}`);
      }
      runStart = index;
      continue;
    }
    index += 1;
  }
}

function scanNumber(text: string, at: number): number {
  NUMBER.lastIndex = at;
  if (!NUMBER.test(text)) throw new JsonSyntaxError(`bad number at ${at}`);
  return NUMBER.lastIndex;
}

const LITERALS = ['true', 'false', 'null'] as const;

/**
 * Tokenizes one JSON text (RFC 8259, as JSON.parse accepts it), iteratively so that any depth of nesting
 * is fine; for an object at the top, each member with its key and value texts.
 */
export function tokenizeJson(text: string): Tokenized {
  try {
    return tokenize(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { ok: false, error: error.message };
    throw error;
  }
}

function tokenize(text: string): Tokenized {
  const OBJECT = 0;
  const ARRAY = 1;
  const stack: number[] = [];
  const members: JsonMember[] = [];
  let index = skipWhitespace(text, 0);
  const topKind = kindAt(text, index);
  const topIsObject = topKind === 'object';
  let member: { keyText: string; key: string; valueStart: number; kind: JsonKind; stringValue?: string } | undefined;

  for (;;) {
    // A value starts at `index` (whitespace skipped).
    const atMember = topIsObject && stack.length === 1;
    const kind = kindAt(text, index);
    if (atMember && member !== undefined) {
      member.valueStart = index;
      member.kind = kind;
    }
    if (kind === 'object' || kind === 'array') {
      stack.push(kind === 'object' ? OBJECT : ARRAY);
      index = skipWhitespace(text, index + 1);
      const close = kind === 'object' ? '}' : ']';
      if (text[index] === close) {
        stack.pop();
        index += 1;
      } else if (kind === 'object') {
        index = readKey(index);
        continue;
      } else {
        continue;
      }
    } else if (kind === 'string') {
      const scanned = scanString(text, index);
      if (atMember && member !== undefined) member.stringValue = scanned.value;
      index = scanned.end;
    } else if (kind === 'number') {
      index = scanNumber(text, index);
    } else {
      index += kind.length;
    }

    // A value ended at `index`: close containers, or move to the next member or element.
    for (;;) {
      if (topIsObject && stack.length === 1 && member !== undefined) {
        members.push({
          keyText: member.keyText,
          key: member.key,
          valueText: text.slice(member.valueStart, index),
          kind: member.kind,
          ...(member.stringValue === undefined ? {} : { stringValue: member.stringValue }),
        });
        member = undefined;
      }
      index = skipWhitespace(text, index);
      if (stack.length === 0) {
        if (index !== text.length) throw new JsonSyntaxError(`unexpected ${describeAt(text, index)} after the value`);
        return { ok: true, kind: topKind, members };
      }
      const container = stack[stack.length - 1];
      const next = text[index];
      if (next === ',') {
        index = skipWhitespace(text, index + 1);
        if (container === OBJECT) index = readKey(index);
        break;
      }
      if ((container === OBJECT && next === '}') || (container === ARRAY && next === ']')) {
        stack.pop();
        index += 1;
        continue;
      }
      throw new JsonSyntaxError(`unexpected ${describeAt(text, index)} in ${container === OBJECT ? 'an object' : 'an array'}`);
    }
  }

  /** A key and its colon at `at`; returns where the value starts. */
  function readKey(at: number): number {
    if (text[at] !== '"') throw new JsonSyntaxError(`expected a key at ${at}, found ${describeAt(text, at)}`);
    const scanned = scanString(text, at);
    if (topIsObject && stack.length === 1) {
      member = { keyText: text.slice(at, scanned.end), key: scanned.value, valueStart: -1, kind: 'null' };
    }
    const colon = skipWhitespace(text, scanned.end);
    if (text[colon] !== ':') throw new JsonSyntaxError(`expected ':' at ${colon}, found ${describeAt(text, colon)}`);
    return skipWhitespace(text, colon + 1);
  }
}

function kindAt(text: string, index: number): JsonKind {
  const char = text[index];
  if (char === '{') return 'object';
  if (char === '[') return 'array';
  if (char === '"') return 'string';
  if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return 'number';
  for (const literal of LITERALS) if (text.startsWith(literal, index)) return literal;
  throw new JsonSyntaxError(`expected a value at ${index}, found ${describeAt(text, index)}`);
}

function describeAt(text: string, index: number): string {
  if (index >= text.length) return 'the end';
  const code = text.codePointAt(index) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${index}`;
}

/** The last member whose decoded key is `key` (JSON.parse semantics: the last duplicate wins). */
export function lastMember(members: readonly JsonMember[], key: string): JsonMember | undefined {
  for (let index = members.length - 1; index >= 0; index -= 1) if (members[index]?.key === key) return members[index];
  return undefined;
}
