import type { OpenParquetObject, ParquetObjectSink } from '../../worker/output/parquet/object-sink.ts';

/** Collects an object's bytes in memory; `bytes()` is the object once finished. */
export class MemorySink implements ParquetObjectSink {
  private readonly chunks: Uint8Array[] = [];
  private state: 'open' | 'finished' | 'aborted' = 'open';

  write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`cannot write to a ${this.state} object`));
    // Copied: the caller may reuse its buffer.
    this.chunks.push(bytes.slice());
    return Promise.resolve();
  }

  finish(): Promise<number> {
    if (this.state !== 'open') return Promise.reject(new Error(`cannot finish a ${this.state} object`));
    this.state = 'finished';
    return Promise.resolve(this.chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  }

  abort(): Promise<void> {
    if (this.state === 'open') this.state = 'aborted';
    return Promise.resolve();
  }

  get finished(): boolean {
    return this.state === 'finished';
  }

  get aborted(): boolean {
    return this.state === 'aborted';
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A MemorySink per key, kept for inspection: the in-memory stand-in for a bucket. */
export class MemoryBucket {
  readonly objects = new Map<string, MemorySink>();

  readonly open: OpenParquetObject = (key) => {
    const sink = new MemorySink();
    this.objects.set(key, sink);
    return sink;
  };

  /** The finished objects by key, sorted by key. */
  finishedObjects(): Map<string, Buffer> {
    const finished = [...this.objects].filter(([, sink]) => sink.finished).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new Map(finished.map(([key, sink]) => [key, sink.bytes()]));
  }
}
