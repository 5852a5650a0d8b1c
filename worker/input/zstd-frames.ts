/**
 * Cuts a zstd stream at its frame boundaries (RFC 8878, section 3), reading only the frame and block
 * headers. Node's zstd decompressor ends its output at the end of the first frame and drops what
 * follows in the same write, so a stream of several frames (files concatenated, pzstd's output) must
 * reach it one frame per decompressor. Pure.
 */

/** Bytes of one frame, in order; the frame's last piece has `endsFrame`. */
export interface FramePiece {
  readonly bytes: Buffer;
  /** A skippable frame: metadata without data, not for the decompressor. */
  readonly skippable: boolean;
  readonly endsFrame: boolean;
}

const ZSTD_MAGIC_NUMBER = 0xfd2fb528;
/** Skippable frames have the magic numbers 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC_NUMBER = 0x184d2a50;
const MAGIC_BYTES = 4;
const BLOCK_HEADER_BYTES = 3;
const CHECKSUM_BYTES = 4;
const BLOCK_TYPE_RLE = 1;
const BLOCK_TYPE_RESERVED = 3;

type Field = 'magic' | 'descriptor' | 'blockHeader' | 'skippableSize';

type Phase =
  /** Gathering a header field of `size` bytes. */
  | { readonly kind: 'field'; readonly field: Field; readonly size: number }
  /** Bytes whose content does not matter here; then `next`. */
  | { readonly kind: 'pass'; remaining: number; readonly next: 'blockHeader' | 'checksum' | 'frameEnd' }
  /** Not a frame this reads: everything goes to the decompressor, which refuses it. */
  | { readonly kind: 'opaque' };

const field = (name: Field, size: number): Phase => ({ kind: 'field', field: name, size });

/** The header bytes after the descriptor: window descriptor, dictionary id and content size (3.1.1.1). */
function headerBytesAfterDescriptor(descriptor: number): number {
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3] ?? 0;
  const contentSizeBytes = contentSizeFlag === 0 ? singleSegment : 1 << contentSizeFlag;
  return (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes;
}

export class ZstdFrameSplitter {
  private phase: Phase = field('magic', MAGIC_BYTES);
  /** The header field being gathered; fields may straddle chunks. */
  private fieldBytes: number[] = [];
  private skippable = false;
  private checksum = false;
  private lastBlock = false;
  /** The current frame's bytes from this chunk, not yet handed out. */
  private piece: Buffer[] = [];

  /** Whether the bytes so far end exactly at the end of a frame (or are none). */
  get betweenFrames(): boolean {
    return this.phase.kind === 'field' && this.phase.field === 'magic' && this.fieldBytes.length === 0;
  }

  /** The chunk's bytes as pieces of frames, in order. */
  split(chunk: Buffer): FramePiece[] {
    const pieces: FramePiece[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const phase = this.phase;
      if (phase.kind === 'opaque') {
        this.piece.push(chunk.subarray(offset));
        offset = chunk.length;
      } else if (phase.kind === 'pass') {
        const taken = Math.min(phase.remaining, chunk.length - offset);
        this.piece.push(chunk.subarray(offset, offset + taken));
        offset += taken;
        phase.remaining -= taken;
        if (phase.remaining === 0) this.afterPass(phase.next, pieces);
      } else {
        const taken = Math.min(phase.size - this.fieldBytes.length, chunk.length - offset);
        const bytes = chunk.subarray(offset, offset + taken);
        this.fieldBytes.push(...bytes);
        // The magic number is held until it is known whether its frame is skippable.
        if (phase.field !== 'magic') this.piece.push(bytes);
        offset += taken;
        if (this.fieldBytes.length === phase.size) this.fieldDone(phase.field, Buffer.from(this.fieldBytes), pieces);
      }
    }
    this.handOut(pieces, false);
    return pieces;
  }

  private fieldDone(name: Field, bytes: Buffer, pieces: FramePiece[]): void {
    this.fieldBytes = [];
    if (name === 'magic') {
      const magic = bytes.readUInt32LE(0);
      this.skippable = (magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC_NUMBER;
      this.piece.push(bytes);
      if (this.skippable) this.phase = field('skippableSize', 4);
      else if (magic === ZSTD_MAGIC_NUMBER) this.phase = field('descriptor', 1);
      else this.phase = { kind: 'opaque' };
    } else if (name === 'skippableSize') {
      this.pass(bytes.readUInt32LE(0), 'frameEnd', pieces);
    } else if (name === 'descriptor') {
      const descriptor = bytes[0] ?? 0;
      this.checksum = ((descriptor >> 2) & 1) === 1;
      this.pass(headerBytesAfterDescriptor(descriptor), 'blockHeader', pieces);
    } else {
      const header = bytes.readUIntLE(0, BLOCK_HEADER_BYTES);
      this.lastBlock = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === BLOCK_TYPE_RESERVED) {
        this.phase = { kind: 'opaque' };
        return;
      }
      const contentBytes = type === BLOCK_TYPE_RLE ? 1 : header >> 3;
      this.pass(contentBytes, this.lastBlock ? (this.checksum ? 'checksum' : 'frameEnd') : 'blockHeader', pieces);
    }
  }

  private pass(bytes: number, next: 'blockHeader' | 'checksum' | 'frameEnd', pieces: FramePiece[]): void {
    this.phase = { kind: 'pass', remaining: bytes, next };
    if (bytes === 0) this.afterPass(next, pieces);
  }

  private afterPass(next: 'blockHeader' | 'checksum' | 'frameEnd', pieces: FramePiece[]): void {
    if (next === 'blockHeader') this.phase = field('blockHeader', BLOCK_HEADER_BYTES);
    else if (next === 'checksum') this.pass(CHECKSUM_BYTES, 'frameEnd', pieces);
    else {
      this.handOut(pieces, true);
      this.phase = field('magic', MAGIC_BYTES);
    }
  }

  private handOut(pieces: FramePiece[], endsFrame: boolean): void {
    if (this.piece.length === 0 && !endsFrame) return;
    const bytes = this.piece.length === 1 ? (this.piece[0] as Buffer) : Buffer.concat(this.piece);
    pieces.push({ bytes, skippable: this.skippable, endsFrame });
    this.piece = [];
  }
}
