/**
 * fanout's client library: Python's multiprocessing API over the fanout pipeline.
 *
 *   import { Pool } from 'fanout';
 *   const pool = await Pool.local();              // or Pool.connect({ api, region })
 *   console.log(await pool.map([1, 2, 3, 4, 5])); // [1, 4, 9, 16, 25]
 *   await pool.close();
 */
export type {
  AwaitingUploadJob,
  CancelledJob,
  FailedChunk,
  InvalidElement,
  JobFailure,
  JobListPage,
  JobStatus,
  JobStatusBody,
  JobSummary,
  NumberInput,
  RedrivenJob,
  ResultChunk,
  ResultsPageBody,
  SquareResult,
  StartedInputJob,
  SubmittedJob,
  UploadedPart,
  UploadInstructions,
} from './api-types.ts';
export {
  FanoutError,
  HttpError,
  InputFormatError,
  type InvalidInputElement,
  InvalidInputError,
  JobCancelledError,
  JobFailedError,
  TimeoutError,
} from './errors.ts';
export {
  FanoutApi,
  type FanoutApiOptions,
  GZIP_THRESHOLD_BYTES,
  isTerminal,
  RESULTS_FETCH_CONCURRENCY,
  type SubmitOptions,
  UPLOAD_LINES_FILES_ABOVE_BYTES,
  type UploadFileOptions,
  type UploadFormat,
  type WaitOptions,
} from './fanout-api.ts';
export { type Fetch, HttpTransport, type SigningChoice } from './http.ts';
export {
  type CollectedInput,
  collectInput,
  type JobInput,
  parseJsonNumbers,
  parseNumbersText,
  parseNumberToken,
  readNumbersFile,
  uploadSizeOf,
} from './input.ts';
export {
  Job,
  type JobEvents,
  type JobProgress,
  type JoinOptions,
  type StreamOptions,
} from './job.ts';
export {
  type ConnectOptions,
  type DeployedConnectOptions,
  type ImapOptions,
  type LocalConnectOptions,
  type LocalPoolOptions,
  type MapOptions,
  Pool,
} from './pool.ts';
export {
  type Credentials,
  type CredentialsSource,
  createLocalSigner,
  createSigV4Signer,
  isLoopback,
  LOCAL_DEFAULT_CREDENTIALS,
  type RequestSigner,
  regionOfApiUrl,
} from './signing.ts';
export { UPLOAD_CONCURRENCY, UploadError, type UploadOptions } from './upload.ts';
