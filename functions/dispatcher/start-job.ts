/**
 * `POST /jobs/{jobId}/start`: starts an upload job once its input is uploaded (body `{}`, or
 * `{"parts": [{"partNumber": 1, "etag": "..."}, ...]}` for a multipart upload). 202 with the
 * RUNNING job; 404, 409 (not awaiting its input), 413 (a `json` object too large to read).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { clientPath, jsonResponse } from '#commons/http.ts';
import { decodeRequestBody } from '#commons/request.ts';
import type { RouteRequest } from '#commons/router.ts';
import type { DispatcherDeps } from './deps.ts';
import { parseStartRequest, startUploadJob } from './input-job.ts';

export async function handleStartJob(
  { event, jobId, job: read }: RouteRequest,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  const text = event.body === null || event.body === '' ? '' : decodeRequestBody(event);
  const job = await startUploadJob(jobId, parseStartRequest(text), deps, read);
  return jsonResponse(202, job, { location: clientPath(event, job.statusUrl) });
}
