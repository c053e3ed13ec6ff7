/**
 * One job on the pipeline, as Python's `Process` and `AsyncResult` are one computation:
 * `join()` waits for it, `terminate()` cancels it, `results()` streams its squares in order
 * while it runs (the `Queue`), `progress()` and the `progress` event report how far it is.
 */
import { EventEmitter } from 'node:events';
import type {
  JobStatus,
  JobStatusBody,
  RedrivenJob,
  ResultChunk,
  ResultsPageBody,
  SquareResult,
  StartedInputJob,
  SubmittedJob,
} from './api-types.ts';
import { HttpError, JobCancelledError, JobFailedError } from './errors.ts';
import {
  addressable,
  assertLastPage,
  assertOffset,
  type FanoutApi,
  isTerminal,
} from './fanout-api.ts';
import { Backoff } from './poll.ts';

/** How far a job is. */
export interface JobProgress {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly chunksDone: number;
  readonly chunkCount: number;
  readonly numbersDone: number;
  readonly numbersCount: number;
}

export interface JoinOptions {
  /** Give up waiting after this long (a TimeoutError; the job keeps running). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface StreamOptions {
  readonly signal?: AbortSignal;
  /** Longest pause between polls while nothing new is ready. @default 250 */
  readonly maxIntervalMs?: number;
}

/** The events of a Job: `progress` on every change seen by any poll. */
export interface JobEvents {
  progress: [JobProgress];
}

function progressOf(body: JobStatusBody): JobProgress {
  return {
    jobId: body.jobId,
    status: body.status,
    chunksDone: body.progress.chunksDone,
    chunkCount: body.progress.chunkCount,
    numbersDone: body.progress.numbersDone,
    numbersCount: body.numbersCount,
  };
}

/** The error of a job that ended without succeeding. */
function endError(body: JobStatusBody): JobFailedError | JobCancelledError | undefined {
  if (body.status === 'FAILED') return new JobFailedError(body);
  if (body.status === 'CANCELLED') return new JobCancelledError(body);
  return undefined;
}

export class Job extends EventEmitter<JobEvents> {
  readonly id: string;
  /**
   * The `202` answer of `POST /jobs` (or of the start of an uploaded file's job), when this
   * object submitted the job.
   */
  readonly submitted: SubmittedJob | StartedInputJob | undefined;
  readonly #api: FanoutApi;
  #last: JobStatusBody | undefined;

  constructor(api: FanoutApi, id: string, submitted?: SubmittedJob | StartedInputJob) {
    super();
    this.#api = api;
    this.id = id;
    this.submitted = submitted;
  }

  /** The status last seen by any poll, if any. */
  get lastStatus(): JobStatusBody | undefined {
    return this.#last;
  }

  /** `GET /jobs/{jobId}`: status, progress, timing, failure, cost. */
  async status(signal?: AbortSignal): Promise<JobStatusBody> {
    const body = await this.#api.status(this.id, signal);
    this.#observe(body);
    return body;
  }

