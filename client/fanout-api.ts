/**
 * The fanout API route by route: submit (gzip-compressed when large), status, results pages,
 * cancel, redrive, and the caller's jobs. One method per route, typed with the API's shapes.
 */
import { stat } from 'node:fs/promises';
import { JOBS_PATH, jobPath, redrivePath, resultsPath, startPath } from '#commons/api-paths.ts';
import { gzipNumbersText } from '#commons/compression.ts';
import { MAX_BINARY_REQUEST_BODY_BYTES } from '#commons/limits.ts';
import { TERMINAL_STATUSES } from '#commons/types.ts';
import type {
  AwaitingUploadJob,
  CancelledJob,
  JobListPage,
  JobStatusBody,
  RedrivenJob,
  ResultsPageBody,
  SquareResult,
  StartedInputJob,
  SubmittedJob,
  UploadedPart,
} from './api-types.ts';
import { FanoutError, InputFormatError, messageOf, TimeoutError } from './errors.ts';
import { type Fetch, HttpTransport, type SigningChoice } from './http.ts';
import { Backoff } from './poll.ts';
import { type UploadOptions, uploadFile } from './upload.ts';

/**
 * Results responses fetched at once by `allResults` and a finished job's `pages()`: enough to
 * hide a response's round trip behind the others, few enough to hold little in memory.
 */
export const RESULTS_FETCH_CONCURRENCY = 4;

/** Bodies above this are sent gzip-compressed. */
export const GZIP_THRESHOLD_BYTES = 64 * 1024;

export function isTerminal(job: Pick<JobStatusBody, 'status'>): boolean {
  return TERMINAL_STATUSES.includes(job.status);
}

/** Whether a results response says where it is among the job's (`page` of `pageCount`). */
export function addressable(page: ResultsPageBody): boolean {
  return typeof page.page === 'number' && typeof page.pageCount === 'number';
}

/**
 * Checks that a results page starts where the ones before it ended: never a gap or an overlap.
 * @throws FanoutError
 */
export function assertOffset(jobId: string, page: { readonly offset: number }, expected: number) {
  if (page.offset !== expected) {
    throw new FanoutError(
      `results page of job ${jobId} starts at ${page.offset}, expected ${expected}`,
    );
  }
}

/**
 * Checks that the responses fetched by index ended with the job's last one: never a short
 * list of results taken for all of them.
 * @throws FanoutError
 */
export function assertLastPage(jobId: string, last: ResultsPageBody | undefined): void {
  if (last === undefined || last.nextCursor !== null) {
    throw new FanoutError(`the results of job ${jobId} ended before their last page`);
  }
}

export interface FanoutApiOptions {
  /** @default 'auto': local stacks with the local default principal, execute-api URLs with the default credential chain */
  readonly signer?: SigningChoice;
  readonly fetch?: Fetch;
}

export interface SubmitOptions {
  readonly signal?: AbortSignal;
  /** Sent as `Idempotency-Key`: the same key and body give the same job. */
  readonly idempotencyKey?: string;
  /** File lines of the elements, named in an InvalidInputError. */
  readonly lines?: readonly number[];
}

/**
 * A file of one number per line above this size is uploaded (`submitFile`) rather than sent
 * in a request body: 1 MiB of lines holds at most 524,288 numbers, and its JSON gzipped, so
 * a smaller file is always within the body's limits (1,000,000 numbers, 5.5 MB sent).
 */
export const UPLOAD_LINES_FILES_ABOVE_BYTES = 1024 ** 2;

/** The formats of an uploaded input: one number per line, or a JSON array. */
export type UploadFormat = 'lines' | 'json';

export interface UploadFileOptions extends UploadOptions {
  /** @default 'json' for a name ending in .json, else 'lines' */
  readonly format?: UploadFormat;
  /** The file's size, when the caller has it already. @default from stat */
  readonly sizeBytes?: number;
}

/** The format of an input file, from its name. */
export function formatOfFile(path: string): UploadFormat {
  return path.toLowerCase().endsWith('.json') ? 'json' : 'lines';
}

export interface WaitOptions {
  /** Called on every poll with the job's status body. */
  readonly onStatus?: (job: JobStatusBody) => void;
  /** Called on every poll with chunks done and total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Give up after this long (a TimeoutError). @default no limit */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Longest pause between polls. @default 250 */
  readonly maxIntervalMs?: number;
}

export class FanoutApi {
  readonly transport: HttpTransport;

