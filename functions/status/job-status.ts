/**
 * `GET /jobs/{jobId}` (status, progress, timing, attempts, failure, cost estimate, small
 * results inline) and `GET /jobs/{jobId}/results?cursor=|?page=` (results in order, the pages
 * of RESULT_PAGES_PER_RESPONSE chunks per response, INPUT_RESULT_PAGES_PER_RESPONSE for a job
 * from S3). Response `page` of `pageCount` is addressed by `?page=` as well as by its cursor,
 * so a client may fetch a finished job's responses in parallel.
 *
 * Results are passed through as the JSON text they were stored as (inflated from the page's
 * gzip), so every square comes back exactly: safe integers as numbers, bigger ones as
 * decimal strings.
 *
 * Reads per call: `GET /jobs/{jobId}` reads the job item (eventually consistent, 0.5 unit
 * per 4 KB) and, unless it SUCCEEDED, its shards (one BatchGetItem, 0.5 unit each: a shard
 * is under 1 KB; 2 for the bench's job of 100 chunks). A results response reads its 8 pages in one BatchGetItem
 * (0.5 unit per 4 KB of each compressed page: about 8 x 7.5 = 60 units for the bench's
 * chunks) and the job item.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { resultsPath } from '#commons/api-paths.ts';
import { chunkOffset, progressOf, readAllShards } from '#commons/completion.ts';
import { addUsage, type CostEstimate, estimateCost } from '#commons/cost.ts';
import { BadRequestError, ConflictError } from '#commons/errors.ts';
import { jsonWithRawMember, rawJsonResponse } from '#commons/http.ts';
import {
  INPUT_RESULT_PAGES_PER_RESPONSE,
  MAX_RECORDED_FAILED_CHUNKS,
  RESULT_PAGES_PER_RESPONSE,
} from '#commons/limits.ts';
import { MetricUnit, metrics } from '#commons/powertools.ts';
import { jobNotFoundError, type RouteRequest, type RouterDeps } from '#commons/router.ts';
import type { FailedChunk, JobFailure, JobStatus } from '#commons/types.ts';
import { getJob, type JobRecord } from '#store/jobs.ts';
import { joinResultArrays, readPageRange } from '#store/pages.ts';
import type { ShardState } from '#store/shards.ts';
import { readAvailablePages } from './available-page.ts';
import { decodeCursor, encodeCursor, invalidCursorError } from './cursor.ts';

export interface StatusDeps extends RouterDeps {
  /** Chunk pages per results response; by the job's kind (pagesPerResponseOf) unless a test sets it. */
  readonly pagesPerResponse?: number;
  /** The time a running job's duration is measured to. */
  readonly now?: () => Date;
}

/** When the job started, ended and must end by. */
export interface JobTiming {
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601, once the job is SUCCEEDED, FAILED or CANCELLED. */
  readonly completedAt?: string;
  /** From creation to completion, or to now while the job runs. */
  readonly durationMs: number;
  /** ISO 8601: past it, a job still RUNNING is FAILED (DEADLINE_EXCEEDED). */
  readonly deadlineAt?: string;
}

/** The body of `GET /jobs/{jobId}`, without the inline results. */
export interface JobView {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly numbersCount: number;
  readonly progress: {
    readonly chunksDone: number;
    readonly chunkCount: number;
    readonly numbersDone: number;
    /** An S3 input job (once started): bytes of its ranges done, of its object's bytes. */
    readonly bytesDone?: number;
    readonly bytesTotal?: number;
  };
  /** An S3 input job: `numbersCount` is 0 until it SUCCEEDS (its ranges report the counts). */
  readonly input?: {
    readonly bucket: string;
    readonly key: string;
    readonly format: string;
    readonly sizeBytes?: number;
  };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  readonly cancelledAt?: string;
  readonly timing: JobTiming;
  /** Failed chunk deliveries the workers recorded; each was delivered again (or set aside). */
  readonly attempts: number;
  /** Why the job FAILED, with its failing chunks (the first MAX_RECORDED_FAILED_CHUNKS). */
  readonly failure?: JobFailure;
  /** What the job cost so far, estimated from what it used (see commons/cost.ts). */
  readonly cost: CostEstimate;
  readonly resultsUrl: string;
}

/** A job's status and, when it SUCCEEDED with small results, the results as JSON text. */
export interface JobStatusReport {
  readonly view: JobView;
  readonly resultsJson: string | undefined;
}

/** A page of results, with the results as JSON text. */
export interface ResultsPage {
  readonly jobId: string;
  readonly status: JobStatus;
  /** Index in the job of the page's first result. */
  readonly offset: number;
  readonly count: number;
  /** Pass as `?cursor=` for the next page; null after the last one. */
  readonly nextCursor: string | null;
  /**
   * The index among the job's responses (`?page=`, from 0) of the one this starts in; a
   * SUCCEEDED job's response ends where that one does.
   */
  readonly page: number;
  /** How many responses the job's results take. */
  readonly pageCount: number;
  readonly resultsJson: string;
}

