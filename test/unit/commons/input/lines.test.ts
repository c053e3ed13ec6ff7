import { describe, expect, it } from 'vitest';
import {
  firstLineStart,
  MAX_LINE_CHARS,
  MAX_REPORTED_BAD_LINES,
  parseLines,
  parseLinesFrom,
} from '#commons/input/lines.ts';

describe('Function: parseLines', () => {
  it.each([
    ['with a final newline', '1\n2\n3\n'],
    ['without a final newline', '1\n2\n3'],
    ['with CRLF line breaks', '1\r\n2\r\n3\r\n'],
    ['with CRLF and no final line break', '1\r\n2\r\n3'],
    ['with mixed line breaks', '1\n2\r\n3'],
  ])('reads one number per line %s', (_, text) => {
    // Act
    const parsed = parseLines(text);

    // Assess
    expect(parsed).toEqual({ numbers: [1, 2, 3], lineCount: 3, badLines: [], badLineCount: 0 });
  });

  it('reads what `seq` prints, big integers exactly and doubles as doubles', () => {
    const parsed = parseLines('-3\n+4\n007\n9007199254740993\n2.5\n1e10\n');
    expect(parsed.numbers).toEqual([-3, 4, 7, '9007199254740993', 2.5, '1e+10']);
  });

  it('has no line in an empty text', () => {
    expect(parseLines('')).toEqual({ numbers: [], lineCount: 0, badLines: [], badLineCount: 0 });
  });

  it('counts a lone line break as one empty line', () => {
    expect(parseLines('\n')).toMatchObject({
      lineCount: 1,
      badLines: [{ line: 1, code: 'EMPTY_LINE' }],
    });
  });

  it('reports each bad line with its 1-based number and reason, and keeps the good ones', () => {
    // Act
    const parsed = parseLines('1\nx\n\n3\n1_000\r\nnan\n');

    // Assess
    expect(parsed.numbers).toEqual([1, 3]);
    expect(parsed.lineCount).toBe(6);
    expect(parsed.badLineCount).toBe(4);
    expect(parsed.badLines.map(({ line, code }) => ({ line, code }))).toEqual([
      { line: 2, code: 'INVALID_LITERAL' },
      { line: 3, code: 'EMPTY_LINE' },
      { line: 5, code: 'INVALID_LITERAL' },
      { line: 6, code: 'NOT_FINITE' },
    ]);
    expect(parsed.badLines[0]?.message).toContain('not a number literal');
  });

  it('lists at most MAX_REPORTED_BAD_LINES bad lines and counts them all', () => {
    const parsed = parseLines('x\n'.repeat(MAX_REPORTED_BAD_LINES + 7));
    expect(parsed.badLineCount).toBe(MAX_REPORTED_BAD_LINES + 7);
    expect(parsed.badLines).toHaveLength(MAX_REPORTED_BAD_LINES);
    expect(parsed.badLines.at(-1)?.line).toBe(MAX_REPORTED_BAD_LINES);
  });

  it('takes a line of MAX_LINE_CHARS characters and rejects one character more', () => {
    const longest = `-${'9'.repeat(MAX_LINE_CHARS - 1)}`;
    const parsed = parseLines(`${longest}\r\n${longest}9\n`);
    expect(parsed.numbers).toEqual([longest]);
    expect(parsed.badLines).toEqual([
      { line: 2, code: 'LINE_TOO_LONG', message: expect.stringContaining(`${MAX_LINE_CHARS}`) },
    ]);
  });

  it('rejects a carriage return inside a line and ignores one at the end of the text', () => {
    expect(parseLines('5\r6\n7\r')).toMatchObject({
      numbers: [7],
      badLines: [{ line: 1, code: 'INVALID_LITERAL' }],
    });
  });
});

describe('Function: parseLinesFrom', () => {
  it('reads a line that starts before `to` to its end, and none that starts after', () => {
    expect(parseLinesFrom('12\n345\n6', 0, 4, true).numbers).toEqual([12, 345]);
  });

  it('calls a line that does not end in an incomplete text too long', () => {
    expect(parseLinesFrom('12\n345', 0, 4, false)).toMatchObject({
      numbers: [12],
      badLines: [{ line: 2, code: 'LINE_TOO_LONG' }],
    });
  });
});

describe('Function: firstLineStart', () => {
  it.each([
    ['the text start', 'ab\ncd', 0, 5, 0],
    ['a position after a line feed', 'ab\ncd', 3, 5, 3],
    ['a position inside a line: the next line', 'ab\ncd\nef', 1, 8, 3],
    ['no line start before `to`', 'ab\ncd\nef', 4, 6, -1],
  ])('finds %s', (_, text, position, to, expected) => {
    expect(firstLineStart(text, position, to)).toBe(expected);
  });
});
