/**
 * The dispatcher serves every command route of the API (the status function serves the
 * reads), one line per route on the shared router (commons/router.ts):
 * - `POST /jobs` (optional `Idempotency-Key`, per owner): 202 with the new job;
 * - `DELETE /jobs/{jobId}`: 200 with the CANCELLED job, 409 if it has ended, 404;
 * - `POST /jobs/{jobId}/start`: 202 with the started upload job (see start-job.ts);
 * - `POST /jobs/{jobId}/redrive`: 202 with the count re-sent, 409 if it is not FAILED or
 *   nothing is stored to re-send, 404.
 * A job of another principal is a 404 on every `{jobId}` route (the router checks it).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Router } from '#commons/router.ts';
import { handleCancelJob } from './cancel-job.ts';
import type { DispatcherDeps } from './deps.ts';
import { handleRedriveJob } from './redrive-job.ts';
import { handleStartJob } from './start-job.ts';
import { handleCreateJob } from './submit-job.ts';

export const dispatcherRouter = new Router<DispatcherDeps>({
  errorMetrics: { client: 'CommandClientErrors', server: 'CommandServerErrors' },
})
  .route('POST', '/jobs', handleCreateJob, {
    errorMetrics: { client: 'JobsRejected', server: 'SubmitServerErrors' },
  })
  .route('DELETE', '/jobs/{jobId}', handleCancelJob)
  .route('POST', '/jobs/{jobId}/start', handleStartJob)
  .route('POST', '/jobs/{jobId}/redrive', handleRedriveJob);

/** Every route of the dispatcher function. */
export function handleDispatcherRequest(
  event: APIGatewayProxyEvent,
  deps: DispatcherDeps,
  context?: Context,
): Promise<APIGatewayProxyResult> {
  return dispatcherRouter.handle(event, deps, context);
}
