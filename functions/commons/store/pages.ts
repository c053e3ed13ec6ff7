/**
 * Result pages: one item per chunk, `pk = PAGE#<jobId>#<chunkIndex 8 digits>`, `sk = PAGE`,
 * holding the chunk's squares as the gzip of their JSON array text in a Binary attribute.
 *
 * - Its own partition key: a job's pages hash over all of the table's partitions, so a job
 *   storing hundreds of chunks a second spreads its writes instead of queuing on one key.
 * - Compressed: DynamoDB bills writes per KB of item, and its guidance for large values is
 *   to compress them into a Binary attribute. The JSON text is what is compressed, so a big
 *   square stays the exact decimal string it was, and a float the text JSON.stringify gave.
 * - Written once: a plain PutItem under `attribute_not_exists(pk)` (1 write unit per KB, not
 *   a transaction's 2); a failed condition means the page is already stored (a duplicate).
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-use-s3-too.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { gzipNumbersText, REPEATING_TEXT_GZIP_LEVEL } from '../compression.ts';
import { itemSizeBytes, readUnits, writeUnits } from '../cost.ts';
import { InconsistentJobError, InvalidChunkResultError } from '../errors.ts';
import type { BadLine } from '../input/lines.ts';
import { DYNAMODB_MAX_ITEM_BYTES } from '../limits.ts';
import type { Sleep } from '../retry.ts';
import { PARTITION_KEY, pageKey } from './keys.ts';
import {
  batchGetItems,
  type Item,
  isConditionalCheckFailed,
  isCount,
  type JobTable,
  projection,
} from './table.ts';

/**
 * Where a page's compressed squares must fit: the 400 KB item, less room for its other
 * attributes (keys, counts, and a range's bad lines: at most 1,000 reasons of 200
 * characters, which compress to tens of KB).
 */
const PAGE_RESULTS_FIT_BYTES = DYNAMODB_MAX_ITEM_BYTES - 64 * 1024;

/**
 * A page's `results` attribute: the gzip of a chunk's squares as JSON array text
 * (commons/compression.ts: Huffman coding alone for digits in no order, which is smaller and
 * three times faster than LZ77 on them). The worker compresses its chunk with it before the
 * hand-off, so that the aggregator stores the bytes it is given.
 */
export function gzipResults(resultsJson: string): Buffer {
  return gzipNumbersText(resultsJson, PAGE_RESULTS_FIT_BYTES);
}

/** One chunk's results, as the aggregator stores them. */
export interface PageToStore {
  readonly jobId: string;
  readonly chunkIndex: number;
  /** Absent for a range of an S3 input: its place follows from the counts before it. */
  readonly offset?: number;
  readonly count: number;
  /** The chunk's squares: the gzip of their JSON array text (gzipResults). */
  readonly resultsGzip: Uint8Array;
  readonly expiresAt: number;
  /** A range's bad lines (numbered within the range), kept for the job's INVALID_INPUT list. */
  readonly badLines?: readonly BadLine[];
}

/** One chunk's results, as read back. */
export interface StoredPage {
  readonly chunkIndex: number;
  /** Undefined for a range of an S3 input (see PageToStore). */
  readonly offset: number | undefined;
  readonly count: number;
  readonly resultsJson: string;
  /** A range's bad lines, numbered within the range (empty for other pages). */
  readonly badLines: readonly BadLine[];
}

/** The item putPage writes. */
export function buildPageItem(page: PageToStore): Item {
  const badLines = page.badLines ?? [];
  return {
    ...pageKey(page.jobId, page.chunkIndex),
    ...(page.offset !== undefined && { offset: page.offset }),
    count: page.count,
    results: page.resultsGzip,
    ...(badLines.length > 0 && {
      badLines: gzipSync(JSON.stringify(badLines), { level: REPEATING_TEXT_GZIP_LEVEL }),
    }),
    expiresAt: page.expiresAt,
  };
}

