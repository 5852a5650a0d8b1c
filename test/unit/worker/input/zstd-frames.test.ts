import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { constants, zstdCompressSync } from 'node:zlib';
import { ZstdFrameSplitter, type FramePiece } from '../../../../worker/input/zstd-frames.ts';

function skippableFrame(data: Buffer, magicLowNibble = 0): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50 + magicLowNibble, 0);
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** The stream cut into chunks at `cuts`, through one splitter; the frames it makes, joined back. */
function framesOf(stream: Buffer, cuts: readonly number[]): { frames: Array<{ bytes: Buffer; skippable: boolean }>; betweenFrames: boolean } {
  const splitter = new ZstdFrameSplitter();
  const points = [...new Set([0, ...cuts.map((cut) => cut % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
  const pieces: FramePiece[] = [];
  for (let index = 1; index < points.length; index += 1) pieces.push(...splitter.split(stream.subarray(points[index - 1], points[index])));
  const frames: Array<{ bytes: Buffer; skippable: boolean }> = [];
  let current: Buffer[] = [];
  for (const piece of pieces) {
    current.push(piece.bytes);
    if (piece.endsFrame) {
      frames.push({ bytes: Buffer.concat(current), skippable: piece.skippable });
      current = [];
    }
  }
  if (current.length > 0) frames.push({ bytes: Buffer.concat(current), skippable: false });
  return { frames, betweenFrames: splitter.betweenFrames };
}

const text = (lines: number, seed: number) => Array.from({ length: lines }, (_, index) => `{"n":${index * seed},"s":"${'x'.repeat(index % 50)}"}`).join('\n');

describe('the zstd frame splitter', () => {
  const frames = [
    zstdCompressSync(text(2000, 7)),
    skippableFrame(Buffer.from('metadata')),
    zstdCompressSync(text(300, 3), { params: { [constants.ZSTD_c_checksumFlag]: 1, [constants.ZSTD_c_compressionLevel]: 19 } }),
    skippableFrame(Buffer.alloc(0), 15),
    // Raw and RLE blocks: bytes zstd cannot shrink, and one repeated byte.
    zstdCompressSync(Buffer.concat(Array.from({ length: 200 }, (_, index) => createHash('sha256').update(String(index)).digest()))),
    zstdCompressSync(Buffer.alloc(300_000, 'a'), { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } }),
    zstdCompressSync(Buffer.alloc(0)),
  ];
  const stream = Buffer.concat(frames);

  it('finds every frame, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const { frames: found, betweenFrames } = framesOf(stream, cuts);
        expect(found.map(({ bytes }) => bytes.toString('hex'))).toStrictEqual(frames.map((frame) => frame.toString('hex')));
        expect(found.map(({ skippable }) => skippable)).toStrictEqual([false, true, false, true, false, false, false]);
        expect(betweenFrames).toBe(true);
      }),
    );
  });

  it('finds every frame in a stream split into single bytes', () => {
    expect(framesOf(stream, Array.from({ length: stream.length }, (_, index) => index)).frames).toHaveLength(frames.length);
  });

  it('says the stream stopped inside a frame, also inside a magic number', () => {
    const [first] = frames as [Buffer];
    expect(framesOf(first.subarray(0, first.length - 1), []).betweenFrames).toBe(false);
    expect(framesOf(Buffer.concat([first, first.subarray(0, 2)]), []).betweenFrames).toBe(false);
    expect(framesOf(Buffer.alloc(0), []).betweenFrames).toBe(true);
  });

  it('hands whatever follows an unknown magic number to the decompressor as one unended frame', () => {
    const { frames: found, betweenFrames } = framesOf(Buffer.from('{"not":"zstd"}\n'), [3, 7]);
    expect(found).toStrictEqual([{ bytes: Buffer.from('{"not":"zstd"}\n'), skippable: false }]);
    expect(betweenFrames).toBe(false);
  });
});