/** Where a results request starts: a cursor, or a response index. */
export interface ResultsRequest {
  readonly cursor?: string | undefined;
  readonly page?: string | undefined;
  /** A RUNNING job answers the results stored so far. */
  readonly partial?: boolean;
}

/** Chunk pages per results response of `job`: fixed per job, so every response is addressable. */
export function pagesPerResponseOf(job: Pick<JobRecord, 'input'>, deps: StatusDeps): number {
  return (
    deps.pagesPerResponse ??
    (job.input === undefined ? RESULT_PAGES_PER_RESPONSE : INPUT_RESULT_PAGES_PER_RESPONSE)
  );
}

function invalidPageError(): BadRequestError {
  return new BadRequestError(
    'INVALID_PAGE',
    '"page" must be a response index from 0 to the pageCount of the job\'s results, less one',
  );
}

/** A results request, its syntax checked before anything is read. */
type RequestedStart =
  | { readonly chunk: number; readonly offset: number | undefined }
  | { readonly page: number };

/**
 * Where a results request starts: a chunk (its cursor) or a response index (`?page=`).
 * @throws BadRequestError (INVALID_CURSOR, INVALID_PAGE, CURSOR_AND_PAGE)
 */
function requestedStartOf(request: ResultsRequest): RequestedStart {
  const { cursor, page } = request;
  const hasCursor = cursor !== undefined && cursor !== '';
  if (page === undefined) return hasCursor ? decodeCursor(cursor) : { chunk: 0, offset: 0 };
  if (hasCursor) {
    throw new BadRequestError('CURSOR_AND_PAGE', 'give "cursor" or "page", not both');
  }
  if (!/^\d{1,9}$/.test(page)) throw invalidPageError();
  return { page: Number(page) };
}

/**
 * The job's failure, its failing chunks listed: the stored list when the failure has one
 * (dispatch, deadline, redrive), else the chunks the dead-letter queue consumer recorded,
 * by index, with the total in `failedChunkCount`.
 */
export function failureView(job: JobRecord): JobFailure | undefined {
  const { failure } = job;
  if (failure === undefined) return undefined;
  if (failure.failedChunks !== undefined) return failure;
  const listed: FailedChunk[] = Object.entries(job.failedChunks)
    .map(([index, chunk]) => ({ chunkIndex: Number(index), ...chunk }))
    .sort((a, b) => a.chunkIndex - b.chunkIndex)
    .slice(0, MAX_RECORDED_FAILED_CHUNKS);
  if (listed.length === 0) return failure;
  return {
    ...failure,
    failedChunks: listed,
    failedChunkCount: Math.max(job.failedChunkCount, listed.length),
  };
}

function timingOf(job: JobRecord, now: Date): JobTiming {
  const created = Date.parse(job.createdAt);
  const ended = job.completedAt === undefined ? now.getTime() : Date.parse(job.completedAt);
  return {
    createdAt: job.createdAt,
    ...(job.completedAt !== undefined && { completedAt: job.completedAt }),
    durationMs: Number.isFinite(ended - created) ? Math.max(0, ended - created) : 0,
    ...(job.deadlineAt !== undefined && { deadlineAt: new Date(job.deadlineAt).toISOString() }),
  };
}

/** Bytes done of an S3 input job: its marked ranges (each rangeBytes, the last one shorter). */
function bytesProgress(
  job: JobRecord,
  shards: readonly ShardState[],
): { bytesDone?: number; bytesTotal?: number } {
  const size = job.input?.size;
  if (job.input === undefined || size === undefined) return {};
  if (job.status === 'SUCCEEDED') return { bytesDone: size, bytesTotal: size };
  const { rangeBytes } = job.input;
  let bytesDone = 0;
  for (const shard of shards) {
    for (const index of shard.markers.keys()) {
      bytesDone += Math.max(0, Math.min(rangeBytes, size - index * rangeBytes));
    }
  }
  return { bytesDone, bytesTotal: size };
}

/**
 * @throws NotFoundError (JOB_NOT_FOUND)
 */
export async function getJobStatus(
  jobId: string,
  deps: StatusDeps,
  read?: JobRecord,
): Promise<JobStatusReport> {
  const job = read ?? (await getJob(deps.table, jobId, { withResults: true }));
  if (job === undefined) throw jobNotFoundError(jobId);
  const failure = failureView(job);
  // A SUCCEEDED job holds its totals; any other job's progress and usage so far are on its
  // shards (one BatchGetItem, half a unit per shard).
  const shards = job.status === 'SUCCEEDED' ? [] : (await readAllShards(deps.table, job)).shards;
  const progress = progressOf(shards);
  const view: JobView = {
    jobId,
    status: job.status,
    numbersCount: job.numbersCount,
    progress: {
      chunksDone: job.status === 'SUCCEEDED' ? job.chunkCount : progress.chunksDone,
      chunkCount: job.chunkCount,
      numbersDone: job.status === 'SUCCEEDED' ? job.numbersCount : progress.numbersDone,
      ...bytesProgress(job, shards),
    },
    ...(job.input !== undefined && {
      input: {
        bucket: job.input.bucket,
        key: job.input.key,
        format: job.input.format,
        ...(job.input.size !== undefined && { sizeBytes: job.input.size }),
      },
    }),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.completedAt !== undefined && { completedAt: job.completedAt }),
    ...(job.cancelledAt !== undefined && { cancelledAt: job.cancelledAt }),
    timing: timingOf(job, deps.now?.() ?? new Date()),
    attempts: job.attempts,
    ...(failure !== undefined && { failure }),
    cost: estimateCost(addUsage(job.usage, progress.usage)),
    resultsUrl: resultsPath(jobId),
  };
  const resultsJson = job.status === 'SUCCEEDED' ? job.results : undefined;
  return { view, resultsJson };
}