export interface PutPageOutcome {
  /** STORED by this call, or found stored (DUPLICATE). */
  readonly outcome: 'STORED' | 'DUPLICATE';
  /** The write's units: a failed conditional write is billed too. */
  readonly writeUnits: number;
}

/**
 * Stores a chunk's page once.
 * @throws InvalidChunkResultError when the compressed page does not fit one item (a range of
 *   squares that compress badly: the job's ranges must be made smaller); a page is never split
 */
export async function putPage(table: JobTable, page: PageToStore): Promise<PutPageOutcome> {
  const item = buildPageItem(page);
  const bytes = itemSizeBytes(item);
  if (bytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new InvalidChunkResultError(
      `the page of chunk ${page.chunkIndex} takes ${bytes} bytes compressed, over DynamoDB's ${DYNAMODB_MAX_ITEM_BYTES}-byte item limit; give the job smaller ranges`,
    );
  }
  const units = writeUnits(bytes);
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: item,
        ConditionExpression: `attribute_not_exists(${PARTITION_KEY})`,
      }),
    );
    return { outcome: 'STORED', writeUnits: units };
  } catch (error) {
    if (isConditionalCheckFailed(error)) return { outcome: 'DUPLICATE', writeUnits: units };
    throw error;
  }
}

/** Where a stored page's numbers lie: its offset (none for a range) and count. */
export interface PageSpan {
  readonly offset: number | undefined;
  readonly count: number;
}

/**
 * The offset and count of a stored page (strongly consistent, without its results; billed
 * by the item's size all the same), or undefined when the chunk has no page.
 */
export async function getPageSpan(
  table: JobTable,
  jobId: string,
  chunkIndex: number,
): Promise<PageSpan | undefined> {
  const response = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: pageKey(jobId, chunkIndex),
      ConsistentRead: true,
      ...projection(['offset', 'count']),
    }),
  );
  const { offset, count } = response.Item ?? {};
  if (!isCount(count)) return undefined;
  return { offset: isCount(offset) ? offset : undefined, count };
}

/** The numbers of a stored page, or undefined when the chunk has no page (getPageSpan). */
export async function getPageCount(
  table: JobTable,
  jobId: string,
  chunkIndex: number,
): Promise<number | undefined> {
  return (await getPageSpan(table, jobId, chunkIndex))?.count;
}

/**
 * The counts of the stored pages of `chunkIndexes`, by one BatchGetItem per 100 chunks,
 * strongly consistent and without their results (billed by each item's size all the same);
 * a chunk without a page is absent from the map.
 */
export async function readPageCounts(
  table: JobTable,
  jobId: string,
  chunkIndexes: readonly number[],
  sleep?: Sleep,
): Promise<Map<number, number>> {
  const indexOfPk = new Map(chunkIndexes.map((index) => [pageKey(jobId, index).pk, index]));
  const items = await batchGetItems(
    table,
    chunkIndexes.map((index) => pageKey(jobId, index)),
    { consistent: true, what: jobId, attributes: [PARTITION_KEY, 'count'], sleep },
  );
  const counts = new Map<number, number>();
  for (const item of items) {
    const index = indexOfPk.get(String(item[PARTITION_KEY]));
    if (index !== undefined && isCount(item.count)) counts.set(index, item.count);
  }
  return counts;
}

function toBadLines(jobId: string, chunkIndex: number, value: unknown): BadLine[] {
  if (value === undefined) return [];
  if (!(value instanceof Uint8Array)) {
    throw new InconsistentJobError(jobId, `result page ${chunkIndex} has unreadable bad lines`);
  }
  const parsed: unknown = JSON.parse(gunzipSync(value).toString('utf8'));
  if (!Array.isArray(parsed)) {
    throw new InconsistentJobError(jobId, `result page ${chunkIndex} has unreadable bad lines`);
  }
  return parsed as BadLine[];
}

