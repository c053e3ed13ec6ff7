/**
 * The dispatcher serves every command route of the API (the status function serves the
 * reads), routed by `event.resource` and `event.httpMethod`:
 * - `POST /jobs` (optional `Idempotency-Key`): 202 with the new job;
 * - `DELETE /jobs/{jobId}`: 200 with the CANCELLED job, 409 if it has ended, 404;
 * - `POST /jobs/{jobId}/start`: 202 with the started upload job (see start-job.ts);
 * - `POST /jobs/{jobId}/redrive`: 202 with the count re-sent, 409 if it is not FAILED or
 *   nothing is stored to re-send, 404.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../commons/errors.ts';
import { errorResponse } from '../commons/http.ts';
import { logger, MetricUnit, metrics } from '../commons/powertools.ts';
import { handleCancelJob } from './cancel-job.ts';
import { handleRedriveJob } from './redrive-job.ts';
import { handleStartJob } from './start-job.ts';
import { type DispatcherDeps, handleCreateJob } from './submit-job.ts';

type Handler = (
  event: APIGatewayProxyEvent,
  deps: DispatcherDeps,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

interface Resource {
  readonly resource: string;
  /** The resource's path, for events built without `resource` (hand-made, local runs). */
  readonly path: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

const RESOURCES: readonly Resource[] = [
  { resource: '/jobs', path: /^\/jobs\/?$/, methods: { POST: handleCreateJob } },
  {
    resource: '/jobs/{jobId}',
    path: /^\/jobs\/(?<jobId>[^/]+)\/?$/,
    methods: { DELETE: handleCancelJob },
  },
  {
    resource: '/jobs/{jobId}/start',
    path: /^\/jobs\/(?<jobId>[^/]+)\/start\/?$/,
    methods: { POST: handleStartJob },
  },
  {
    resource: '/jobs/{jobId}/redrive',
    path: /^\/jobs\/(?<jobId>[^/]+)\/redrive\/?$/,
    methods: { POST: handleRedriveJob },
  },
];

/** The resource of an event, and the event with its path parameters filled in if missing. */
function match(
  event: APIGatewayProxyEvent,
): { resource: Resource; event: APIGatewayProxyEvent } | undefined {
  if (typeof event.resource === 'string' && event.resource !== '') {
    const resource = RESOURCES.find((candidate) => candidate.resource === event.resource);
    return resource === undefined ? undefined : { resource, event };
  }
  for (const resource of RESOURCES) {
    const found = resource.path.exec(event.path ?? '');
    if (found === null) continue;
    const jobId = found.groups?.jobId;
    const pathParameters = event.pathParameters ?? (jobId === undefined ? null : { jobId });
    return { resource, event: { ...event, pathParameters } };
  }
  return undefined;
}

/** Every route of the dispatcher function. */
export async function handleDispatcherRequest(
  event: APIGatewayProxyEvent,
  deps: DispatcherDeps,
  context?: Context,
): Promise<APIGatewayProxyResult> {
  const matched = match(event);
  const handler = matched?.resource.methods[event.httpMethod];
  if (matched !== undefined && handler === handleCreateJob) {
    // Submissions answer their own errors, with their own metrics.
    return handleCreateJob(matched.event, deps, context);
  }
  try {
    if (matched === undefined) {
      throw new NotFoundError('ROUTE_NOT_FOUND', `no route for ${event.resource ?? event.path}`);
    }
    if (handler === undefined) {
      const allowed = Object.keys(matched.resource.methods).join(', ');
      throw new MethodNotAllowedError(`${event.httpMethod} is not allowed here; use ${allowed}`);
    }
    return await handler(matched.event, deps, context);
  } catch (error) {
    const response = errorResponse(error, logger);
    metrics.addMetric(
      response.statusCode >= 500 ? 'CommandServerErrors' : 'CommandClientErrors',
      MetricUnit.Count,
      1,
    );
    return response;
  }
}
