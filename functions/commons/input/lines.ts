/**
 * The `lines` input format: one number per line, as `seq` prints it. Lines end with `\n` or
 * `\r\n`, and the last one may have no line break. Each line is read by the grammar of
 * `numbers.ts` (Python's int() and float()); a bad line is reported with its 1-based line
 * number and a reason, at most MAX_REPORTED_BAD_LINES of them (the total is always counted).
 *
 * The same code reads a whole text and one byte range of an object: a line belongs to the range
 * where it starts (see `ranges.ts`), so the ranges of an object give every line exactly once.
 */
import { MAX_INTEGER_DIGITS, MAX_REPORTED_ERRORS } from '../limits.ts';
import {
  type InvalidElementCode,
  isProblem,
  type NumberInput,
  readLineLiteral,
} from '../numbers.ts';

/** Most bad lines one report lists; the count covers them all. */
export const MAX_REPORTED_BAD_LINES = MAX_REPORTED_ERRORS;

/** The longest line text accepted: a sign and MAX_INTEGER_DIGITS digits. */
export const MAX_LINE_CHARS = MAX_INTEGER_DIGITS + 1;

/**
 * The most bytes a good line takes with its line break (`\r\n`). A reader of a range reads this
 * far past the range's end to finish its last line; a line that does not end by then is bad.
 */
export const MAX_LINE_BYTES = MAX_LINE_CHARS + 2;

const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

export interface BadLine {
  /** 1-based: in the whole input, or in its range for a range's own report. */
  readonly line: number;
  readonly code: InvalidElementCode;
  readonly message: string;
}

/** What one text or one range holds. */
export interface ParsedLines {
  /** The numbers of the good lines, in order (canonical elements). */
  readonly numbers: NumberInput[];
  /** Every line counted, good and bad. */
  readonly lineCount: number;
  /** The first MAX_REPORTED_BAD_LINES bad lines, in order. */
  readonly badLines: BadLine[];
  readonly badLineCount: number;
}

const LINE_TOO_LONG = {
  code: 'LINE_TOO_LONG',
  message: `the line is longer than ${MAX_LINE_CHARS} characters (a sign and ${MAX_INTEGER_DIGITS} digits)`,
} as const;

/**
 * Reads the lines that start in text[from, to) (offsets into `text`), where `from` is a line
 * start. A line starting before `to` is read to its end even past `to`. `textIsComplete` says
 * whether `text` ends where the input ends; if it does not, a line that does not end inside
 * `text` is too long (the caller gave MAX_LINE_BYTES past `to`).
 */
export function parseLinesFrom(
  text: string,
  from: number,
  to: number,
  textIsComplete: boolean,
): ParsedLines {
  const numbers: NumberInput[] = [];
  const badLines: BadLine[] = [];
  let badLineCount = 0;
  let lineCount = 0;
  let start = from;
  while (start < to) {
    lineCount++;
    const lineFeed = text.indexOf('\n', start);
    let end = lineFeed === -1 ? text.length : lineFeed;
    const complete = lineFeed !== -1 || textIsComplete;
    if (end > start && text.charCodeAt(end - 1) === CARRIAGE_RETURN) end--;
    const reading =
      !complete || end - start > MAX_LINE_CHARS ? LINE_TOO_LONG : readLineLiteral(text, start, end);
    if (isProblem(reading)) {
      badLineCount++;
      if (badLines.length < MAX_REPORTED_BAD_LINES) badLines.push({ line: lineCount, ...reading });
    } else {
      numbers.push(reading);
    }
    if (lineFeed === -1) break;
    start = lineFeed + 1;
  }
  return { numbers, lineCount, badLines, badLineCount };
}

/** Reads a whole `lines` text (for bytes, decode them as latin1: one character per byte). */
export function parseLines(text: string): ParsedLines {
  return parseLinesFrom(text, 0, text.length, true);
}

/** Where the first line starting at or after `position` begins, or -1 if none begins before `to`. */
export function firstLineStart(text: string, position: number, to: number): number {
  if (position === 0 || text.charCodeAt(position - 1) === LINE_FEED) return position;
  const lineFeed = text.indexOf('\n', position);
  return lineFeed === -1 || lineFeed + 1 >= to ? -1 : lineFeed + 1;
}
