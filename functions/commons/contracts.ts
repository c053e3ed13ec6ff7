/**
 * Runtime checks of the messages between the pipeline's stages (see types.ts). Every stage
 * validates what it receives: a queue or an Invoke payload is an untyped boundary.
 */
import { InvalidChunkMessageError, InvalidChunkResultError } from './errors.ts';
import { type BadLine, MAX_REPORTED_BAD_LINES } from './input/lines.ts';
import { MAX_NUMBERS_PER_RANGE } from './input/ranges.ts';
import {
  MAX_CHUNKS_PER_JOB,
  MAX_FAILURE_REASON_LENGTH,
  MAX_INPUT_OBJECT_BYTES,
  MAX_LAMBDA_MEMORY_MB,
  MAX_NUMBERS_PER_CHUNK,
  MAX_NUMBERS_PER_JOB,
  SQS_MAX_MESSAGE_BYTES,
} from './limits.ts';
import { checkElement, type NumberInput } from './numbers.ts';
import {
  type AggregateOutcome,
  type ChunkMessage,
  type InputFormat,
  type InputRange,
  isJobStatus,
  type RangeReport,
  type ReceivedChunkResult,
} from './types.ts';

/** A job id as the dispatcher makes it: crypto.randomUUID(), lowercase. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID.test(value);
}

type Fields = Record<string, unknown>;

function isPlainObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max;
}

/**
 * Parses and validates the body of a work-queue message.
 * @throws InvalidChunkMessageError naming the first problem found
 */
export function parseChunkMessage(body: string): ChunkMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new InvalidChunkMessageError('chunk message is not JSON', { cause: error });
  }
  const fail = (problem: string): never => {
    throw new InvalidChunkMessageError(`invalid chunk message: ${problem}`);
  };
  if (!isPlainObject(value)) return fail('not an object');
  const { jobId, chunkIndex, chunkCount, offset, numbers } = value;
  if (!isJobId(jobId)) return fail('jobId is not a job id');
  if (!isIndex(chunkCount, MAX_CHUNKS_PER_JOB) || chunkCount < 1) {
    return fail('chunkCount is not a positive integer');
  }
  if (!isIndex(chunkIndex, chunkCount - 1))
    return fail('chunkIndex is not an index below chunkCount');
  if (Object.hasOwn(value, 'range')) {
    return { jobId, chunkIndex, chunkCount, range: parseInputRange(value.range, fail) };
  }
  if (!isIndex(offset, MAX_NUMBERS_PER_JOB - 1)) return fail('offset is not a valid index');
  if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > MAX_NUMBERS_PER_CHUNK) {
    return fail(`numbers is not an array of 1 to ${MAX_NUMBERS_PER_CHUNK} elements`);
  }
  for (let index = 0; index < numbers.length; index++) {
    const problem = checkElement(numbers[index]);
    if (problem !== undefined) return fail(`numbers[${index}]: ${problem.code}`);
  }
  return { jobId, chunkIndex, chunkCount, offset, numbers: numbers as NumberInput[] };
}

const FORMATS: readonly string[] = ['lines', 'json'];

/** The `range` of a chunk message of an S3 input. */
function parseInputRange(value: unknown, fail: (problem: string) => never): InputRange {
  if (!isPlainObject(value)) return fail('range is not an object');
  const { bucket, key, etag, size, start, end, format } = value;
  if (typeof bucket !== 'string' || bucket === '') return fail('range.bucket is not a bucket');
  if (typeof key !== 'string' || key === '') return fail('range.key is not a key');
  if (etag !== undefined && typeof etag !== 'string') return fail('range.etag is not a string');
  if (!isIndex(size, MAX_INPUT_OBJECT_BYTES) || size < 1) return fail('range.size is not a size');
  if (!isIndex(end, size) || !isIndex(start, end)) {
    return fail('range.start and range.end are not a range of the object');
  }
  if (typeof format !== 'string' || !FORMATS.includes(format)) {
    return fail('range.format is not "lines" or "json"');
  }
  return {
    bucket,
    key,
    ...(etag !== undefined && { etag }),
    size,
    start,
    end,
    format: format as InputFormat,
  };
}

/** The `lines` report of a chunk result of an S3 input. */
function parseRangeReport(value: unknown, fail: (problem: string) => never): RangeReport {
  if (!isPlainObject(value)) return fail('lines is not an object');
  const { lineCount, badLines, badLineCount, bytes } = value;
  if (!isIndex(lineCount, MAX_INPUT_OBJECT_BYTES)) return fail('lines.lineCount is not a count');
  if (!isIndex(badLineCount, lineCount)) return fail('lines.badLineCount is not a count');
  if (!isIndex(bytes, MAX_INPUT_OBJECT_BYTES)) return fail('lines.bytes is not a count');
  if (
    !Array.isArray(badLines) ||
    badLines.length > Math.min(badLineCount, MAX_REPORTED_BAD_LINES)
  ) {
    return fail('lines.badLines is not a list of the bad lines');
  }
  const parsed: BadLine[] = [];
  for (const bad of badLines) {
    if (
      !isPlainObject(bad) ||
      !isIndex(bad.line, lineCount) ||
      bad.line < 1 ||
      typeof bad.code !== 'string' ||
      typeof bad.message !== 'string'
    ) {
      return fail('lines.badLines holds an entry that is not a bad line');
    }
    parsed.push({
      line: bad.line,
      code: bad.code as BadLine['code'],
      message: bad.message.slice(0, MAX_FAILURE_REASON_LENGTH),
    });
  }
  return { lineCount, badLines: parsed, badLineCount, bytes };
}