  /** `baseUrl`: the API root, e.g. `http://127.0.0.1:3000` or `https://…/v1/`. */
  constructor(baseUrl: string, options: FanoutApiOptions = {}) {
    this.transport = new HttpTransport(baseUrl, options);
  }

  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /**
   * `POST /jobs`. Bodies over GZIP_THRESHOLD_BYTES go as `application/gzip`.
   *
   * The numbers travel in the request body (at most the API's 5.5 MB as sent); an input
   * larger than that goes as a file, through `submitFile`.
   */
  async submit(numbers: readonly unknown[], options: SubmitOptions = {}): Promise<SubmittedJob> {
    const json = Buffer.from(JSON.stringify({ numbers }));
    // The API treats application/gzip as binary: it reaches the dispatcher still compressed
    // (base64), unlike Content-Encoding: gzip, which API Gateway inflates first and which
    // would then count in full against Lambda's 6 MB payload limit.
    const body =
      json.length > GZIP_THRESHOLD_BYTES
        ? {
            bytes: gzipNumbersText(json, MAX_BINARY_REQUEST_BODY_BYTES),
            headers: { 'content-type': 'application/gzip' },
          }
        : { bytes: json, headers: { 'content-type': 'application/json' } };
    return this.transport.request<SubmittedJob>('POST', JOBS_PATH, 'the job was not accepted', {
      body,
      signal: options.signal,
      ...(options.idempotencyKey === undefined
        ? {}
        : { headers: { 'idempotency-key': options.idempotencyKey } }),
      ...(options.lines === undefined ? {} : { lines: options.lines }),
    });
  }

  /**
   * `POST /jobs` with `{"input": {"upload": ...}}`: a job AWAITING_INPUT and the presigned
   * URLs to upload its input with (a single PUT, or multipart parts for `sizeBytes` past the
   * API's threshold).
   */
  createUploadJob(
    format: UploadFormat,
    sizeBytes: number,
    signal?: AbortSignal,
  ): Promise<AwaitingUploadJob> {
    const json = Buffer.from(JSON.stringify({ input: { upload: { format, sizeBytes } } }));
    return this.transport.request<AwaitingUploadJob>(
      'POST',
      JOBS_PATH,
      'the upload job was not created',
      {
        body: { bytes: json, headers: { 'content-type': 'application/json' } },
        signal,
      },
    );
  }

  /** `POST /jobs/{jobId}/start`: starts an upload job once its input is uploaded. */
  startJob(
    jobId: string,
    parts?: readonly UploadedPart[],
    signal?: AbortSignal,
  ): Promise<StartedInputJob> {
    const json = Buffer.from(JSON.stringify(parts === undefined ? {} : { parts }));
    return this.transport.request<StartedInputJob>('POST', startPath(jobId), `start job ${jobId}`, {
      body: { bytes: json, headers: { 'content-type': 'application/json' } },
      signal,
    });
  }

  /**
   * A job on a file of any size, through an S3 upload: creates the upload job, streams the
   * file to its presigned URLs (constant memory), and starts it. Numbers are read by the
   * workers, by Python's grammar; a bad line fails the job INVALID_INPUT with its line number.
   * @throws InputFormatError when the file cannot be read, UploadError, HttpError
   */
  async submitFile(path: string, options: UploadFileOptions = {}): Promise<StartedInputJob> {
    let sizeBytes: number;
    try {
      sizeBytes = options.sizeBytes ?? (await stat(path)).size;
    } catch (error) {
      throw new InputFormatError(`cannot read ${path}: ${messageOf(error)}`, { cause: error });
    }
    if (sizeBytes === 0) throw new InputFormatError(`${path} is empty: nothing to square`);
    const created = await this.createUploadJob(
      options.format ?? formatOfFile(path),
      sizeBytes,
      options.signal,
    );
    const parts = await uploadFile(created.upload, path, sizeBytes, options);
    return this.startJob(created.jobId, parts, options.signal);
  }

  /** `GET /jobs/{jobId}`. */
  status(jobId: string, signal?: AbortSignal): Promise<JobStatusBody> {
    return this.transport.request<JobStatusBody>('GET', jobPath(jobId), `job ${jobId}`, {
      signal,
    });
  }

  /**
   * `GET /jobs/{jobId}/results?cursor=`. With `partial`, a RUNNING job answers the results
   * stored so far from the cursor on (`count` 0 when none is ready yet), and `nextCursor`
   * where to ask next.
   */
  resultsPage(
    jobId: string,
    cursor?: string,
    signal?: AbortSignal,
    options: { readonly partial?: boolean; readonly page?: number } = {},
  ): Promise<ResultsPageBody> {
    const query = new URLSearchParamsEncoder();
    if (cursor !== undefined) query.add('cursor', cursor);
    if (options.page !== undefined) query.add('page', String(options.page));
    if (options.partial === true) query.add('partial', 'true');
    return this.transport.request<ResultsPageBody>(
      'GET',
      `${resultsPath(jobId)}${query.toString()}`,
      `results of job ${jobId}`,
      { signal },
    );
  }

