/**
 * Splitting an object of the `lines` format into chunks without reading it: the dispatcher
 * plans byte ranges from the object's size alone; each worker reads its range (one ranged GET
 * of `windowFor(range)`) and keeps the lines that start inside it (`parseRange`). Global line
 * numbers come later, from the line counts of the ranges before (`globalBadLines`).
 */
import {
  type BadLine,
  firstLineStart,
  MAX_LINE_BYTES,
  MAX_REPORTED_BAD_LINES,
  type ParsedLines,
  parseLinesFrom,
} from './lines.ts';

/** Bytes [start, end) of an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The default bytes per range (384 KiB), from the limits a range's results must fit:
 * - one synchronous Invoke to the aggregator, 6 MB of JSON: a square's JSON is at most 6.7
 *   times its line (".7\n", 3 bytes, squares to 0.48999999999999994), so 384 KiB gives at
 *   most 2.6 MB, always inside;
 * - one DynamoDB item, 400 KB, for the gzip-compressed page of squares: measured with `seq`
 *   lines near 10^8 (9 bytes a line), 43,700 squares compress to about 280 KB (6.4 bytes a
 *   square), inside MAX_CHUNK_RESULT_BYTES (300,000). Lines of short, random fractions can
 *   compress worse (up to about their own size), so a writer must still split a page that
 *   does not fit;
 * - an SQS message carries only the range, so the 1 MiB message limit does not bind.
 * Larger ranges would repay a range's fixed costs (a GET, an Invoke, a write) better but no
 * longer fit one item; at 384 KiB, 100,000,000 `seq` numbers (889 MB) are about 2,300 ranges.
 * See README.md, "Inputs from S3".
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export const DEFAULT_RANGE_BYTES = 384 * 1024;
/**
 * Bounds of a configured range size: at least one longest line; at most 768 KiB, since a
 * range's squares are answered as one results response and may take 7 bytes of JSON a byte
 * of input (see above): 5.5 MB, inside Lambda's 6 MB response.
 */
export const MIN_RANGE_BYTES = MAX_LINE_BYTES;
export const MAX_RANGE_BYTES = 768 * 1024;
/**
 * Most bytes of a `json` input object. Its one worker reads it whole and its squares are one
 * result page (one Invoke, one DynamoDB item), so it is held to the default range size:
 * 384 KiB, about 40,000 numbers. Larger inputs take the `lines` format, which is split.
 */
export const MAX_JSON_INPUT_OBJECT_BYTES = DEFAULT_RANGE_BYTES;
/** Most numbers of one range: a good line takes at least 2 bytes ("1\n"), the last one 1. */
export const MAX_NUMBERS_PER_RANGE = Math.ceil(MAX_RANGE_BYTES / 2) + 1;

function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
}

/**
 * Plans an object of `objectSize` bytes as consecutive ranges of `rangeBytes` (the last one
 * shorter), covering every byte once. An empty object has no range.
 */
export function planRanges(
  objectSize: number,
  rangeBytes: number = DEFAULT_RANGE_BYTES,
): ByteRange[] {
  assertCount('objectSize', objectSize, 0);
  assertCount('rangeBytes', rangeBytes, 1);
  const ranges: ByteRange[] = [];
  for (let start = 0; start < objectSize; start += rangeBytes) {
    ranges.push({ start, end: Math.min(start + rangeBytes, objectSize) });
  }
  return ranges;
}

/**
 * The bytes a worker reads for a range: one byte before it (is its start a line start?) and up
 * to MAX_LINE_BYTES past it (to finish its last line), within the object.
 */
export function windowFor(range: ByteRange, objectSize: number): ByteRange {
  return {
    start: Math.max(0, range.start - 1),
    end: Math.min(objectSize, range.end + MAX_LINE_BYTES),
  };
}

/** The HTTP Range header of a window (inclusive last byte), for S3 GetObject. */
export function rangeHeader(window: ByteRange): string {
  return `bytes=${window.start}-${window.end - 1}`;
}

/**
 * The lines of `range`, from `text`: the bytes of `windowFor(range, objectSize)` decoded one
 * character per byte (latin1). Bad lines carry line numbers local to the range.
 */
export function parseRange(text: string, range: ByteRange, objectSize: number): ParsedLines {
  const window = windowFor(range, objectSize);
  if (text.length !== window.end - window.start) {
    throw new RangeError(
      `the window of bytes ${window.start}-${window.end} has ${window.end - window.start} bytes, got ${text.length}`,
    );
  }
  const to = range.end - window.start;
  const from = firstLineStart(text, range.start - window.start, to);
  if (from === -1 || range.start >= range.end) {
    return { numbers: [], lineCount: 0, badLines: [], badLineCount: 0 };
  }
  return parseLinesFrom(text, from, to, window.end === objectSize);
}

/** What a range reports for the global bad-line list. */
export interface RangeLineReport {
  readonly lineCount: number;
  readonly badLines: readonly BadLine[];
  readonly badLineCount: number;
}

/**
 * The first MAX_REPORTED_BAD_LINES bad lines of the whole input, with global 1-based line
 * numbers, from every range's report in range order (each range's line numbers shifted by the
 * lines of the ranges before it), and the total count.
 */
export function globalBadLines(reports: readonly RangeLineReport[]): {
  badLines: BadLine[];
  badLineCount: number;
  lineCount: number;
} {
  const badLines: BadLine[] = [];
  let badLineCount = 0;
  let lineCount = 0;
  for (const report of reports) {
    for (const bad of report.badLines) {
      if (badLines.length >= MAX_REPORTED_BAD_LINES) break;
      badLines.push({ ...bad, line: lineCount + bad.line });
    }
    badLineCount += report.badLineCount;
    lineCount += report.lineCount;
  }
  return { badLines, badLineCount, lineCount };
}
