/**
 * The numbers of one chunk message: carried in the message (a JSON body's chunk), or read
 * from the job's S3 input (a range: one ranged GET for `lines`, the whole object for `json`).
 * A range's bad lines are reported, not thrown: the job fails INVALID_INPUT once every range
 * has reported, with global line numbers (commons/input-completion.ts).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BadLine } from '#commons/input/lines.ts';
import { readRangeLines } from '#commons/input/range-reader.ts';
import { MAX_JSON_INPUT_OBJECT_BYTES } from '#commons/input/ranges.ts';
import { parseNumbersArray } from '#commons/json-numbers.ts';
import { type NumberInput, validateNumbers } from '#commons/numbers.ts';
import type { ChunkMessage, InputRange, RangeReport } from '#commons/types.ts';

export interface ChunkInput {
  readonly numbers: NumberInput[];
  /** Index in the job of numbers[0]; 0 for a range (its place is known later). */
  readonly offset: number;
  /** For a range: what it held. */
  readonly lines?: RangeReport;
}

/** Reads a whole `json` input object (one range covering it), pinned to its ETag. */
async function readJsonObject(s3: S3Client, range: InputRange): Promise<ChunkInput> {
  const bytes = range.end - range.start;
  if (range.start !== 0 || range.end !== range.size || bytes > MAX_JSON_INPUT_OBJECT_BYTES) {
    throw new RangeError(`a json input is read whole, of at most ${MAX_JSON_INPUT_OBJECT_BYTES}`);
  }
  const response = await s3.send(
    new GetObjectCommand({
      Bucket: range.bucket,
      Key: range.key,
      ...(range.etag === undefined ? {} : { IfMatch: range.etag }),
    }),
  );
  if (response.Body === undefined) throw new Error('the GET of the json input returned no body');
  const text = await response.Body.transformToString('utf8');
  const badLine = (bad: Omit<BadLine, 'line'>): ChunkInput => ({
    numbers: [],
    offset: 0,
    lines: { lineCount: 1, badLines: [{ line: 1, ...bad }], badLineCount: 1, bytes },
  });
  const parsed = parseNumbersArray(text);
  if (!parsed.ok) {
    return badLine({ code: 'NOT_A_NUMBER', message: `not a JSON array: ${parsed.reason}` });
  }
  const validation = validateNumbers(parsed.values);
  if (!validation.ok) {
    const first = validation.errors[0];
    return badLine({
      code: first?.code ?? 'NOT_A_NUMBER',
      message: `${validation.invalidCount} elements cannot be squared (first at index ${first?.index}: ${first?.message})`,
    });
  }
  const count = validation.numbers.length;
  return {
    numbers: validation.numbers,
    offset: 0,
    lines: { lineCount: count, badLines: [], badLineCount: 0, bytes },
  };
}

/** The numbers of `message`, read from S3 for a range. */
export async function readChunkInput(
  message: ChunkMessage,
  s3: S3Client | undefined,
): Promise<ChunkInput> {
  if (!('range' in message)) return { numbers: message.numbers, offset: message.offset };
  if (s3 === undefined) throw new Error('a range chunk needs the worker S3 client');
  const { range } = message;
  if (range.format === 'json') return readJsonObject(s3, range);
  const parsed = await readRangeLines(s3, range, range);
  return {
    numbers: parsed.numbers,
    offset: 0,
    lines: {
      lineCount: parsed.lineCount,
      badLines: parsed.badLines,
      badLineCount: parsed.badLineCount,
      bytes: range.end - range.start,
    },
  };
}
