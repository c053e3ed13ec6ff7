/**
 * `GET /jobs?cursor=&limit=`: the caller's own jobs, newest first, a page at a time, from the
 * owner index (one Query of the caller's partition key, never a Scan). An operator (see
 * commons/caller.ts) lists its own jobs too, and another principal's with `?owner=<ARN>`;
 * there is no listing of every owner at once, since that would need a Scan or one index
 * key shared by every job (a hot key). Anyone else's `?owner=` is refused.
 *
 * Progress comes from the index entry: the completed shards (one per 64 chunks), so a
 * running job's progress is counted as of its last completed shard; `GET /jobs/{jobId}`
 * reads every shard for the exact figures.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jobPath } from '#commons/api-paths.ts';
import { isPrincipalArn, normalisePrincipalArn } from '#commons/caller.ts';
import { BadRequestError } from '#commons/errors.ts';
import { jsonResponse } from '#commons/http.ts';
import { MetricUnit, metrics } from '#commons/powertools.ts';
import type { RouteRequest } from '#commons/router.ts';
import { listOwnedJobs, type OwnedJobEntry } from '#store/owner-jobs.ts';
import { chunksInShard } from '#store/shards.ts';
import { readCursorObject } from './cursor.ts';
import type { JobView, StatusDeps } from './job-status.ts';

/** Jobs per page unless `?limit=` says otherwise, and the most it may ask for. */
export const DEFAULT_JOB_LIST_LIMIT = 20;
export const MAX_JOB_LIST_LIMIT = 100;

/**
 * One job of `GET /jobs`: the fields of `GET /jobs/{jobId}`'s view it shares (ISO 8601
 * times), with `progress` as of the job's last completed shard (exact once it SUCCEEDED).
 */
export interface JobSummary
  extends Pick<
    JobView,
    'jobId' | 'status' | 'numbersCount' | 'progress' | 'createdAt' | 'updatedAt' | 'completedAt'
  > {
  readonly statusUrl: string;
}

/** The body of `GET /jobs?cursor=`. */
export interface JobListPage {
  readonly jobs: readonly JobSummary[];
  /** Pass as `?cursor=` for the next page; null after the last one. */
  readonly nextCursor: string | null;
}

const CURSOR_VERSION = 1;
const MAX_CURSOR_LENGTH = 256;
/** An owner index sort key: ISO 8601 creation time, `#`, the job's UUID. */
const SORT_KEY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z#[0-9a-f-]{36}$/;

function invalidCursor(): BadRequestError {
  return new BadRequestError(
    'INVALID_CURSOR',
    'the cursor is not one returned as nextCursor by GET /jobs',
  );
}

export function encodeListCursor(sortKey: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, k: sortKey })).toString('base64url');
}

/** @throws BadRequestError (INVALID_CURSOR) */
export function decodeListCursor(cursor: string): string {
  const { v, k } = readCursorObject(cursor, MAX_CURSOR_LENGTH, invalidCursor);
  if (v !== CURSOR_VERSION || typeof k !== 'string' || !SORT_KEY.test(k)) throw invalidCursor();
  return k;
}

/** @throws BadRequestError (INVALID_LIMIT) unless 1 to MAX_JOB_LIST_LIMIT */
export function parseListLimit(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_JOB_LIST_LIMIT;
  const limit = /^[0-9]{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_JOB_LIST_LIMIT)) {
    throw new BadRequestError(
      'INVALID_LIMIT',
      `limit must be an integer from 1 to ${MAX_JOB_LIST_LIMIT}, got "${text}"`,
      { details: { maxLimit: MAX_JOB_LIST_LIMIT } },
    );
  }
  return limit;
}

export function toJobSummary(entry: OwnedJobEntry): JobSummary {
  const succeeded = entry.status === 'SUCCEEDED';
  let chunksDone = 0;
  let numbersDone = 0;
  for (const [index, numbers] of Object.entries(entry.shards)) {
    chunksDone += chunksInShard(Number(index), entry.chunkCount, entry.shardCount);
    numbersDone += numbers;
  }
  return {
    jobId: entry.jobId,
    status: entry.status,
    numbersCount: entry.numbersCount,
    progress: {
      chunksDone: succeeded ? entry.chunkCount : chunksDone,
      chunkCount: entry.chunkCount,
      numbersDone: succeeded ? entry.numbersCount : numbersDone,
    },
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
    ...(entry.completedAt !== undefined && { completedAt: entry.completedAt }),
    statusUrl: jobPath(entry.jobId),
  };
}

/** The owner whose jobs are listed: the caller's, or for an operator `?owner=`. */
function ownerToList({ event, caller }: RouteRequest): string {
  const query = event.queryStringParameters ?? {};
  if (query.all !== undefined) {
    throw new BadRequestError(
      'INVALID_QUERY',
      'GET /jobs lists one owner at a time; operators pass ?owner=<principal ARN>',
    );
  }
  const owner = query.owner;
  if (owner === undefined || owner === '') return caller.ownerArn;
  if (!isPrincipalArn(owner)) {
    throw new BadRequestError(
      'INVALID_QUERY',
      `owner must be an IAM principal ARN, got "${owner.slice(0, 200)}"`,
    );
  }
  const normalised = normalisePrincipalArn(owner);
  if (normalised !== caller.ownerArn && !caller.isAdmin) {
    throw new BadRequestError(
      'INVALID_QUERY',
      'only operators may list the jobs of another principal',
    );
  }
  return normalised;
}

/** `GET /jobs`. */
export async function handleListJobs(
  request: RouteRequest,
  deps: StatusDeps,
): Promise<APIGatewayProxyResult> {
  metrics.addMetric('JobListRequests', MetricUnit.Count, 1);
  const query = request.event.queryStringParameters ?? {};
  const limit = parseListLimit(query.limit);
  const cursor = query.cursor;
  const afterSortKey = cursor === undefined || cursor === '' ? undefined : decodeListCursor(cursor);
  const page = await listOwnedJobs(deps.table, ownerToList(request), {
    limit,
    ...(afterSortKey !== undefined && { afterSortKey }),
  });
  const body: JobListPage = {
    jobs: page.entries.map(toJobSummary),
    nextCursor: page.lastSortKey === undefined ? null : encodeListCursor(page.lastSortKey),
  };
  return jsonResponse(200, body);
}
