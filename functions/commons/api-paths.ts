/**
 * The API's paths, as the client library requests them and as the API's answers name them
 * (`statusUrl`, `resultsUrl`, `startUrl`, the `Location` header): defined once for the
 * dispatcher, the status function and the client. A job id is percent-encoded as one path
 * segment: the API's own ids (lowercase UUIDs) come out as they are, and an id a user typed
 * never reaches another route.
 */

/** `POST /jobs` submits a job, `GET /jobs` lists the caller's. */
export const JOBS_PATH = '/jobs';

/** The job: `GET` its status, `DELETE` cancels it. */
export function jobPath(jobId: string): string {
  return `${JOBS_PATH}/${encodeURIComponent(jobId)}`;
}

/** `GET`: the job's results, page by page. */
export function resultsPath(jobId: string): string {
  return `${jobPath(jobId)}/results`;
}

/** `POST`: starts an upload job once its input is uploaded. */
export function startPath(jobId: string): string {
  return `${jobPath(jobId)}/start`;
}

/** `POST`: re-sends a FAILED job's failed chunks. */
export function redrivePath(jobId: string): string {
  return `${jobPath(jobId)}/redrive`;
}
