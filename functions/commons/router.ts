/**
 * The one router of the API's functions (API Gateway REST API, Lambda proxy integration,
 * payload v1). A function lists its routes, one line each:
 *
 *   const router = new Router<Deps>({ errorMetrics })
 *     .route('GET', '/jobs/{jobId}', getStatus)
 *     .route('DELETE', '/jobs/{jobId}', cancel);
 *
 * and every request then goes through the same steps, in this order:
 * 1. the route, by `event.resource` (the resource template API Gateway matched), or, for an
 *    event without one (made by hand), by matching `event.path` against the templates:
 *    no resource is 404 ROUTE_NOT_FOUND, a resource without the method 405;
 * 2. the caller (commons/caller.ts): none is 403 NO_CALLER_IDENTITY;
 * 3. on a route with `{jobId}`: the id (400 INVALID_JOB_ID), then the job, read once here
 *    (strongly consistent, with its inline results) and handed to the handler, which reads
 *    it no more: a job the caller may not see is the same 404 JOB_NOT_FOUND as a job that
 *    does not exist, so no route ever tells another principal's job from a missing one;
 * 4. the route's handler; whatever it throws becomes the JSON error response (HttpError
 *    mapped to its status, anything else a logged 500) with an error metric, in one place.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type Caller, callerOf, mayAccess } from './caller.ts';
import { ForbiddenError, MethodNotAllowedError, NotFoundError } from './errors.ts';
import { errorResponse } from './http.ts';
import { logger, MetricUnit, metrics } from './powertools.ts';
import { parseJobIdParameter } from './request.ts';
import { getJob, type JobRecord } from './store/jobs.ts';
import type { JobTable } from './store/table.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What every routed function's dependencies hold. */
export interface RouterDeps {
  readonly table: JobTable;
  /** Normalised principal ARNs of the operators, who may see and cancel every job. @default none */
  readonly admins?: ReadonlySet<string>;
}

/** A request as a handler gets it: the event, its caller, and its checked job id. */
export interface RouteRequest {
  /** The event, its `pathParameters` filled from the path when API Gateway did not. */
  readonly event: APIGatewayProxyEvent;
  readonly context: Context | undefined;
  readonly caller: Caller;
  /**
   * The `{jobId}` of the route, lowercased, of a job the caller may see; `''` on a route
   * without `{jobId}`.
   */
  readonly jobId: string;
  /** That job as this request read it; undefined on a route without `{jobId}`. */
  readonly job: JobRecord | undefined;
}

export type RouteHandler<D> = (request: RouteRequest, deps: D) => Promise<APIGatewayProxyResult>;

/** The metrics an error response counts: one for 4xx, one for 5xx. */
export interface ErrorMetrics {
  readonly client: string;
  readonly server: string;
}

interface Route<D> {
  readonly handler: RouteHandler<D>;
  readonly errorMetrics: ErrorMetrics;
}

interface Resource<D> {
  readonly template: string;
  readonly segments: readonly string[];
  readonly methods: Map<string, Route<D>>;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** The path parameters of `path` if it matches the template's segments, else undefined. */
function matchTemplate(
  segments: readonly string[],
  path: string,
): Record<string, string> | undefined {
  const parts = segmentsOf(path);
  if (parts.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const part = parts[index] ?? '';
    if (segment.startsWith('{') && segment.endsWith('}')) {
      parameters[segment.slice(1, -1)] = part;
    } else if (segment !== part) {
      return undefined;
    }
  }
  return parameters;
}

/** The same body for a job that does not exist and one the caller may not see. */
export function jobNotFoundError(jobId: string): NotFoundError {
  return new NotFoundError('JOB_NOT_FOUND', `no job ${jobId} (it may have expired)`);
}

const NO_ADMINS: ReadonlySet<string> = new Set();

export class Router<D extends RouterDeps> {
  readonly #resources: Resource<D>[] = [];
  readonly #errorMetrics: ErrorMetrics;

  constructor(options: { readonly errorMetrics: ErrorMetrics }) {
    this.#errorMetrics = options.errorMetrics;
  }

