/**
 * The status function serves every read of the API, one line per route on the shared router
 * (commons/router.ts):
 * - `GET /jobs` (`?cursor=`, `?limit=`): the caller's jobs, newest first;
 * - `GET /jobs/{jobId}`: status, progress, timing, cost, small results inline;
 * - `GET /jobs/{jobId}/results` (`?cursor=`, `?partial=true`): one page of results.
 * A job of another principal is a 404 on every `{jobId}` route (the router checks it).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { Router } from '#commons/router.ts';
import { handleGetJob, handleGetResults, type StatusDeps } from './job-status.ts';
import { handleListJobs } from './list-jobs.ts';

export const statusRouter = new Router<StatusDeps>({
  errorMetrics: { client: 'StatusClientErrors', server: 'StatusServerErrors' },
})
  .route('GET', '/jobs', handleListJobs)
  .route('GET', '/jobs/{jobId}', handleGetJob)
  .route('GET', '/jobs/{jobId}/results', handleGetResults);

/** Every route of the status function. */
export function handleStatusRequest(
  event: APIGatewayProxyEvent,
  deps: StatusDeps,
): Promise<APIGatewayProxyResult> {
  return statusRouter.handle(event, deps);
}
