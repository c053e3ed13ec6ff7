/**
 * A worker's read of its range of a `lines` object: one ranged GET of the range's window
 * (`windowFor`), then the lines that start inside the range.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Range, IfMatch)
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ParsedLines } from './lines.ts';
import { type ByteRange, parseRange, rangeHeader, windowFor } from './ranges.ts';

/** An object the job reads, as the dispatcher saw it when it planned the ranges. */
export interface InputObject {
  readonly bucket: string;
  readonly key: string;
  /** Bytes of the object; the ranges were planned from it. */
  readonly size: number;
  /** The object's ETag: a GET of a changed object fails (412) instead of mixing versions. */
  readonly etag?: string;
}

/** The object answered with other bytes than the window asked for. */
export class RangeReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RangeReadError';
  }
}

const EMPTY: ParsedLines = { numbers: [], lineCount: 0, badLines: [], badLineCount: 0 };

/**
 * Reads the lines of `range` of `object` with one ranged GET. Bad lines carry line numbers
 * local to the range (`globalBadLines` makes them global).
 * @throws RangeReadError when the answer is not the window's bytes; S3 errors as thrown by the SDK
 */
export async function readRangeLines(
  s3: S3Client,
  object: InputObject,
  range: ByteRange,
): Promise<ParsedLines> {
  if (range.start >= range.end) return EMPTY;
  const window = windowFor(range, object.size);
  const response = await s3.send(
    new GetObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      Range: rangeHeader(window),
      ...(object.etag === undefined ? {} : { IfMatch: object.etag }),
    }),
  );
  if (response.Body === undefined) throw new RangeReadError('the ranged GET returned no body');
  const bytes = await response.Body.transformToByteArray();
  const expected = window.end - window.start;
  if (bytes.length !== expected) {
    throw new RangeReadError(
      `the ranged GET of ${rangeHeader(window)} returned ${bytes.length} bytes, expected ${expected}`,
    );
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  return parseRange(text, range, object.size);
}
