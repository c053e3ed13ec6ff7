/**
 * `GET /jobs/{jobId}` (status, progress, small results inline) and
 * `GET /jobs/{jobId}/results?cursor=` (results page by page, whole chunks per page).
 *
 * Results are passed through as the JSON text they were stored as, so every square comes
 * back exactly: safe integers as numbers, bigger ones as decimal strings.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, MethodNotAllowedError, NotFoundError } from '../commons/errors.ts';
import { errorResponse, jsonWithRawMember, rawJsonResponse } from '../commons/http.ts';
import { getJob, type JobTable, joinResultArrays, readChunkPage } from '../commons/job-store.ts';
import { MAX_RESULT_PAGE_BYTES } from '../commons/limits.ts';
import { logger, MetricUnit, metrics } from '../commons/powertools.ts';
import { parseJobIdParameter } from '../commons/request.ts';
import type { JobFailure, JobStatus } from '../commons/types.ts';
import { decodeCursor, encodeCursor, invalidCursorError } from './cursor.ts';

export interface StatusDeps {
  readonly table: JobTable;
  /** Most result bytes per page; MAX_RESULT_PAGE_BYTES unless a test lowers it. */
  readonly maxPageBytes?: number;
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
  };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  readonly failure?: JobFailure;
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
  readonly resultsJson: string;
}

function jobNotFound(jobId: string): NotFoundError {
  return new NotFoundError('JOB_NOT_FOUND', `no job ${jobId} (it may have expired)`);
}

/**
 * @throws NotFoundError (JOB_NOT_FOUND)
 */
export async function getJobStatus(jobId: string, deps: StatusDeps): Promise<JobStatusReport> {
  const job = await getJob(deps.table, jobId, { withResults: true });
  if (job === undefined) throw jobNotFound(jobId);
  const view: JobView = {
    jobId,
    status: job.status,
    numbersCount: job.numbersCount,
    progress: {
      chunksDone: job.chunksDone,
      chunkCount: job.chunkCount,
      numbersDone: job.numbersDone,
    },
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.completedAt !== undefined && { completedAt: job.completedAt }),
    ...(job.failure !== undefined && { failure: job.failure }),
    resultsUrl: `/jobs/${jobId}/results`,
  };
  const resultsJson = job.status === 'SUCCEEDED' ? job.results : undefined;
  return { view, resultsJson };
}

/**
 * @throws BadRequestError (INVALID_CURSOR) for a cursor that is malformed or past the job
 * @throws NotFoundError (JOB_NOT_FOUND)
 * @throws ConflictError (JOB_NOT_SUCCEEDED) while the job has no complete results
 */
export async function getResultsPage(
  jobId: string,
  cursor: string | undefined,
  deps: StatusDeps,
): Promise<ResultsPage> {
  const requestedChunk = cursor === undefined || cursor === '' ? 0 : decodeCursor(cursor);
  const job = await getJob(deps.table, jobId);
  if (job === undefined) throw jobNotFound(jobId);
  if (job.status !== 'SUCCEEDED') {
    throw new ConflictError(
      'JOB_NOT_SUCCEEDED',
      `the job is ${job.status}; results are available once it has SUCCEEDED`,
      { details: { status: job.status } },
    );
  }
  // A cursor of another job can point past this one's chunks.
  if (requestedChunk >= job.chunkCount) throw invalidCursorError();
  const page = await readChunkPage(
    deps.table,
    job,
    requestedChunk,
    deps.maxPageBytes ?? MAX_RESULT_PAGE_BYTES,
  );
  const first = page.chunks[0];
  return {
    jobId,
    status: job.status,
    offset: first === undefined ? 0 : first.offset,
    count: page.chunks.reduce((sum, chunk) => sum + chunk.count, 0),
    nextCursor: page.nextChunkIndex === undefined ? null : encodeCursor(page.nextChunkIndex),
    resultsJson: joinResultArrays(page.chunks),
  };
}

const RESULTS_RESOURCE = '/jobs/{jobId}/results';
const JOB_RESOURCE = '/jobs/{jobId}';

/** Paths of the two routes, for events built without `resource` (hand-made, local runs). */
const RESULTS_PATH = /^\/jobs\/[^/]+\/results\/?$/;
const JOB_PATH = /^\/jobs\/[^/]+\/?$/;

function routeOf(event: APIGatewayProxyEvent): 'job' | 'results' | undefined {
  if (event.resource === RESULTS_RESOURCE) return 'results';
  if (event.resource === JOB_RESOURCE) return 'job';
  if (event.resource === undefined || event.resource === null) {
    if (RESULTS_PATH.test(event.path ?? '')) return 'results';
    if (JOB_PATH.test(event.path ?? '')) return 'job';
  }
  return undefined;
}

/** Both GET routes of the status function. */
export async function handleStatusRequest(
  event: APIGatewayProxyEvent,
  deps: StatusDeps,
): Promise<APIGatewayProxyResult> {
  try {
    const route = routeOf(event);
    if (route === undefined) {
      throw new NotFoundError('ROUTE_NOT_FOUND', `no route for ${event.resource ?? event.path}`);
    }
    if (event.httpMethod !== 'GET') {
      throw new MethodNotAllowedError(`${event.httpMethod} is not allowed here; use GET`);
    }
    const jobId = parseJobIdParameter(event.pathParameters);
    logger.appendKeys({ jobId });
    metrics.addMetric(
      route === 'job' ? 'StatusRequests' : 'ResultPageRequests',
      MetricUnit.Count,
      1,
    );
    if (route === 'job') {
      const { view, resultsJson } = await getJobStatus(jobId, deps);
      const body =
        resultsJson === undefined
          ? JSON.stringify(view)
          : jsonWithRawMember(view, 'results', resultsJson);
      return rawJsonResponse(200, body);
    }
    const { resultsJson, ...page } = await getResultsPage(
      jobId,
      event.queryStringParameters?.cursor,
      deps,
    );
    return rawJsonResponse(200, jsonWithRawMember(page, 'results', resultsJson));
  } catch (error) {
    const response = errorResponse(error, logger);
    metrics.addMetric(
      response.statusCode >= 500 ? 'StatusServerErrors' : 'StatusClientErrors',
      MetricUnit.Count,
      1,
    );
    return response;
  }
}
