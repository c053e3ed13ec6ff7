/**
 * The API's request and response shapes, as the functions that answer them declare them.
 * Type-only imports: nothing of the functions runs in a client.
 */

import type { ErrorBody } from '#commons/http.ts';
import type { InvalidElement, NumberInput, SquareResult } from '#commons/numbers.ts';
import type { FailedChunk, JobFailure, JobStatus } from '#commons/types.ts';
import type { CancelledJob } from '../functions/dispatcher/cancel-job.ts';
import type { SubmittedJob } from '../functions/dispatcher/deps.ts';
import type { AwaitingUploadJob, StartedInputJob } from '../functions/dispatcher/input-job.ts';
import type { RedrivenJob } from '../functions/dispatcher/redrive-job.ts';
import type { UploadedPart, UploadInstructions } from '../functions/dispatcher/s3-input.ts';
import type { JobView, ResultsPage } from '../functions/status/job-status.ts';
import type { JobListPage, JobSummary } from '../functions/status/list-jobs.ts';

export type {
  AwaitingUploadJob,
  CancelledJob,
  ErrorBody,
  FailedChunk,
  InvalidElement,
  JobFailure,
  JobListPage,
  JobStatus,
  JobSummary,
  JobView,
  NumberInput,
  RedrivenJob,
  SquareResult,
  StartedInputJob,
  SubmittedJob,
  UploadedPart,
  UploadInstructions,
};

/** The body of `GET /jobs/{jobId}`: the job's view, and its results inline when small. */
export type JobStatusBody = JobView & { readonly results?: SquareResult[] };

/** The body of `GET /jobs/{jobId}/results`: one page of results, in order. */
export type ResultsPageBody = Omit<ResultsPage, 'resultsJson'> & {
  readonly results: SquareResult[];
};

/** One page of squares: `results[i]` is the square of the job's `numbers[offset + i]`. */
export interface ResultChunk {
  readonly offset: number;
  readonly results: readonly SquareResult[];
}