  /** `DELETE /jobs/{jobId}`: cancels a running job. */
  cancel(jobId: string, signal?: AbortSignal): Promise<CancelledJob> {
    return this.transport.request<CancelledJob>('DELETE', jobPath(jobId), `cancel job ${jobId}`, {
      signal,
    });
  }

  /** `POST /jobs/{jobId}/redrive`: re-sends a failed job's failed chunks. */
  redrive(jobId: string, signal?: AbortSignal): Promise<RedrivenJob> {
    return this.transport.request<RedrivenJob>('POST', redrivePath(jobId), `redrive job ${jobId}`, {
      signal,
    });
  }

  /** `GET /jobs?cursor=`: one page of the caller's jobs, newest first. */
  listJobs(cursor?: string, signal?: AbortSignal): Promise<JobListPage> {
    const query = new URLSearchParamsEncoder();
    if (cursor !== undefined) query.add('cursor', cursor);
    return this.transport.request<JobListPage>(
      'GET',
      `${JOBS_PATH}${query.toString()}`,
      'list jobs',
      {
        signal,
      },
    );
  }

  /**
   * Responses `from` to `pageCount - 1` of a SUCCEEDED job's results (`?page=`), `concurrency`
   * requests in flight, yielded in order: memory holds at most `concurrency` responses.
   */
  async *finishedPages(
    jobId: string,
    from: number,
    pageCount: number,
    options: { readonly concurrency?: number; readonly signal?: AbortSignal } = {},
  ): AsyncGenerator<ResultsPageBody> {
    const concurrency = Math.max(1, options.concurrency ?? RESULTS_FETCH_CONCURRENCY);
    // Requests still in flight when the caller stops early (or one fails) are cancelled.
    const stop = new AbortController();
    const signal =
      options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
    const window: Promise<ResultsPageBody>[] = [];
    let next = from;
    const fill = () => {
      while (window.length < concurrency && next < pageCount) {
        const request = this.resultsPage(jobId, undefined, signal, { page: next++ });
        // Rejections are seen when the page's turn comes; none goes unhandled meanwhile.
        request.catch(() => undefined);
        window.push(request);
      }
    };
    try {
      fill();
      for (let request = window.shift(); request !== undefined; request = window.shift()) {
        const page = await request;
        fill();
        yield page;
      }
    } finally {
      stop.abort();
    }
  }

  /** Every result of a SUCCEEDED job, in order: the first response, then the others in parallel. */
  async allResults(jobId: string, signal?: AbortSignal): Promise<SquareResult[]> {
    const results: SquareResult[] = [];
    const add = (page: ResultsPageBody) => {
      assertOffset(jobId, page, results.length);
      for (const value of page.results) results.push(value);
    };
    let page = await this.resultsPage(jobId, undefined, signal);
    add(page);
    if (page.nextCursor === null) return results;
    if (addressable(page)) {
      let last: ResultsPageBody | undefined;
      const rest = this.finishedPages(jobId, page.page + 1, page.pageCount, {
        ...(signal === undefined ? {} : { signal }),
      });
      for await (const next of rest) {
        add(next);
        last = next;
      }
      assertLastPage(jobId, last);
      return results;
    }
    // An API whose responses do not say their page: one after the other, by cursor.
    while (page.nextCursor !== null) {
      page = await this.resultsPage(jobId, page.nextCursor, signal);
      add(page);
    }
    return results;
  }

  /**
   * Polls `GET /jobs/{jobId}` until the job is SUCCEEDED, FAILED or CANCELLED.
   * @throws TimeoutError past `timeoutMs`
   */
  async waitForJob(jobId: string, options: WaitOptions = {}): Promise<JobStatusBody> {
    const deadline =
      options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    const backoff = new Backoff(20, options.maxIntervalMs ?? 250);
    for (;;) {
      const job = await this.status(jobId, options.signal);
      options.onStatus?.(job);
      options.onProgress?.(job.progress.chunksDone, job.progress.chunkCount);
      if (isTerminal(job)) return job;
      if (Date.now() + backoff.nextDelayMs > deadline) {
        throw new TimeoutError(jobId, options.timeoutMs ?? 0, job.status);
      }
      await backoff.wait(options.signal);
    }
  }

  /** The results of a terminal job body: inline when small, else fetched page by page. */
  async resultsOf(job: JobStatusBody, signal?: AbortSignal): Promise<SquareResult[]> {
    if (Array.isArray(job.results)) return job.results;
    return this.allResults(job.jobId, signal);
  }
}

/**
 * A query string with every value percent-encoded (never `+` for a space), so that what is
 * signed and what is sent agree with any SigV4 implementation.
 */
class URLSearchParamsEncoder {
  readonly #parts: string[] = [];
  add(name: string, value: string): void {
    this.#parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  toString(): string {
    return this.#parts.length === 0 ? '' : `?${this.#parts.join('&')}`;
  }
}