/**
 * The compressed squares of a chunk result, with their count and JSON length checked against
 * the chunk's bounds and, for a range, its good lines.
 */
function parseSquares(
  value: Fields,
  lines: RangeReport | undefined,
  fail: (problem: string) => never,
): Pick<ReceivedChunkResult, 'count' | 'resultsJsonLength' | 'resultsGzip'> {
  // A range may hold no good line (all bad, or it starts inside the object's last line).
  const [fewest, most] =
    lines === undefined ? [1, MAX_NUMBERS_PER_CHUNK] : [0, MAX_NUMBERS_PER_RANGE];
  const { resultsGzip, count, resultsJsonLength } = value;
  if (typeof resultsGzip !== 'string') return fail('resultsGzip is not base64 text');
  // Buffer.from skips what is not base64; text that encodes back the same dropped nothing
  // (both native: a pattern test of the whole text cost more than the decoding).
  const bytes = Buffer.from(resultsGzip, 'base64');
  if (bytes.toString('base64') !== resultsGzip) return fail('resultsGzip is not base64 text');
  // Every gzip member starts with these two bytes (RFC 1952).
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    return fail('resultsGzip is not gzip data');
  }
  if (!isIndex(count, most) || count < fewest) {
    return fail(`count is not an integer from ${fewest} to ${most}`);
  }
  if (lines !== undefined && count !== lines.lineCount - lines.badLineCount) {
    return fail('results do not match the good lines of the range');
  }
  // "[]" at least, and a digit and a comma per square.
  if (!isIndex(resultsJsonLength, Number.MAX_SAFE_INTEGER) || resultsJsonLength < 2 * count) {
    return fail('resultsJsonLength is not the length of their JSON');
  }
  return { count, resultsJsonLength, resultsGzip: bytes };
}

/**
 * Validates an aggregator payload, a ChunkResult. Its squares are checked by count and
 * length, not decompressed.
 */
export function parseChunkResult(value: unknown): ReceivedChunkResult {
  const fail = (problem: string): never => {
    throw new InvalidChunkResultError(`invalid chunk result: ${problem}`);
  };
  if (!isPlainObject(value)) return fail('not an object');
  const { jobId, chunkIndex, offset, computeMs, receiveCount } = value;
  const { durationMs, memoryMb, messageBytes } = value;
  if (!isJobId(jobId)) return fail('jobId is not a job id');
  if (!isIndex(chunkIndex, MAX_NUMBERS_PER_JOB - 1)) return fail('chunkIndex is not a valid index');
  if (!isIndex(offset, MAX_NUMBERS_PER_JOB - 1)) return fail('offset is not a valid index');
  const lines = value.lines === undefined ? undefined : parseRangeReport(value.lines, fail);
  const squares = parseSquares(value, lines, fail);
  if (typeof computeMs !== 'number' || !Number.isFinite(computeMs) || computeMs < 0) {
    return fail('computeMs is not a non-negative number');
  }
  if (!isIndex(receiveCount, Number.MAX_SAFE_INTEGER)) {
    return fail('receiveCount is not a non-negative integer');
  }
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
    return fail('durationMs is not a non-negative number');
  }
  if (!isIndex(memoryMb, MAX_LAMBDA_MEMORY_MB)) {
    return fail(`memoryMb is not an integer from 0 to ${MAX_LAMBDA_MEMORY_MB}`);
  }
  if (!isIndex(messageBytes, SQS_MAX_MESSAGE_BYTES)) {
    return fail(`messageBytes is not an integer from 0 to ${SQS_MAX_MESSAGE_BYTES}`);
  }
  const { statusRead } = value;
  if (statusRead !== undefined && typeof statusRead !== 'boolean') {
    return fail('statusRead is not a boolean');
  }
  return {
    jobId,
    chunkIndex,
    offset,
    ...squares,
    computeMs,
    receiveCount,
    durationMs,
    memoryMb,
    messageBytes,
    ...(statusRead !== undefined && { statusRead }),
    ...(lines !== undefined && { lines }),
  };
}

const OUTCOMES: readonly string[] = ['STORED', 'DUPLICATE', 'JOB_NOT_RUNNING'];

/** Validates the aggregator's answer; undefined when it is not an AggregateOutcome. */
export function parseAggregateOutcome(value: unknown): AggregateOutcome | undefined {
  if (!isPlainObject(value)) return undefined;
  const { outcome, jobStatus } = value;
  if (typeof outcome !== 'string' || !OUTCOMES.includes(outcome) || !isJobStatus(jobStatus)) {
    return undefined;
  }
  return { outcome: outcome as AggregateOutcome['outcome'], jobStatus };
}
