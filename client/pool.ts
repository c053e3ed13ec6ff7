/**
 * The Pool: Python's `multiprocessing.Pool` over the fanout API. `map`, `imap` and
 * `imapUnordered` square numbers on the deployed kernel; `submit` starts a job and hands back
 * a Job to join, terminate or stream. No function travels: the kernel is the one deployed.
 */
import type { EmbeddedStack, EmbeddedStackOptions } from '#local/embedded-stack.ts';
import { LOCAL_REGION } from '#local/emulators/common.ts';
import type { JobSummary, ResultChunk, SquareResult } from './api-types.ts';
import { FanoutError } from './errors.ts';
import { FanoutApi, type SubmitOptions } from './fanout-api.ts';
import type { Fetch, SigningChoice } from './http.ts';
import { collectInput, type JobInput, uploadSizeOf } from './input.ts';
import { Job, type JoinOptions, type StreamOptions } from './job.ts';
import {
  type CredentialsSource,
  createSigV4Signer,
  isLoopback,
  type RequestSigner,
  signingRegionOf,
} from './signing.ts';

interface CommonConnectOptions {
  /** The region to sign for. @default the execute-api URL's, then $AWS_REGION */
  readonly region?: string;
  /**
   * Credentials to sign with. @default a local stack's default principal for a loopback
   * URL, else the default AWS credential chain
   */
  readonly credentials?: CredentialsSource;
  /** `'none'` sends requests unsigned (a `fanout serve --no-auth`). */
  readonly signing?: 'sigv4' | 'none';
  /** A fetch function (tests). @default globalThis.fetch */
  readonly fetch?: Fetch;
}

/** A deployed stack: its `ApiUrl` output. */
export interface DeployedConnectOptions extends CommonConnectOptions {
  readonly api: string;
}

/** A running local stack (`fanout serve`): its URL. */
export interface LocalConnectOptions extends CommonConnectOptions {
  readonly url: string;
}

export type ConnectOptions = DeployedConnectOptions | LocalConnectOptions;

/** Options of `Pool.local()`: those of the embedded stack. Function logs default to errors only. */
export type LocalPoolOptions = EmbeddedStackOptions;

export type MapOptions = JoinOptions & Pick<SubmitOptions, 'idempotencyKey'>;
export type ImapOptions = StreamOptions &
  Pick<SubmitOptions, 'idempotencyKey'> & {
    /** Called with the job behind the iteration once it is submitted (to watch or keep it). */
    readonly onJob?: (job: Job) => void;
  };

function lazySigner(make: () => Promise<RequestSigner>): RequestSigner {
  let signer: Promise<RequestSigner> | undefined;
  return async (request) => {
    signer ??= make();
    return (await signer)(request);
  };
}

function signingFor(url: URL, options: CommonConnectOptions): SigningChoice {
  if (options.signing === 'none') return 'none';
  // A local stack signs for its own region unless told otherwise.
  const region = signingRegionOf(
    url,
    options.region ?? (isLoopback(url) ? LOCAL_REGION : undefined),
  );
  if (region === undefined) {
    throw new TypeError(`cannot tell the region of ${url.href}: pass { region }`);
  }
  if (options.credentials === undefined && isLoopback(url)) return 'auto';
  const credentials = options.credentials;
  return lazySigner(() => createSigV4Signer(region, credentials));
}

export class Pool {
  readonly api: FanoutApi;
  readonly #stack: EmbeddedStack | undefined;
  #closed = false;

  private constructor(api: FanoutApi, stack?: EmbeddedStack) {
    this.api = api;
    this.#stack = stack;
  }

  /**
   * A pool on a running API: `{ api, region }` for a deployed stack (SigV4 with the default
   * AWS credential chain), `{ url, credentials }` for a local one.
   * @throws TypeError for a URL that is not one, or a region that cannot be told
   */
  static connect(options: ConnectOptions): Pool {
    const base = 'api' in options ? options.api : options.url;
    let url: URL;
    try {
      url = new URL(base);
    } catch (error) {
      throw new TypeError(`the API URL must be a URL, got "${base}"`, { cause: error });
    }
    return new Pool(
      new FanoutApi(url.href, {
        signer: signingFor(url, options),
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      }),
    );
  }

