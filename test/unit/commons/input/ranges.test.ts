import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, parseLines } from '#commons/input/lines.ts';
import {
  type ByteRange,
  DEFAULT_RANGE_BYTES,
  globalBadLines,
  parseRange,
  planRanges,
  rangeHeader,
  windowFor,
} from '#commons/input/ranges.ts';
import { MAX_INTEGER_DIGITS } from '#commons/limits.ts';

/** Ranges ending at each cut (and at the end), for an ASCII text. */
function rangesAt(size: number, cuts: readonly number[]): ByteRange[] {
  const ends = [...new Set([...cuts.filter((cut) => cut > 0 && cut < size), size])].sort(
    (a, b) => a - b,
  );
  let start = 0;
  return ends.map((end) => {
    const range = { start, end };
    start = end;
    return range;
  });
}

/** Each range read from its own window of `text`, as a worker would. */
function readAll(text: string, ranges: readonly ByteRange[]) {
  return ranges.map((range) => {
    const window = windowFor(range, text.length);
    return parseRange(text.slice(window.start, window.end), range, text.length);
  });
}

describe('Function: planRanges', () => {
  it('covers every byte once with ranges of the given size, the last one shorter', () => {
    expect(planRanges(10, 4)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
  });

  it('plans one range for an object smaller than a range, and none for an empty one', () => {
    expect(planRanges(5)).toEqual([{ start: 0, end: 5 }]);
    expect(planRanges(0)).toEqual([]);
  });

  it('plans a 1 GB object in ranges of DEFAULT_RANGE_BYTES', () => {
    const ranges = planRanges(1_000_000_000);
    expect(ranges).toHaveLength(Math.ceil(1_000_000_000 / DEFAULT_RANGE_BYTES));
    expect(ranges.at(-1)?.end).toBe(1_000_000_000);
  });

  it.each([
    [-1, 4, 'objectSize must be an integer of at least 0, got -1'],
    [1.5, 4, 'objectSize must be an integer of at least 0, got 1.5'],
    [10, 0, 'rangeBytes must be an integer of at least 1, got 0'],
    [10, Number.NaN, 'rangeBytes must be an integer of at least 1, got NaN'],
  ])('rejects size %s and range %s', (size, rangeBytes, message) => {
    expect(() => planRanges(size, rangeBytes)).toThrow(new RangeError(message));
  });
});

describe('Function: windowFor', () => {
  it('starts one byte early and ends MAX_LINE_BYTES late, within the object', () => {
    expect(windowFor({ start: 100, end: 200 }, 1_000_000)).toEqual({
      start: 99,
      end: 200 + MAX_LINE_BYTES,
    });
    expect(windowFor({ start: 0, end: 200 }, 250)).toEqual({ start: 0, end: 250 });
  });

  it('gives the inclusive HTTP Range header', () => {
    expect(rangeHeader({ start: 99, end: 200 })).toBe('bytes=99-199');
  });
});

describe('Function: parseRange', () => {
  it('gives a line that spans two ranges to the range where it starts', () => {
    // Prepare: "123" spans the cut at 5
    const text = '1\n22\n123\n4\n';

    // Act
    const [first, second] = readAll(text, rangesAt(text.length, [6]));

    // Assess
    expect(first?.numbers).toEqual([1, 22, 123]);
    expect(second?.numbers).toEqual([4]);
  });

  it('keeps the first line of a range that starts exactly at a line start', () => {
    const text = '1\n22\n333\n';
    const [first, second] = readAll(text, rangesAt(text.length, [5]));
    expect(first?.numbers).toEqual([1, 22]);
    expect(second?.numbers).toEqual([333]);
  });

  it('gives an empty last range no line', () => {
    // The cut is right before the final line feed: the last range holds only "\n".
    const text = '1\n22\n333\n';
    const parsed = readAll(text, rangesAt(text.length, [text.length - 1]));
    expect(parsed.map((range) => range.numbers)).toEqual([[1, 22, 333], []]);
    expect(parsed[1]?.lineCount).toBe(0);
  });

  it('reads no line from a range that starts and ends inside one line', () => {
    const text = `${'7'.repeat(30)}\n8\n`;
    const parsed = readAll(text, rangesAt(text.length, [10, 20]));
    expect(parsed.map((range) => range.lineCount)).toEqual([1, 0, 1]);
    expect(parsed[0]?.numbers).toEqual(['7'.repeat(30)]);
  });

  it('reads a CRLF split between ranges (the \\r in one, the \\n in the next) once', () => {
    const text = '1\r\n22\r\n333\r\n';
    const cut = text.indexOf('\r', 3) + 1; // after the \r of "22"
    const [first, second] = readAll(text, rangesAt(text.length, [cut]));
    expect(first).toEqual({ numbers: [1, 22], lineCount: 2, badLines: [], badLineCount: 0 });
    expect(second).toEqual({ numbers: [333], lineCount: 1, badLines: [], badLineCount: 0 });
  });

  it('reads a 10,000-digit integer across a boundary whole, in the range where it starts', () => {
    const big = `-${'9'.repeat(MAX_INTEGER_DIGITS)}`;
    const text = `1\n${big}\r\n2\n`;
    const parsed = readAll(text, rangesAt(text.length, [5, 5_000]));
    expect(parsed.map((range) => range.numbers)).toEqual([[1, big], [], [2]]);
  });

  it('reads the last line of an object without a trailing newline', () => {
    const text = '1\n22\n333';
    const parsed = readAll(text, rangesAt(text.length, [3, 6]));
    expect(parsed.map((range) => range.numbers)).toEqual([[1, 22], [333], []]);
    expect(readAll(text, rangesAt(text.length, [5]))[1]?.numbers).toEqual([333]);
  });

  it('calls a line that runs past the window too long, once, in the range where it starts', () => {
    const text = `1\n${'5'.repeat(MAX_LINE_BYTES + 10)}\n2\n`;
    const parsed = readAll(text, rangesAt(text.length, [4, 100]));
    expect(parsed.map((range) => range.numbers)).toEqual([[1], [], [2]]);
    expect(parsed[0]?.badLines).toEqual([
      { line: 2, code: 'LINE_TOO_LONG', message: expect.any(String) },
    ]);
    expect(parsed.map((range) => range.lineCount)).toEqual([2, 0, 1]);
  });

  it('numbers a bad line in the last byte of a range locally to that range', () => {
    const text = '1\n2\nx\n3\n';
    const cut = text.indexOf('x') + 1;
    const parsed = readAll(text, rangesAt(text.length, [cut]));
    expect(parsed[0]?.badLines).toEqual([
      { line: 3, code: 'INVALID_LITERAL', message: expect.any(String) },
    ]);
    expect(globalBadLines(parsed).badLines.map((bad) => bad.line)).toEqual([3]);
  });

  it('rejects a window text of the wrong length', () => {
    expect(() => parseRange('12', { start: 0, end: 4 }, 10)).toThrow(RangeError);
  });

  it('gives every line once, in order, and right global bad-line numbers, for any cuts', () => {
    const line = fc.oneof(
      fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e100, max: 1e100 }).map(String),
      fc.constantFrom('', ' 5 ', 'x', '1_0', 'nan', '1e', '+7', '.5', '9'.repeat(120)),
      // The longest good line, one character too long, and one longer than a whole window.
      fc.constantFrom(
        `-${'8'.repeat(MAX_INTEGER_DIGITS)}`,
        '8'.repeat(MAX_INTEGER_DIGITS + 2),
        '8'.repeat(2 * MAX_LINE_BYTES),
      ),
    );
    const input = fc.tuple(
      fc.array(line, { maxLength: 40 }),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
    );
    fc.assert(
      fc.property(
        input,
        fc.array(fc.nat(), { maxLength: 12 }),
        ([lines, lineBreak, trailing], rawCuts) => {
          // Prepare
          const text = lines.join(lineBreak) + (trailing && lines.length > 0 ? lineBreak : '');
          const cuts = rawCuts.map((cut) => (text.length === 0 ? 0 : cut % text.length));
          const whole = parseLines(text);

          // Act
          const parsed = readAll(text, rangesAt(text.length, cuts));
          const global = globalBadLines(parsed);

          // Assess
          expect(parsed.flatMap((range) => range.numbers)).toEqual(whole.numbers);
          expect(global).toEqual({
            badLines: whole.badLines,
            badLineCount: whole.badLineCount,
            lineCount: whole.lineCount,
          });
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('Function: globalBadLines', () => {
  it('shifts each range’s bad lines by the lines of the ranges before it', () => {
    const bad = (line: number) => ({ line, code: 'INVALID_LITERAL' as const, message: 'm' });
    expect(
      globalBadLines([
        { lineCount: 10, badLines: [bad(2)], badLineCount: 1 },
        { lineCount: 0, badLines: [], badLineCount: 0 },
        { lineCount: 5, badLines: [bad(1), bad(5)], badLineCount: 2 },
      ]),
    ).toEqual({ badLines: [bad(2), bad(11), bad(15)], badLineCount: 3, lineCount: 15 });
  });

  it('lists the first MAX_REPORTED_BAD_LINES of all ranges and counts them all', () => {
    const bad = (line: number) => ({ line, code: 'EMPTY_LINE' as const, message: 'm' });
    const report = {
      lineCount: 1_000,
      badLines: Array.from({ length: 1_000 }, (_, index) => bad(index + 1)),
      badLineCount: 1_000,
    };
    const global = globalBadLines([report, report]);
    expect(global.badLineCount).toBe(2_000);
    expect(global.badLines).toHaveLength(1_000);
    expect(global.badLines.at(-1)?.line).toBe(1_000);
  });
});