  /** Adds `method resource` (an API Gateway resource template such as `/jobs/{jobId}`). */
  route(
    method: HttpMethod,
    resource: string,
    handler: RouteHandler<D>,
    options: { readonly errorMetrics?: ErrorMetrics } = {},
  ): this {
    let entry = this.#resources.find((candidate) => candidate.template === resource);
    if (entry === undefined) {
      entry = { template: resource, segments: segmentsOf(resource), methods: new Map() };
      this.#resources.push(entry);
    }
    if (entry.methods.has(method)) throw new Error(`${method} ${resource} is routed twice`);
    entry.methods.set(method, {
      handler,
      errorMetrics: options.errorMetrics ?? this.#errorMetrics,
    });
    return this;
  }

  /** The routes, as `METHOD resource` (for tests and docs). */
  routes(): string[] {
    return this.#resources.flatMap((resource) =>
      [...resource.methods.keys()].map((method) => `${method} ${resource.template}`),
    );
  }

  #match(event: APIGatewayProxyEvent): { resource: Resource<D>; event: APIGatewayProxyEvent } {
    const byResource =
      typeof event.resource === 'string' && event.resource !== ''
        ? this.#resources.find((candidate) => candidate.template === event.resource)
        : undefined;
    if (byResource !== undefined) return { resource: byResource, event };
    if (typeof event.resource !== 'string' || event.resource === '') {
      for (const resource of this.#resources) {
        const parameters = matchTemplate(resource.segments, event.path ?? '');
        if (parameters === undefined) continue;
        const pathParameters =
          event.pathParameters ?? (Object.keys(parameters).length > 0 ? parameters : null);
        return { resource, event: { ...event, pathParameters } };
      }
    }
    throw new NotFoundError('ROUTE_NOT_FOUND', `no route for ${event.resource ?? event.path}`);
  }

  async #dispatch(
    event: APIGatewayProxyEvent,
    deps: D,
    context: Context | undefined,
    chosen: { route?: Route<D> },
  ): Promise<APIGatewayProxyResult> {
    const matched = this.#match(event);
    const route = matched.resource.methods.get(event.httpMethod);
    if (route === undefined) {
      const allowed = [...matched.resource.methods.keys()].join(', ');
      throw new MethodNotAllowedError(`${event.httpMethod} is not allowed here; use ${allowed}`);
    }
    chosen.route = route;
    const caller = callerOf(matched.event, deps.admins ?? NO_ADMINS);
    if (caller === undefined) {
      throw new ForbiddenError(
        'NO_CALLER_IDENTITY',
        'the request carries no IAM principal; sign it with SigV4 (AWS_IAM authorization)',
      );
    }
    let jobId = '';
    let job: JobRecord | undefined;
    if (matched.resource.segments.includes('{jobId}')) {
      jobId = parseJobIdParameter(matched.event.pathParameters);
      logger.appendKeys({ jobId });
      // Read in full, not only its owner: the read is billed by the item's size either way,
      // and the status, results, redrive and start routes use the job (cancel only its owner).
      job = await getJob(deps.table, jobId, { consistentRead: true, withResults: true });
      if (job === undefined || !mayAccess(caller, job.ownerArn)) throw jobNotFoundError(jobId);
    }
    return route.handler({ event: matched.event, context, caller, jobId, job }, deps);
  }

  /** Answers one request: the route's response, or the JSON error response. */
  async handle(
    event: APIGatewayProxyEvent,
    deps: D,
    context?: Context,
  ): Promise<APIGatewayProxyResult> {
    const chosen: { route?: Route<D> } = {};
    try {
      return await this.#dispatch(event, deps, context, chosen);
    } catch (error) {
      const response = errorResponse(error, logger);
      const names = chosen.route?.errorMetrics ?? this.#errorMetrics;
      metrics.addMetric(
        response.statusCode >= 500 ? names.server : names.client,
        MetricUnit.Count,
        1,
      );
      return response;
    }
  }
}
