/**
 * The results of a RUNNING job that are stored so far, from one chunk on: the run of
 * consecutive stored pages starting there (`GET /jobs/{jobId}/results?partial=true`).
 * A client streams a job's squares by following `nextCursor`, which points at the first
 * chunk not yet stored (or past the response's pages).
 */
import { chunkOffsetIfStored } from '#commons/completion.ts';
import { ConflictError } from '#commons/errors.ts';
import type { JobRecord } from '#store/jobs.ts';
import { getPageSpan, readPages, type StoredPage } from '#store/pages.ts';
import type { JobTable } from '#store/table.ts';
import { invalidCursorError } from './cursor.ts';

export interface AvailablePage {
  /** Consecutive stored pages from the one asked for; empty when it is not stored yet. */
  readonly chunks: StoredPage[];
  /** Index in the job of the page's first number (known from the page before when empty). */
  readonly offset: number;
  /** The chunk to ask for next, or undefined after the job's last chunk. */
  readonly nextChunkIndex: number | undefined;
}

/**
 * Consecutive stored pages from `fromChunkIndex`, at most `maxPages` (strongly consistent:
 * a page stored a moment ago is seen). When the first is not stored yet, where its numbers
 * start comes from the cursor (`knownOffset`), else from the page before (its offset and
 * count only; not for a job from S3, whose pages keep no offset); a cursor only ever follows
 * a stored chunk.
 * @throws BadRequestError (INVALID_CURSOR) when the first page's offset is not the cursor's
 */
export async function readAvailablePages(
  table: JobTable,
  job: JobRecord,
  fromChunkIndex: number,
  maxPages: number,
  knownOffset?: number,
): Promise<AvailablePage> {
  const end = Math.min(job.chunkCount, fromChunkIndex + maxPages);
  const indexes = Array.from({ length: end - fromChunkIndex }, (_, i) => fromChunkIndex + i);
  const { pages } = await readPages(table, job.jobId, indexes, { consistent: true });
  const chunks: StoredPage[] = [];
  for (let index = fromChunkIndex; index < end; index++) {
    const page = pages.get(index);
    if (page === undefined) break;
    chunks.push(page);
  }
  const next = fromChunkIndex + chunks.length;
  return {
    chunks,
    offset: await offsetOf(table, job, fromChunkIndex, chunks[0], knownOffset),
    nextChunkIndex: next >= job.chunkCount ? undefined : next,
  };
}

/** Where the numbers of chunk `chunkIndex` start, from its page when it has been read. */
async function offsetOf(
  table: JobTable,
  job: JobRecord,
  chunkIndex: number,
  head: StoredPage | undefined,
  knownOffset: number | undefined,
): Promise<number> {
  if (head?.offset !== undefined) {
    if (knownOffset !== undefined && knownOffset !== head.offset) throw invalidCursorError();
    return head.offset;
  }
  if (chunkIndex === 0) return 0;
  if (head === undefined && job.input === undefined) {
    if (knownOffset !== undefined) return knownOffset;
    const before = await getPageSpan(table, job.jobId, chunkIndex - 1);
    if (before?.offset !== undefined) return before.offset + before.count;
  }
  const found = await chunkOffsetIfStored(table, job, chunkIndex);
  if ('offset' in found) return found.offset;
  // A cursor only follows stored chunks, but `?page=` may point past them.
  throw new ConflictError(
    'RESULTS_NOT_STORED',
    `chunk ${found.missingChunk}, before chunk ${chunkIndex}, is not stored yet; ask from an earlier page or cursor`,
    { details: { chunkIndex, missingChunk: found.missingChunk } },
  );
}