  /**
   * Starts the whole stack on this machine (emulators, functions, API; see infra/local) and
   * a pool on it; `close()` stops it. Needs Java 17 for DynamoDB Local.
   */
  static async local(options: LocalPoolOptions = {}): Promise<Pool> {
    const { EmbeddedStack } = await import('#local/embedded-stack.ts');
    const stack = new EmbeddedStack({ logLevel: 'ERROR', ...options });
    await stack.start();
    return new Pool(new FanoutApi(stack.apiUrl, { signer: 'auto' }), stack);
  }

  /** The API this pool talks to. */
  get url(): string {
    return this.api.baseUrl;
  }

  /** The local stack this pool started, if it did. */
  get stack(): EmbeddedStack | undefined {
    return this.#stack;
  }

  /**
   * Starts a job (Python's `apply_async`): an array, a file path, or an (async) iterable. A
   * file of one number per line larger than UPLOAD_LINES_FILES_ABOVE_BYTES is uploaded to the
   * stack's input bucket and read there by the workers, so its size is not bound by a request
   * body (nor by this process's memory); its bad lines fail the job INVALID_INPUT.
   */
  async submit(input: JobInput, options: SubmitOptions = {}): Promise<Job> {
    const sizeBytes = typeof input === 'string' ? await uploadSizeOf(input) : undefined;
    if (typeof input === 'string' && sizeBytes !== undefined) {
      if (options.idempotencyKey !== undefined) {
        // The API makes an upload job once per request: a retry would make a second one.
        throw new FanoutError(
          `${input} goes through an upload, and an upload job takes no idempotency key; submit it once`,
        );
      }
      const started = await this.api.submitFile(input, {
        format: 'lines',
        sizeBytes,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return new Job(this.api, started.jobId, started);
    }
    const { numbers, lines } = await collectInput(input);
    const submitted = await this.api.submit(numbers, {
      ...options,
      ...(lines === undefined ? {} : { lines }),
    });
    return new Job(this.api, submitted.jobId, submitted);
  }

  /** An existing job, by id (to join, stream or terminate it from another process). */
  job(jobId: string): Job {
    return new Job(this.api, jobId);
  }

  /**
   * The squares of `input`, in input order, exact: a number, or a decimal string for an
   * integer square beyond 2^53-1.
   * @throws InvalidInputError, JobFailedError, JobCancelledError, TimeoutError, HttpError
   */
  async map(input: JobInput, options: MapOptions = {}): Promise<SquareResult[]> {
    const job = await this.submit(input, pickSubmit(options));
    return job.collect(options);
  }

  /**
   * The squares of `input` one by one, in input order, as they are computed. Leaving the
   * loop early terminates the job.
   */
  async *imap(input: JobInput, options: ImapOptions = {}): AsyncGenerator<SquareResult> {
    for await (const page of this.imapUnordered(input, options)) yield* page.results;
  }

  /**
   * The squares of `input` in whole pages `{ offset, results }` as they complete (today the
   * API releases them in input order). Leaving the loop early terminates the job.
   */
  async *imapUnordered(input: JobInput, options: ImapOptions = {}): AsyncGenerator<ResultChunk> {
    const job = await this.submit(input, pickSubmit(options));
    options.onJob?.(job);
    let finished = false;
    try {
      yield* job.pages(options);
      finished = true;
    } finally {
      if (!finished) await job.terminate().catch(() => undefined);
    }
  }

  /** The jobs of this pool's principal, newest first (`GET /jobs`, page after page). */
  async *jobs(options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<JobSummary> {
    let cursor: string | undefined;
    do {
      const page = await this.api.listJobs(cursor, options.signal);
      yield* page.jobs;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Stops what the pool started (the local stack of `Pool.local()`). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stack?.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function pickSubmit(options: Pick<SubmitOptions, 'idempotencyKey'>): SubmitOptions {
  return options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey };
}
