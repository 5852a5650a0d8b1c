import { describe, it, expect, jest } from '@jest/globals';
import { LineSplitter, OVERLONG_PREFIX_BYTES, type LineSink } from '../../../../worker/records/line-splitter.ts';

type Emitted = { line: string; n: number } | { overlong: string; bytes: number; n: number };

function split(chunks: readonly (Buffer | string)[], maxLineBytes = 1024 * 1024): Emitted[] {
  const emitted: Emitted[] = [];
  const sink: LineSink = {
    line: (text, n) => emitted.push({ line: text, n }),
    overlongLine: (prefix, bytes, n) => emitted.push({ overlong: prefix, bytes, n }),
  };
  const splitter = new LineSplitter(maxLineBytes, sink);
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return emitted;
}

describe('LineSplitter', () => {
  it('splits LF-terminated lines', () => {
    expect(split(['a\nbb\n'])).toStrictEqual([{ line: 'a', n: 1 }, { line: 'bb', n: 2 }]);
  });

  it('strips the CR of CRLF line ends', () => {
    expect(split(['a\r\nbb\r\n'])).toStrictEqual([{ line: 'a', n: 1 }, { line: 'bb', n: 2 }]);
  });

  it('emits a last line without a trailing newline on end()', () => {
    const emitted: string[] = [];
    const splitter = new LineSplitter(64, { line: (text) => emitted.push(text), overlongLine: () => emitted.push('overlong') });
    splitter.push(Buffer.from('a\nlast'));
    expect(emitted).toStrictEqual(['a']);
    splitter.end();
    expect(emitted).toStrictEqual(['a', 'last']);
  });

  it('emits nothing for empty input', () => {
    expect(split([])).toStrictEqual([]);
  });

  it('emits no blank line, but counts it in the line numbers', () => {
    expect(split(['a\n\n\r\n \t\r \nb'])).toStrictEqual([
      { line: 'a', n: 1 },
      { line: 'b', n: 5 },
    ]);
  });

  it.each([
    ['vertical tab', '\v'],
    ['form feed', '\f'],
    ['no-break space', '\u00A0'],
    ['ideographic space', '\u3000'],
    ['line separator', '\u2028'],
    ['zero-width no-break space', '\uFEFF'],
  ])('takes a line of a %s for non-blank: only space, tab and CR make a line blank', (_name, space) => {
    expect(split([` ${space}\t\n`])).toStrictEqual([{ line: ` ${space}\t`, n: 1 }]);
  });

  it('strips a byte order mark at the start of the object only', () => {
    expect(split(['\uFEFFa\n\uFEFFb\n'])).toStrictEqual([{ line: 'a', n: 1 }, { line: '\uFEFFb', n: 2 }]);
  });

  it('strips a byte order mark split across chunks', () => {
    expect(split([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf, 0x61, 0x0a])])).toStrictEqual([{ line: 'a', n: 1 }]);
  });

  it.each([
    // An incomplete sequence decodes as one U+FFFD, each stray continuation byte as one.
    ['a lone EF', [0xef], 1],
    ['EF BB without BF', [0xef, 0xbb], 1],
    ['BB BF without EF', [0xbb, 0xbf], 2],
  ])('keeps %s at the start as data (U+FFFD), not a BOM', (_name, bytes, replacements) => {
    expect(split([Buffer.from([...bytes, 0x61, 0x0a])])).toStrictEqual([{ line: '\uFFFD'.repeat(replacements) + 'a', n: 1 }]);
  });

  it('keeps an object of fewer bytes than a BOM as data', () => {
    expect(split([Buffer.from([0xef, 0xbb])])).toStrictEqual([{ line: '\uFFFD', n: 1 }]);
  });

  describe('with chunk boundaries anywhere', () => {
    const input = Buffer.from('\uFEFF{"t":"é"}\r\n\n温度=21.5\nend');
    const expected = [
      { line: '{"t":"é"}', n: 1 },
      { line: '温度=21.5', n: 3 },
      { line: 'end', n: 4 },
    ];

    it('gives the same lines for every pair of split points', () => {
      for (let i = 0; i <= input.length; i += 1) {
        for (let j = i; j <= input.length; j += 1) {
          const chunks = [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
          expect({ i, j, lines: split(chunks) }).toStrictEqual({ i, j, lines: expected });
        }
      }
    });

    it('gives the same lines when fed one byte at a time', () => {
      expect(split([...input].map((byte) => Buffer.from([byte])))).toStrictEqual(expected);
    });
  });

  describe('overlong lines', () => {
    it('accepts a line of exactly maxLineBytes', () => {
      expect(split([`${'x'.repeat(64)}\n`], 64)).toStrictEqual([{ line: 'x'.repeat(64), n: 1 }]);
    });

    it('accepts a line of exactly maxLineBytes with a CRLF line end', () => {
      expect(split([`${'x'.repeat(64)}\r\n`], 64)).toStrictEqual([{ line: 'x'.repeat(64), n: 1 }]);
    });

    it('reports the byte length and a 1024-byte prefix, then goes on with the next line', () => {
      const long = 'é'.repeat(3000); // 6000 bytes
      expect(split([`ok\n${long}\nnext\n`], 4096)).toStrictEqual([
        { line: 'ok', n: 1 },
        { overlong: 'é'.repeat(512), bytes: 6000, n: 2 },
        { line: 'next', n: 3 },
      ]);
    });

    it('does not count a BOM toward line 1: a line of exactly maxLineBytes after it is accepted', () => {
      expect(split([`\uFEFF${'x'.repeat(64)}\r\n`], 64)).toStrictEqual([{ line: 'x'.repeat(64), n: 1 }]);
      expect(split([`\uFEFF${'x'.repeat(65)}\n`], 64)).toStrictEqual([{ overlong: 'x'.repeat(65), bytes: 65, n: 1 }]);
    });

    it.each([
      ['a stray EF', [0xef]],
      ['a space then BB', [0x20, 0xbb]],
      ['EF BB', [0xef, 0xbb]],
    ])('rejects an overlong line starting with %s then spaces: it is not blank', (_name, bytes) => {
      const line = Buffer.concat([Buffer.from(bytes), Buffer.alloc(100, ' ')]);
      const emitted = split([Buffer.concat([line, Buffer.from('\n')])], 64);
      expect(emitted).toMatchObject([{ bytes: line.length, n: 1 }]);
      expect(emitted[0]).toHaveProperty('overlong');
    });

    it('skips an overlong line of spaces, tabs and CRs: it is blank', () => {
      expect(split([` \t\r${' '.repeat(200)}\nnext\n`], 64)).toStrictEqual([{ line: 'next', n: 2 }]);
    });

    it('reports the byte length of a CRLF-terminated overlong line without its CR', () => {
      expect(split([`${'x'.repeat(100)}\r\nnext\r\n`], 64)).toStrictEqual([
        { overlong: 'x'.repeat(100), bytes: 100, n: 1 },
        { line: 'next', n: 2 },
      ]);
    });

    it('cuts the prefix on a character boundary, never past 1024 bytes', () => {
      const long = 'a'.repeat(OVERLONG_PREFIX_BYTES - 1) + '温度'.repeat(1000);
      const [first] = split([long], 2048);
      const prefix = first !== undefined && 'overlong' in first ? first.overlong : '';
      expect(first).toMatchObject({ bytes: 1023 + 6000, n: 1 });
      expect({ byteLength: Buffer.byteLength(prefix), replacementCharacters: prefix.split('\uFFFD').length - 1 }).toStrictEqual({
        byteLength: OVERLONG_PREFIX_BYTES - 1,
        replacementCharacters: 0,
      });
    });

    it('keeps only about maxLineBytes of a 10 MiB line fed in 64 KiB chunks', () => {
      // Prepare
      const chunkBytes = 64 * 1024;
      const maxLineBytes = 1024 * 1024;
      const filler = Buffer.alloc(chunkBytes, 'x');
      const chunks = [Buffer.concat([Buffer.from('head'), filler.subarray(4)]), ...Array<Buffer>(159).fill(filler), Buffer.from('\nnext\n')];
      const concat = jest.spyOn(Buffer, 'concat');
      // Act: the only join of pending chunks is the one when the line ends
      const emitted = split(chunks, maxLineBytes);
      const joined = concat.mock.calls.map(([list]) => list.reduce((sum, part) => sum + part.length, 0));
      concat.mockRestore();
      // Assess
      expect(emitted).toStrictEqual([
        { overlong: 'head' + 'x'.repeat(OVERLONG_PREFIX_BYTES - 4), bytes: 160 * chunkBytes, n: 1 },
        { line: 'next', n: 2 },
      ]);
      expect(joined.length).toBeGreaterThan(0);
      expect(Math.max(...joined)).toBeLessThanOrEqual(maxLineBytes + 2 * chunkBytes);
    });
  });
});
