/**
 * Splits a byte stream into lines, on bytes rather than strings: a newline byte never occurs
 * inside a multi-byte UTF-8 character, so each line is decoded once, whole.
 * Handles LF and CRLF, a leading BOM, and bounds the memory one line may take.
 */

export interface LineSink {
  /** A complete line without its terminator; `lineNumber` is 1-based, counting every line. */
  line(text: string, lineNumber: number): void;
  /** A line longer than the limit; only its first bytes are kept. */
  overlongLine(prefix: string, byteLength: number, lineNumber: number): void;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = '\uFEFF';
/** How much of an overlong line is kept for the rejected record. */
export const OVERLONG_PREFIX_BYTES = 1024;

const BOM_BYTES = [0xef, 0xbb, 0xbf] as const;

/**
 * Whether `bytes`, found `offset` bytes into a line, are all JSON whitespace (space, tab, CR, LF), as the
 * transformer defines a blank line; a byte order mark at the very start of the file is dropped, so blank.
 */
function isBlankBytes(bytes: Buffer, offset: number, firstLine: boolean): boolean {
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index] as number;
    if (firstLine && offset + index < BOM_BYTES.length && byte === BOM_BYTES[offset + index]) continue;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}

/** The largest cut at or before `limit` that does not split a UTF-8 character. */
function characterBoundary(bytes: Buffer, limit: number): number {
  if (bytes.length <= limit) return bytes.length;
  let cut = limit;
  // Continuation bytes look like 10xxxxxx; a character starts at the first byte that does not.
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut -= 1;
  return cut;
}

export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly sink: LineSink;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingLastByte: number | undefined;
  /** Whether the pending bytes are all whitespace: an overlong blank line is still blank. */
  private pendingBlank = true;
  private lineNumber = 0;

  /** Enough to decide the line's fate and to keep the prefix of an overlong one. */
  private readonly keepLimitBytes: number;

  constructor(maxLineBytes: number, sink: LineSink) {
    this.maxLineBytes = maxLineBytes;
    this.keepLimitBytes = Math.max(maxLineBytes, OVERLONG_PREFIX_BYTES);
    this.sink = sink;
  }

  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      this.completeLine(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** Emits the last line when the input does not end in a newline. */
  end(): void {
    if (this.pendingBytes > 0) this.completeLine(Buffer.alloc(0), 0, 0);
  }

  private keep(part: Buffer): void {
    // Past the limit only a prefix is needed, so the rest of an overlong line is dropped as it arrives.
    if (this.pendingBytes <= this.keepLimitBytes) this.pending.push(part);
    if (this.pendingBlank) this.pendingBlank = isBlankBytes(part, this.pendingBytes, this.lineNumber === 0);
    this.pendingBytes += part.length;
    this.pendingLastByte = part[part.length - 1];
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    this.lineNumber += 1;
    const lastByte = end > start ? chunk[end - 1] : this.pendingLastByte;
    const byteLength = this.pendingBytes + (end - start) - (lastByte === CARRIAGE_RETURN ? 1 : 0);
    const tail = chunk.subarray(start, end);
    const blank = this.pendingBlank && isBlankBytes(tail, this.pendingBytes, this.lineNumber === 1);
    // The whole line when it was kept whole (its CR dropped here), else its first bytes.
    let line = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    line = line.subarray(0, Math.min(line.length, byteLength));
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLastByte = undefined;
    this.pendingBlank = true;

    if (byteLength <= this.maxLineBytes) {
      this.sink.line(this.decode(line), this.lineNumber);
    } else if (blank) {
      this.sink.line('', this.lineNumber);
    } else {
      this.sink.overlongLine(this.decode(line.subarray(0, characterBoundary(line, OVERLONG_PREFIX_BYTES))), byteLength, this.lineNumber);
    }
  }

  private decode(bytes: Buffer): string {
    const text = bytes.toString('utf8');
    return this.lineNumber === 1 && text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
  }
}
