import { ByteWriter } from 'hyparquet-writer';

const INITIAL_BUFFER_BYTES = 64 * 1024;

/**
 * A hyparquet-writer output that hands its bytes over at every flush (hyparquet-writer flushes after
 * each row group) and starts a new buffer, so a file never sits in memory whole: only the row group
 * being encoded does, and the chunks not yet taken.
 */
export class ByteHandoffWriter extends ByteWriter {
  private chunks: Uint8Array[] = [];

  constructor() {
    super(INITIAL_BUFFER_BYTES);
  }

  flush(): void {
    if (this.index === 0) return;
    // The buffer itself is handed over, not copied; the writer goes on in a new one.
    this.chunks.push(new Uint8Array(this.buffer, 0, this.index));
    this.buffer = new ArrayBuffer(INITIAL_BUFFER_BYTES);
    this.view = new DataView(this.buffer);
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }

  /** The bytes written since the last call, in order. */
  takeChunks(): Uint8Array[] {
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }
}
