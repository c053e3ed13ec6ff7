import { jobPath, resultsPath, startPath } from '#commons/api-paths.ts';
import {
  BadRequestError,
  ConflictError,
  errorMessage,
  PayloadTooLargeError,
} from '#commons/errors.ts';
import type { InputObject } from '#commons/input/range-reader.ts';
import { MAX_JSON_INPUT_OBJECT_BYTES, planRanges } from '#commons/input/ranges.ts';
import { UPLOAD_URL_EXPIRY_SECONDS } from '#commons/limits.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import type { QueueEntry } from '#commons/queue.ts';
import { jobNotFoundError } from '#commons/router.ts';
import type { InputFormat, JobFailure, RangeChunkMessage } from '#commons/types.ts';
import {
  createJob,
  expiryAfterDays,
  failJob,
  getJob,
  type JobInput,
  type JobRecord,
  startInputJob,
} from '#store/jobs.ts';
import { shardCountFor } from '#store/shards.ts';
import { type DispatcherDeps, deadlineAfter, type InputDeps, sendSqsRequests } from './deps.ts';
import { queueChunks } from './queue-chunks.ts';
import {
  authorizeS3Input,
  completeUpload,
  createUpload,
  describeInputObject,
  type InputSource,
  type UploadedPart,
  type UploadInstructions,
} from './s3-input.ts';

/** The 202 body of an upload job's `POST /jobs`. */
export interface AwaitingUploadJob {
  readonly jobId: string;
  readonly status: 'AWAITING_INPUT';
  readonly upload: UploadInstructions;
  /** POST here once the upload is done (with the parts' ETags for a multipart upload). */
  readonly startUrl: string;
  readonly statusUrl: string;
  readonly resultsUrl: string;
}

/** The 202 body of a started S3 input job. */
export interface StartedInputJob {
  readonly jobId: string;
  readonly status: 'RUNNING';
  readonly input: { readonly bucket: string; readonly key: string; readonly sizeBytes: number };
  readonly chunkCount: number;
  readonly statusUrl: string;
  readonly resultsUrl: string;
}

function inputDepsOf(deps: DispatcherDeps): InputDeps {
  if (deps.input === undefined) throw new Error('S3 inputs need the dispatcher input deps');
  return deps.input;
}

/** The messages of a job's ranges: one per range, entry id = chunk index. */
export function buildRangeEntries(
  jobId: string,
  object: InputObject,
  format: InputFormat,
  rangeBytes: number,
): QueueEntry[] {
  const ranges =
    format === 'json' ? planRanges(object.size, object.size) : planRanges(object.size, rangeBytes);
  return ranges.map((range, chunkIndex) => {
    const message: RangeChunkMessage = {
      jobId,
      chunkIndex,
      chunkCount: ranges.length,
      range: {
        bucket: object.bucket,
        key: object.key,
        ...(object.etag !== undefined && { etag: object.etag }),
        size: object.size,
        start: range.start,
        end: range.end,
        format,
      },
    };
    return { id: String(chunkIndex), body: JSON.stringify(message) };
  });
}

/** A `json` object is read whole by one worker: it must fit one range (one page, one Invoke). */
function assertReadable(object: InputObject, format: InputFormat): void {
  if (format === 'json' && object.size > MAX_JSON_INPUT_OBJECT_BYTES) {
    throw new PayloadTooLargeError(
      'INPUT_TOO_LARGE',
      `the json input has ${object.size} bytes; a json object takes at most ${MAX_JSON_INPUT_OBJECT_BYTES} (use the lines format, one number per line, for larger inputs)`,
      { details: { sizeBytes: object.size, maxBytes: MAX_JSON_INPUT_OBJECT_BYTES } },
    );
  }
}

function startedView(jobId: string, object: InputObject, chunkCount: number): StartedInputJob {
  return {
    jobId,
    status: 'RUNNING',
    input: { bucket: object.bucket, key: object.key, sizeBytes: object.size },
    chunkCount,
    statusUrl: jobPath(jobId),
    resultsUrl: resultsPath(jobId),
  };
}

