/**
 * The results of a RUNNING job that are stored so far, from one chunk on: the run of
 * consecutive stored chunks starting there (`GET /jobs/{jobId}/results?partial=true`).
 * A client streams a job's squares by following `nextCursor`, which points at the first
 * chunk not yet stored (or not yet sent, past the page's byte budget).
 */
import { type JobTable, queryChunks, type StoredChunk } from '../commons/job-store.ts';

export interface AvailablePage {
  /** Consecutive stored chunks from the one asked for; empty when it is not stored yet. */
  readonly chunks: StoredChunk[];
  /** Index in the job of the page's first number (known from the chunk before when empty). */
  readonly offset: number;
  /** The chunk to ask for next, or undefined after the job's last chunk. */
  readonly nextChunkIndex: number | undefined;
}

/**
 * Consecutive stored chunks from `fromChunkIndex`, at most `maxBytes` of results (at least
 * one chunk when the first is stored). The query starts one chunk earlier, so that an empty
 * page still says where its numbers start; a cursor only ever follows a stored chunk.
 */
export async function readAvailableChunkPage(
  table: JobTable,
  job: { readonly jobId: string; readonly chunkCount: number },
  fromChunkIndex: number,
  maxBytes: number,
): Promise<AvailablePage> {
  const chunks: StoredChunk[] = [];
  let offset = 0;
  let bytes = 0;
  for await (const chunk of queryChunks(table, job.jobId, Math.max(0, fromChunkIndex - 1))) {
    if (chunk.chunkIndex === fromChunkIndex - 1) {
      offset = chunk.offset + chunk.count;
      continue;
    }
    if (chunk.chunkIndex !== fromChunkIndex + chunks.length) break;
    if (chunks.length > 0 && bytes + chunk.resultsJson.length > maxBytes) break;
    if (chunks.length === 0) offset = chunk.offset;
    chunks.push(chunk);
    bytes += chunk.resultsJson.length;
  }
  const next = fromChunkIndex + chunks.length;
  return { chunks, offset, nextChunkIndex: next >= job.chunkCount ? undefined : next };
}