/**
 * With `partial`, a RUNNING job answers the results stored so far from the cursor on
 * (possibly none yet: `count` 0), and `nextCursor` points at the first chunk still to come.
 * @throws BadRequestError (INVALID_CURSOR, INVALID_PAGE) for a cursor or page that is malformed
 *   or past the job
 * @throws NotFoundError (JOB_NOT_FOUND)
 * @throws ConflictError (JOB_NOT_SUCCEEDED) while the job has no complete results (and,
 * with `partial`, once it has FAILED or been CANCELLED)
 */
export async function getResultsPage(
  jobId: string,
  request: ResultsRequest,
  deps: StatusDeps,
  /** The job as the request read it (the router), else read here. */
  read?: JobRecord,
): Promise<ResultsPage> {
  const start = requestedStartOf(request);
  const job = read ?? (await getJob(deps.table, jobId));
  if (job === undefined) throw jobNotFoundError(jobId);
  const perResponse = pagesPerResponseOf(job, deps);
  const requestedChunk = 'chunk' in start ? start.chunk : start.page * perResponse;
  const pastTheEnd = () => ('chunk' in start ? invalidCursorError() : invalidPageError());
  const pageCount = Math.ceil(job.chunkCount / perResponse);
  const pageOf = (chunkIndex: number) => Math.floor(chunkIndex / perResponse);
  if (request.partial === true && job.status === 'RUNNING') {
    if (requestedChunk >= job.chunkCount) throw pastTheEnd();
    const known = 'chunk' in start ? start.offset : undefined;
    const page = await readAvailablePages(deps.table, job, requestedChunk, perResponse, known);
    const count = page.chunks.reduce((sum, chunk) => sum + chunk.count, 0);
    return {
      jobId,
      status: job.status,
      offset: page.offset,
      count,
      // A job from S3 keeps no offsets on its pages to check one against: its cursors say none.
      nextCursor:
        page.nextChunkIndex === undefined
          ? null
          : encodeCursor(
              page.nextChunkIndex,
              job.input === undefined ? page.offset + count : undefined,
            ),
      page: pageOf(requestedChunk),
      pageCount,
      resultsJson: joinResultArrays(page.chunks),
    };
  }
  if (job.status !== 'SUCCEEDED') {
    throw new ConflictError(
      'JOB_NOT_SUCCEEDED',
      `the job is ${job.status}; results are available once it has SUCCEEDED`,
      { details: { status: job.status } },
    );
  }
  // A cursor of another job can point past this one's chunks.
  if (requestedChunk >= job.chunkCount) throw pastTheEnd();
  // A response ends at its page's boundary, even from a cursor a partial answer gave inside
  // it, so that the next response is `?page=` page + 1.
  const end = Math.min(job.chunkCount, (pageOf(requestedChunk) + 1) * perResponse);
  const { pages } = await readPageRange(deps.table, job, requestedChunk, end);
  const first = pages[0];
  return {
    jobId,
    status: job.status,
    offset:
      first === undefined
        ? 0
        : (first.offset ?? (await chunkOffset(deps.table, job, requestedChunk))),
    count: pages.reduce((sum, page) => sum + page.count, 0),
    nextCursor: end < job.chunkCount ? encodeCursor(end) : null,
    page: pageOf(requestedChunk),
    pageCount,
    resultsJson: joinResultArrays(pages),
  };
}

/** `GET /jobs/{jobId}`: the job's view, and its results inline when small. */
export async function handleGetJob(
  { jobId, job }: RouteRequest,
  deps: StatusDeps,
): Promise<APIGatewayProxyResult> {
  metrics.addMetric('StatusRequests', MetricUnit.Count, 1);
  const { view, resultsJson } = await getJobStatus(jobId, deps, job);
  const body =
    resultsJson === undefined
      ? JSON.stringify(view)
      : jsonWithRawMember(view, 'results', resultsJson);
  return rawJsonResponse(200, body);
}

/** `GET /jobs/{jobId}/results?cursor=|page=&partial=`: one page of results. */
export async function handleGetResults(
  { event, jobId, job }: RouteRequest,
  deps: StatusDeps,
): Promise<APIGatewayProxyResult> {
  metrics.addMetric('ResultPageRequests', MetricUnit.Count, 1);
  const query = event.queryStringParameters;
  const { resultsJson, ...page } = await getResultsPage(
    jobId,
    { cursor: query?.cursor, page: query?.page, partial: query?.partial === 'true' },
    deps,
    job,
  );
  return rawJsonResponse(200, jsonWithRawMember(page, 'results', resultsJson));
}