/** `{"input": {"upload": ...}}`: the job AWAITING_INPUT and its presigned upload. */
export async function createUploadJob(
  source: Extract<InputSource, { kind: 'upload' }>,
  ownerArn: string,
  deps: DispatcherDeps,
): Promise<AwaitingUploadJob> {
  const input = inputDepsOf(deps);
  const now = deps.now?.() ?? new Date();
  const jobId = deps.newJobId?.() ?? crypto.randomUUID();
  logger.appendKeys({ jobId });
  const upload = await createUpload(
    { s3: input.presigner, inputBucketName: input.inputBucketName, now: () => now.getTime() },
    jobId,
    source,
  );
  const jobInput: JobInput = {
    bucket: upload.bucket,
    key: upload.key,
    format: source.format,
    rangeBytes: input.rangeBytes,
    maxNumbers: input.maxNumbersPerInputObject,
    ...(upload.method === 'MULTIPART' && { uploadId: upload.uploadId }),
  };
  await createJob(deps.table, {
    jobId,
    ownerArn,
    status: 'AWAITING_INPUT',
    input: jobInput,
    numbersCount: 0,
    chunkCount: 0,
    shardCount: 1,
    now,
    expiresAt: expiryAfterDays(now, deps.jobRetentionDays),
    // Past the URLs' expiry the upload cannot complete: the sweeper fails the job then.
    deadlineAt: deadlineAfter(now, UPLOAD_URL_EXPIRY_SECONDS),
    usage: { lambdaRequests: 1 },
  });
  metrics.addMetric('UploadJobsCreated', MetricUnit.Count, 1);
  logger.info('upload job created', { method: upload.method, format: source.format });
  return {
    jobId,
    status: 'AWAITING_INPUT',
    upload,
    startUrl: startPath(jobId),
    statusUrl: jobPath(jobId),
    resultsUrl: resultsPath(jobId),
  };
}

/** `{"input": {"s3Uri": ...}}`: an operator-allowed object, started at once. */
export async function createS3UriJob(
  source: Extract<InputSource, { kind: 's3Uri' }>,
  ownerArn: string,
  deps: DispatcherDeps,
): Promise<StartedInputJob> {
  const input = inputDepsOf(deps);
  authorizeS3Input(source.bucket, input.allowedBucketNames);
  const object = await describeInputObject(input.s3, source);
  assertReadable(object, source.format);
  const now = deps.now?.() ?? new Date();
  const jobId = deps.newJobId?.() ?? crypto.randomUUID();
  logger.appendKeys({ jobId });
  const entries = buildRangeEntries(jobId, object, source.format, input.rangeBytes);
  await createJob(deps.table, {
    jobId,
    ownerArn,
    input: {
      bucket: object.bucket,
      key: object.key,
      format: source.format,
      rangeBytes: source.format === 'json' ? object.size : input.rangeBytes,
      maxNumbers: input.maxNumbersPerInputObject,
      size: object.size,
      ...(object.etag !== undefined && { etag: object.etag }),
    },
    numbersCount: 0,
    chunkCount: entries.length,
    shardCount: shardCountFor(entries.length),
    now,
    expiresAt: expiryAfterDays(now, deps.jobRetentionDays),
    deadlineAt: deadlineAfter(now, deps.jobDeadlineSeconds ?? UPLOAD_URL_EXPIRY_SECONDS),
    usage: { lambdaRequests: 1, sqsRequests: sendSqsRequests(entries) },
  });
  await queueChunks(jobId, entries, deps, 'ranges');
  logger.info('s3 input job started', { sizeBytes: object.size, chunkCount: entries.length });
  return startedView(jobId, object, entries.length);
}

/** The body of `POST /jobs/{jobId}/start`: `{}`, or `{"parts": [{partNumber, etag}]}`. */
export function parseStartRequest(text: string): readonly UploadedPart[] | undefined {
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError('INVALID_JSON', 'the body of a start is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('BODY_NOT_OBJECT', 'the body of a start must be a JSON object');
  }
  const { parts } = body as { parts?: unknown };
  if (parts === undefined) return undefined;
  const invalid = () =>
    new BadRequestError(
      'INVALID_UPLOAD_PARTS',
      '"parts" must be a list of {"partNumber": n, "etag": "..."}, one per uploaded part',
    );
  if (!Array.isArray(parts)) throw invalid();
  return parts.map((part: unknown) => {
    if (typeof part !== 'object' || part === null) throw invalid();
    const { partNumber, etag } = part as { partNumber?: unknown; etag?: unknown };
    if (!Number.isSafeInteger(partNumber) || typeof etag !== 'string') throw invalid();
    return { partNumber: partNumber as number, etag };
  });
}

