/**
 * Where each member of a JSON object's text stands, so that an output can keep the input's own text for
 * every value (an integer past 2^53, 1.0, an escaped string) instead of serialising parsed values again.
 * Only for text that JSON.parse has already accepted as an object; iterative, so nesting depth costs no stack.
 */

export interface MemberSpan {
  /** The member's name, decoded: `"location\u005fid"` is location_id. */
  readonly name: string;
  /** From the name's opening quote to just after the value. */
  readonly start: number;
  readonly end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function skipWhitespace(text: string, index: number): number {
  let at = index;
  while (at < text.length && isWhitespace(text.charCodeAt(at))) at += 1;
  return at;
}

function expectAt(text: string, index: number, char: string): number {
  if (text[index] !== char) throw new Error(`expected ${char} at ${index} of a JSON object`);
  return index + 1;
}

/** Just after the string that opens at `index`. */
function stringEnd(text: string, index: number): number {
  for (let at = index + 1; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH) at += 1;
    else if (code === QUOTE) return at + 1;
  }
  throw new Error('unterminated string in a JSON object');
}

/** Just after the value that starts at `index`. */
function valueEnd(text: string, index: number): number {
  const first = text[index];
  if (first === '"') return stringEnd(text, index);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let at = index; at < text.length; at += 1) {
      const char = text[at];
      if (char === '"') at = stringEnd(text, at) - 1;
      else if (char === '{' || char === '[') depth += 1;
      else if (char === '}' || char === ']') {
        depth -= 1;
        if (depth === 0) return at + 1;
      }
    }
    throw new Error('unbalanced brackets in a JSON object');
  }
  // A number, true, false or null runs to the next separator.
  let at = index;
  while (at < text.length && !',}] \t\r\n'.includes(text[at] as string)) at += 1;
  return at;
}

/** The members of the object `text` holds, in the order written (duplicates included). */
export function objectMembers(text: string): MemberSpan[] {
  const members: MemberSpan[] = [];
  let at = expectAt(text, skipWhitespace(text, 0), '{');
  at = skipWhitespace(text, at);
  if (text[at] === '}') return members;
  for (;;) {
    const start = skipWhitespace(text, at);
    const nameEnd = stringEnd(text, start);
    const quotedName = text.slice(start, nameEnd);
    const name = quotedName.includes('\\') ? (JSON.parse(quotedName) as string) : quotedName.slice(1, -1);
    at = skipWhitespace(text, expectAt(text, skipWhitespace(text, nameEnd), ':'));
    const end = valueEnd(text, at);
    members.push({ name, start, end });
    at = skipWhitespace(text, end);
    if (text[at] === ',') at += 1;
    else {
      expectAt(text, at, '}');
      return members;
    }
  }
}
