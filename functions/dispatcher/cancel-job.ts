/**
 * `DELETE /jobs/{jobId}`: cancels a RUNNING job (the tutorial's terminate()). Workers then
 * skip its chunks without computing them, and results that still arrive are dropped by the
 * aggregator, so the job stays CANCELLED.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jobPath } from '#commons/api-paths.ts';
import { ConflictError } from '#commons/errors.ts';
import { jsonResponse } from '#commons/http.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { jobNotFoundError, type RouteRequest } from '#commons/router.ts';
import { cancelJob } from '#store/jobs.ts';
import type { DispatcherDeps } from './deps.ts';

/** The 200 body of `DELETE /jobs/{jobId}`. */
export interface CancelledJob {
  readonly jobId: string;
  readonly status: 'CANCELLED';
  /** ISO 8601. */
  readonly cancelledAt: string;
  readonly statusUrl: string;
}

/**
 * @throws NotFoundError (JOB_NOT_FOUND)
 * @throws ConflictError (JOB_NOT_RUNNING) when the job has already ended, with its status
 */
export async function cancelRunningJob(
  jobId: string,
  deps: Pick<DispatcherDeps, 'table' | 'now'>,
): Promise<CancelledJob> {
  const result = await cancelJob(deps.table, jobId, deps.now?.() ?? new Date());
  switch (result.outcome) {
    case 'CANCELLED':
      metrics.addMetric('JobsCancelled', MetricUnit.Count, 1);
      logger.info('job cancelled');
      return {
        jobId,
        status: 'CANCELLED',
        cancelledAt: result.cancelledAt,
        statusUrl: jobPath(jobId),
      };
    case 'NOT_RUNNING':
      throw new ConflictError(
        'JOB_NOT_RUNNING',
        `the job is ${result.status ?? 'not running'}; only a RUNNING job can be cancelled`,
        { details: { status: result.status ?? null } },
      );
    case 'NOT_FOUND':
      throw jobNotFoundError(jobId);
  }
}

/** The whole `DELETE /jobs/{jobId}` request: 200 with the job status, or a JSON error. */
export async function handleCancelJob(
  { jobId }: RouteRequest,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  return jsonResponse(200, await cancelRunningJob(jobId, deps));
}
