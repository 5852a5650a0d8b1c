/**
 * Splits a byte stream into lines, on bytes rather than strings: a newline byte never occurs
 * inside a multi-byte UTF-8 character, so each line is decoded once, whole.
 * Owns the data contract's rules for line ends, the byte order mark and blank lines.
 */

export interface LineSink {
  /** A complete non-blank line without its terminator; `lineNumber` is 1-based, counting every line. */
  line(text: string, lineNumber: number): void;
  /** A non-blank line longer than the limit; only its first bytes are kept. */
  overlongLine(prefix: string, byteLength: number, lineNumber: number): void;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** How much of an overlong line is kept for the rejected record. */
export const OVERLONG_PREFIX_BYTES = 1024;

/** A byte order mark: exactly these bytes at the very start of the object, and nowhere else. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The bytes a blank line may hold: JSON's insignificant whitespace that can stand inside a line (space,
 * tab, carriage return; a line feed ends the line). Such a line holds no value and has no outcome. Every
 * other character, other Unicode spaces included, makes a line non-blank.
 */
function isBlankByte(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === CARRIAGE_RETURN;
}

function isBlank(bytes: Buffer): boolean {
  for (let index = 0; index < bytes.length; index += 1) {
    if (!isBlankByte(bytes[index] as number)) return false;
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
  /** Whether the pending bytes are all blank bytes: an overlong blank line is still blank. */
  private pendingBlank = true;
  private lineNumber = 0;
  /** The first bytes of the object, held until there are enough to tell whether they are a BOM. */
  private objectStart: Buffer | undefined = Buffer.alloc(0);

  /** Enough to decide the line's fate and to keep the prefix of an overlong one. */
  private readonly keepLimitBytes: number;

  constructor(maxLineBytes: number, sink: LineSink) {
    this.maxLineBytes = maxLineBytes;
    this.keepLimitBytes = Math.max(maxLineBytes, OVERLONG_PREFIX_BYTES);
    this.sink = sink;
  }

  push(chunk: Buffer): void {
    if (this.objectStart !== undefined) {
      const start = this.objectStart.length === 0 ? chunk : Buffer.concat([this.objectStart, chunk]);
      if (start.length < BOM.length) {
        this.objectStart = start;
        return;
      }
      this.objectStart = undefined;
      this.split(start.subarray(0, BOM.length).equals(BOM) ? start.subarray(BOM.length) : start);
      return;
    }
    this.split(chunk);
  }

  /** Emits the last line when the input does not end in a newline. */
  end(): void {
    if (this.objectStart !== undefined) {
      // Fewer bytes than a BOM in the whole object: they are data.
      const start = this.objectStart;
      this.objectStart = undefined;
      this.split(start);
    }
    if (this.pendingBytes > 0) this.completeLine(Buffer.alloc(0), 0, 0);
  }

  private split(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      this.completeLine(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  private keep(part: Buffer): void {
    // Past the limit only a prefix is needed, so the rest of an overlong line is dropped as it arrives.
    if (this.pendingBytes <= this.keepLimitBytes) this.pending.push(part);
    if (this.pendingBlank) this.pendingBlank = isBlank(part);
    this.pendingBytes += part.length;
    this.pendingLastByte = part[part.length - 1];
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    this.lineNumber += 1;
    const lastByte = end > start ? chunk[end - 1] : this.pendingLastByte;
    const byteLength = this.pendingBytes + (end - start) - (lastByte === CARRIAGE_RETURN ? 1 : 0);
    const tail = chunk.subarray(start, end);
    const blank = this.pendingBlank && isBlank(tail);
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLastByte = undefined;
    this.pendingBlank = true;
    if (blank) return;

    // The whole line when it was kept whole (its CR dropped here), else its first bytes.
    let line = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    line = line.subarray(0, Math.min(line.length, byteLength));
    if (byteLength <= this.maxLineBytes) {
      this.sink.line(line.toString('utf8'), this.lineNumber);
    } else {
      this.sink.overlongLine(line.subarray(0, characterBoundary(line, OVERLONG_PREFIX_BYTES)).toString('utf8'), byteLength, this.lineNumber);
    }
  }
}