  #observe(body: JobStatusBody): void {
    const before = this.#last;
    this.#last = body;
    if (
      before === undefined ||
      before.status !== body.status ||
      before.progress.chunksDone !== body.progress.chunksDone
    ) {
      this.emit('progress', progressOf(body));
    }
  }

  /**
   * Waits until the job ends.
   * @returns its status body once SUCCEEDED (with the results inline when small)
   * @throws JobFailedError, JobCancelledError, TimeoutError
   */
  async join(options: JoinOptions = {}): Promise<JobStatusBody> {
    const body = await this.#api.waitForJob(this.id, {
      onStatus: (seen) => this.#observe(seen),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const error = endError(body);
    if (error !== undefined) throw error;
    return body;
  }

  /**
   * Cancels the job (`DELETE /jobs/{jobId}`); workers skip its remaining chunks. A job that
   * has already ended is left as it is.
   * @returns the status the job ends with: CANCELLED, or the one it had already ended with
   */
  async terminate(signal?: AbortSignal): Promise<JobStatus> {
    try {
      const cancelled = await this.#api.cancel(this.id, signal);
      return cancelled.status;
    } catch (error) {
      if (error instanceof HttpError && error.status === 409 && error.code === 'JOB_NOT_RUNNING') {
        return (await this.status(signal)).status;
      }
      throw error;
    }
  }

  /** `POST /jobs/{jobId}/redrive`: re-sends a FAILED job's failed chunks. */
  redrive(signal?: AbortSignal): Promise<RedrivenJob> {
    return this.#api.redrive(this.id, signal);
  }

  /** Every change of the job's progress, until (and including) the status it ends with. */
  async *progress(options: StreamOptions = {}): AsyncGenerator<JobProgress> {
    const backoff = new Backoff(20, options.maxIntervalMs ?? 250);
    let seen: JobProgress | undefined;
    for (;;) {
      const body = await this.status(options.signal);
      const now = progressOf(body);
      if (seen === undefined || seen.status !== now.status || seen.chunksDone !== now.chunksDone) {
        seen = now;
        yield now;
      }
      if (isTerminal(body)) return;
      await backoff.wait(options.signal);
    }
  }

  /**
   * The job's results page by page, in order, as they are stored: the first pages come while
   * later chunks still compute.
   * @throws JobFailedError, JobCancelledError when the job ends without succeeding
   */
  async *pages(options: StreamOptions = {}): AsyncGenerator<ResultChunk> {
    const backoff = new Backoff(20, options.maxIntervalMs ?? 250);
    let cursor: string | undefined;
    let offset = 0;
    for (;;) {
      let page: Awaited<ReturnType<FanoutApi['resultsPage']>>;
      try {
        page = await this.#api.resultsPage(this.id, cursor, options.signal, { partial: true });
      } catch (error) {
        if (!(error instanceof HttpError && error.code === 'JOB_NOT_SUCCEEDED')) throw error;
        const body = await this.status(options.signal);
        const ended = endError(body);
        if (ended !== undefined) throw ended;
        // An API without partial pages: the results come once the job has SUCCEEDED.
        await this.join(options.signal === undefined ? {} : { signal: options.signal });
        continue;
      }
      if (page.nextCursor === null && page.status !== 'SUCCEEDED') {
        // Every chunk is stored, the job's completion is a moment behind: the last page is
        // handed out once the job has SUCCEEDED, so the stream never ends before the job.
        await this.join(options.signal === undefined ? {} : { signal: options.signal });
      }
      if (page.count > 0) {
        assertOffset(this.id, page, offset);
        offset += page.count;
        backoff.reset();
        yield { offset: page.offset, results: page.results };
      }
      if (page.nextCursor === null) return;
      if (page.status === 'SUCCEEDED' && addressable(page)) {
        // Every page is stored: the rest is fetched several responses at a time, in order.
        yield* this.#finishedPagesFrom(page.page + 1, page.pageCount, offset, options.signal);
        return;
      }
      cursor = page.nextCursor;
      if (page.count === 0) {
        // Nothing new yet. The answer itself says the job runs (an end is a 409, handled
        // above), so the job's status is read only for whoever listens to its progress.
        if (this.listenerCount('progress') > 0) await this.status(options.signal);
        await backoff.wait(options.signal);
      }
    }
  }

  async *#finishedPagesFrom(
    from: number,
    pageCount: number,
    offset: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ResultChunk> {
    let expected = offset;
    const pages = this.#api.finishedPages(this.id, from, pageCount, {
      ...(signal === undefined ? {} : { signal }),
    });
    let last: ResultsPageBody | undefined;
    for await (const page of pages) {
      assertOffset(this.id, page, expected);
      expected += page.count;
      last = page;
      yield { offset: page.offset, results: page.results };
    }
    assertLastPage(this.id, last);
  }

  /** The job's squares one by one, in input order, as they become available (the `Queue`). */
  async *results(options: StreamOptions = {}): AsyncGenerator<SquareResult> {
    for await (const page of this.pages(options)) yield* page.results;
  }

  /**
   * Waits for the job and returns all its squares, in input order.
   * @throws JobFailedError, JobCancelledError, TimeoutError
   */
  async collect(options: JoinOptions = {}): Promise<SquareResult[]> {
    const body = await this.join(options);
    return this.#api.resultsOf(body, options.signal);
  }
}