function toStoredPage(jobId: string, chunkIndex: number, item: Item): StoredPage {
  const { offset, count, results } = item;
  if (
    (offset !== undefined && !isCount(offset)) ||
    !isCount(count) ||
    !(results instanceof Uint8Array)
  ) {
    throw new InconsistentJobError(jobId, `result page ${chunkIndex} lacks an attribute`);
  }
  // Decompressed when first asked for: a partial read drops the pages after a gap unread.
  let resultsJson: string | undefined;
  return {
    chunkIndex,
    offset,
    count,
    get resultsJson() {
      resultsJson ??= gunzipSync(results).toString('utf8');
      return resultsJson;
    },
    badLines: toBadLines(jobId, chunkIndex, item.badLines),
  };
}

export interface ReadPagesOptions {
  readonly consistent: boolean;
  readonly sleep?: Sleep;
}

export interface ReadPages {
  /** The pages found, by chunk index. */
  readonly pages: Map<number, StoredPage>;
  /** Their read units: BatchGetItem rounds each item up to 4 KB. */
  readonly readUnits: number;
}

/** Reads the pages of `chunkIndexes`; pages that do not exist are absent from the map. */
export async function readPages(
  table: JobTable,
  jobId: string,
  chunkIndexes: readonly number[],
  options: ReadPagesOptions,
): Promise<ReadPages> {
  const indexOfPk = new Map(chunkIndexes.map((index) => [pageKey(jobId, index).pk, index]));
  const items = await batchGetItems(
    table,
    chunkIndexes.map((index) => pageKey(jobId, index)),
    { consistent: options.consistent, what: jobId, sleep: options.sleep },
  );
  const pages = new Map<number, StoredPage>();
  let units = 0;
  for (const item of items) {
    const index = indexOfPk.get(String(item.pk));
    if (index === undefined) continue;
    pages.set(index, toStoredPage(jobId, index, item));
    units += readUnits(itemSizeBytes(item), { consistent: options.consistent });
  }
  return { pages, readUnits: units };
}

/**
 * Reads the pages of consecutive chunks [from, to), in order, eventually consistent first
 * and strongly consistent for any page that read missed (a page written a moment ago).
 * @throws InconsistentJobError when a page is missing, or out of place
 */
export async function readPageRange(
  table: JobTable,
  job: { readonly jobId: string },
  from: number,
  to: number,
  sleep?: Sleep,
): Promise<{ readonly pages: StoredPage[]; readonly readUnits: number }> {
  const indexes = Array.from({ length: to - from }, (_, i) => from + i);
  const first = await readPages(table, job.jobId, indexes, { consistent: false, sleep });
  let units = first.readUnits;
  const missing = indexes.filter((index) => !first.pages.has(index));
  if (missing.length > 0) {
    const second = await readPages(table, job.jobId, missing, { consistent: true, sleep });
    units += second.readUnits;
    for (const [index, page] of second.pages) first.pages.set(index, page);
  }
  const pages: StoredPage[] = [];
  for (const index of indexes) {
    const page = first.pages.get(index);
    if (page === undefined) throw new InconsistentJobError(job.jobId, `page ${index} is missing`);
    const previous = pages.at(-1);
    // Pages of an S3 input's ranges carry no offset: they are in place by their index.
    const expected = previous?.offset === undefined ? undefined : previous.offset + previous.count;
    if (expected !== undefined && page.offset !== undefined && page.offset !== expected) {
      throw new InconsistentJobError(
        job.jobId,
        `page ${index} starts at ${page.offset}, expected ${expected}`,
      );
    }
    pages.push(page);
  }
  return { pages, readUnits: units };
}

/**
 * Joins page result arrays (JSON text; a range's may be empty) into one JSON array, in the
 * given order, without parsing them.
 */
export function joinResultArrays(pages: readonly { readonly resultsJson: string }[]): string {
  const parts: string[] = [];
  for (const page of pages) {
    const inner = page.resultsJson.slice(1, -1);
    if (inner !== '') parts.push(inner);
  }
  return `[${parts.join(',')}]`;
}