/**
 * `POST /jobs/{jobId}/start`: completes a multipart upload, reads the object's size and ETag,
 * and starts the job on its ranges. A start of a job already RUNNING answers it again; a start
 * retried after an earlier one completed the upload but failed before the job started finds
 * the upload completed, and starts the job. A start before the upload answers 404 (PUT) or 400
 * (multipart) and leaves the job AWAITING_INPUT.
 * @throws NotFoundError (JOB_NOT_FOUND, INPUT_NOT_FOUND), BadRequestError (INVALID_UPLOAD_PARTS),
 *   ConflictError (JOB_NOT_AWAITING_INPUT),
 *   PayloadTooLargeError (INPUT_TOO_LARGE: the job is FAILED too)
 */
export async function startUploadJob(
  jobId: string,
  parts: readonly UploadedPart[] | undefined,
  deps: DispatcherDeps,
  read?: JobRecord,
): Promise<StartedInputJob> {
  const input = inputDepsOf(deps);
  logger.appendKeys({ jobId });
  const job = read ?? (await getJob(deps.table, jobId, { consistentRead: true }));
  if (job === undefined) throw jobNotFoundError(jobId);
  const jobInput = job.input;
  if (job.status === 'RUNNING' && jobInput?.size !== undefined) {
    return startedView(jobId, { ...jobInput, size: jobInput.size }, job.chunkCount);
  }
  if (job.status !== 'AWAITING_INPUT' || jobInput === undefined) {
    throw new ConflictError(
      'JOB_NOT_AWAITING_INPUT',
      `the job is ${job.status}; only a job awaiting its upload can be started`,
      { details: { status: job.status } },
    );
  }
  if (jobInput.uploadId !== undefined) {
    if (parts === undefined) {
      throw new BadRequestError(
        'INVALID_UPLOAD_PARTS',
        'the upload is multipart: send {"parts": [{"partNumber": 1, "etag": "..."}, ...]}',
      );
    }
    const completed = await completeUpload(
      input.s3,
      { ...jobInput, uploadId: jobInput.uploadId },
      parts,
    );
    // A start retried after its upload was completed finds the object; an aborted one not.
    if (completed === 'NO_SUCH_UPLOAD') logger.warn('multipart upload already completed or gone');
  }
  const object = await describeInputObject(input.s3, jobInput);
  const now = deps.now?.() ?? new Date();
  try {
    assertReadable(object, jobInput.format);
  } catch (error) {
    const failure: JobFailure = {
      code: 'INPUT_TOO_LARGE',
      message: errorMessage(error),
    };
    await failJob(deps.table, jobId, failure, ['AWAITING_INPUT'], now);
    throw error;
  }
  const entries = buildRangeEntries(jobId, object, jobInput.format, jobInput.rangeBytes);
  const started = await startInputJob(
    deps.table,
    jobId,
    {
      size: object.size,
      ...(object.etag !== undefined && { etag: object.etag }),
      chunkCount: entries.length,
      shardCount: shardCountFor(entries.length),
      deadlineAt: deadlineAfter(now, deps.jobDeadlineSeconds ?? UPLOAD_URL_EXPIRY_SECONDS),
    },
    now,
  );
  if (!started.changed) {
    throw new ConflictError(
      'JOB_NOT_AWAITING_INPUT',
      `the job is ${started.status ?? 'gone'}; it was started or ended meanwhile`,
      { details: { status: started.status } },
    );
  }
  await queueChunks(jobId, entries, deps, 'ranges');
  logger.info('upload job started', { sizeBytes: object.size, chunkCount: entries.length });
  return startedView(jobId, object, entries.length);
}
