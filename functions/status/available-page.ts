/**
 * The results of a RUNNING job that are stored so far, from one chunk on: the run of
 * consecutive stored pages starting there (`GET /jobs/{jobId}/results?partial=true`).
 * A client streams a job's squares by following `nextCursor`, which points at the first
 * chunk not yet stored (or past the response's pages).
 */
import { chunkOffset } from '#commons/completion.ts';
import type { JobRecord } from '#store/jobs.ts';
import { readPages, type StoredPage } from '#store/pages.ts';
import type { JobTable } from '#store/table.ts';

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
 * a page stored a moment ago is seen). The page before is read too, so that an empty answer
 * still says where its numbers start (not for a job from S3, whose pages keep no offset); a
 * cursor only ever follows a stored chunk.
 */
export async function readAvailablePages(
  table: JobTable,
  job: JobRecord,
  fromChunkIndex: number,
  maxPages: number,
): Promise<AvailablePage> {
  // A range page of a job from S3 stores no offset (its count is known only once its lines
  // are read), so the page before could not tell where this one starts: it is not read.
  const first = job.input === undefined ? Math.max(0, fromChunkIndex - 1) : fromChunkIndex;
  const end = Math.min(job.chunkCount, fromChunkIndex + maxPages);
  const indexes = Array.from({ length: end - first }, (_, i) => first + i);
  const { pages } = await readPages(table, job.jobId, indexes, { consistent: true });
  const before = pages.get(fromChunkIndex - 1);
  const chunks: StoredPage[] = [];
  for (let index = fromChunkIndex; index < end; index++) {
    const page = pages.get(index);
    if (page === undefined) break;
    chunks.push(page);
  }
  const head = chunks[0];
  const offset =
    head?.offset ??
    (head === undefined && before?.offset !== undefined
      ? before.offset + before.count
      : before === undefined && fromChunkIndex === 0
        ? 0
        : await chunkOffset(table, job, fromChunkIndex));
  const next = fromChunkIndex + chunks.length;
  return { chunks, offset, nextChunkIndex: next >= job.chunkCount ? undefined : next };
}
