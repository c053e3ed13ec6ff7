/**
 * How a job whose input is an S3 object ends once its ranges have all reported: FAILED with
 * INVALID_INPUT when any line is bad (the first MAX_REPORTED_BAD_LINES listed with their line
 * numbers in the whole input), FAILED with TOO_MANY_NUMBERS past its limit, else SUCCEEDED
 * with the count of numbers its chunks reported.
 *
 * Global line numbers: each range counts its lines (good ones on its shard marker `c<i>`, bad
 * ones on `b<i>`), and numbers its bad lines within itself (kept on its page); a range's first
 * line is the one after all the lines of the ranges before it (ranges.ts globalBadLines).
 */
import { type BadLine, MAX_REPORTED_BAD_LINES } from './input/lines.ts';
import { globalBadLines, type RangeLineReport } from './input/ranges.ts';
import type { JobRecord } from './store/jobs.ts';
import { readPages } from './store/pages.ts';
import type { ShardState } from './store/shards.ts';
import type { JobTable } from './store/table.ts';
import type { JobFailure } from './types.ts';

/** Pages of bad ranges read per request while collecting the bad lines to list. */
const BAD_PAGES_PER_READ = 16;

/** The TOO_MANY_NUMBERS failure of a job whose ranges reported `numbers` numbers so far. */
export function tooManyNumbersFailure(numbers: number, maxNumbers: number): JobFailure {
  return {
    code: 'TOO_MANY_NUMBERS',
    message: `the input holds at least ${numbers} numbers; a job from S3 takes at most ${maxNumbers}`,
  };
}

/**
 * Why a complete S3 input job fails (from every shard, as read after its last range), or
 * undefined when it succeeds.
 */
export async function inputFailure(
  table: JobTable,
  job: JobRecord & { readonly input: NonNullable<JobRecord['input']> },
  shards: readonly ShardState[],
): Promise<JobFailure | undefined> {
  const counts = new Map<number, number>();
  const bad = new Map<number, number>();
  for (const shard of shards) {
    for (const [index, count] of shard.markers) counts.set(index, count);
    for (const [index, count] of shard.badLines) bad.set(index, count);
  }
  let numbers = 0;
  for (const count of counts.values()) numbers += count;
  if (bad.size === 0) {
    return numbers > job.input.maxNumbers
      ? tooManyNumbersFailure(numbers, job.input.maxNumbers)
      : undefined;
  }
  // The bad lines of the first bad ranges, until enough are listed.
  const badChunks = [...bad.keys()].sort((a, b) => a - b);
  const listed = new Map<number, readonly BadLine[]>();
  let collected = 0;
  for (let at = 0; at < badChunks.length && collected < MAX_REPORTED_BAD_LINES; ) {
    const batch = badChunks.slice(at, at + BAD_PAGES_PER_READ);
    at += batch.length;
    const { pages } = await readPages(table, job.jobId, batch, { consistent: true });
    for (const index of batch) {
      const lines = pages.get(index)?.badLines ?? [];
      listed.set(index, lines);
      collected += lines.length;
    }
  }
  const reports: RangeLineReport[] = [];
  for (let index = 0; index < job.chunkCount; index++) {
    const badLineCount = bad.get(index) ?? 0;
    reports.push({
      lineCount: (counts.get(index) ?? 0) + badLineCount,
      badLines: listed.get(index) ?? [],
      badLineCount,
    });
  }
  const global = globalBadLines(reports);
  const first = global.badLines[0];
  const where = first === undefined ? '' : ` (first at line ${first.line}: ${first.message})`;
  return {
    code: 'INVALID_INPUT',
    message: `${global.badLineCount} of ${global.lineCount} lines of the input are not numbers${where}; no results are published`,
    badLines: global.badLines,
    badLineCount: global.badLineCount,
  };
}
