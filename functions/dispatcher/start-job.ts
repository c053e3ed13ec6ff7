/**
 * `POST /jobs/{jobId}/start`: starts an upload job once its input is uploaded (body `{}`, or
 * `{"parts": [{"partNumber": 1, "etag": "..."}, ...]}` for a multipart upload). 202 with the
 * RUNNING job; 404, 409 (not awaiting its input), 413 (a `json` object too large to read).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { clientPath, jsonResponse } from '../commons/http.ts';
import { decodeRequestBody, parseJobIdParameter } from '../commons/request.ts';
import { parseStartRequest, startUploadJob } from './input-job.ts';
import type { DispatcherDeps } from './submit-job.ts';

export async function handleStartJob(
  event: APIGatewayProxyEvent,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  const jobId = parseJobIdParameter(event.pathParameters);
  const text = event.body === null || event.body === '' ? '' : decodeRequestBody(event);
  const job = await startUploadJob(jobId, parseStartRequest(text), deps);
  return jsonResponse(202, job, { location: clientPath(event, job.statusUrl) });
}
