/**
 * A fake fanout API behind a fetch function: one job at a time whose chunks complete one per
 * status poll, so that a test sees a job RUNNING, then SUCCEEDED, FAILED or CANCELLED.
 */
import { gunzipSync } from 'node:zlib';
import type { Fetch } from '#client/index.ts';

export interface FakeRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly signal: AbortSignal | undefined;
}

export interface FakeJobPlan {
  /** Numbers per chunk. @default 2 */
  readonly chunkSize?: number;
  /** How the job ends once every chunk is done. @default 'SUCCEEDED' */
  readonly ends?: 'SUCCEEDED' | 'FAILED';
  /** Results inline in the status body once SUCCEEDED. @default false */
  readonly inline?: boolean;
  /** Status polls that still say RUNNING once every chunk is stored. @default 0 */
  readonly completionLag?: number;
  /** Results responses without `page`/`pageCount`, as an API before `?page=`. @default false */
  readonly unpaged?: boolean;
}

const JOB_ID = '00000000-0000-4000-8000-000000000001';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

export class FakeApi {
  readonly requests: FakeRequest[] = [];
  readonly jobId = JOB_ID;
  plan: FakeJobPlan = {};
  /** Answer every POST /jobs with this (status, body) instead. */
  refuseSubmit: { status: number; body: unknown } | undefined;
  numbers: unknown[] = [];
  chunksDone = 0;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' = 'RUNNING';

  get chunkCount(): number {
    return Math.max(1, Math.ceil(this.numbers.length / (this.plan.chunkSize ?? 2)));
  }

  readonly fetch: Fetch = async (url, init) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    const body =
      init.body instanceof Uint8Array
        ? Buffer.from(init.body)
        : Buffer.from(String(init.body ?? ''));
    const request = {
      method: init.method ?? 'GET',
      url,
      headers,
      body,
      signal: init.signal ?? undefined,
    };
    this.requests.push(request);
    return this.#answer(request);
  };

  #square(value: unknown): number | string {
    const big = BigInt(value as number | string);
    const square = big * big;
    return square <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(square) : square.toString();
  }

  #lagged = 0;

  #advance(): void {
    if (this.status !== 'RUNNING') return;
    this.chunksDone = Math.min(this.chunkCount, this.chunksDone + 1);
    if (this.chunksDone < this.chunkCount) return;
    if (this.#lagged < (this.plan.completionLag ?? 0)) this.#lagged++;
    else this.status = this.plan.ends ?? 'SUCCEEDED';
  }

  #view(): Record<string, unknown> {
    const size = this.plan.chunkSize ?? 2;
    return {
      jobId: JOB_ID,
      status: this.status,
      numbersCount: this.numbers.length,
      progress: {
        chunksDone: this.chunksDone,
        chunkCount: this.chunkCount,
        numbersDone: Math.min(this.numbers.length, this.chunksDone * size),
      },
      ...(this.status === 'FAILED'
        ? {
            failure: {
              code: 'CHUNKS_FAILED',
              message: '1 chunk failed on every delivery',
              failedChunks: [{ chunkIndex: 1, reason: 'worker crashed', receiveCount: 3 }],
              failedChunkCount: 1,
            },
          }
        : {}),
      ...(this.status === 'CANCELLED' ? { cancelledAt: '2026-01-01T00:00:00.000Z' } : {}),
      ...(this.status === 'SUCCEEDED' && this.plan.inline === true
        ? { results: this.numbers.map((value) => this.#square(value)) }
        : {}),
    };
  }

  #answer({ method, url, headers, body }: FakeRequest): Response {
    const path = url.pathname;
    if (method === 'POST' && path === '/jobs') {
      if (this.refuseSubmit !== undefined) {
        return json(this.refuseSubmit.status, this.refuseSubmit.body);
      }
      const text =
        headers['content-type'] === 'application/gzip'
          ? gunzipSync(body).toString('utf8')
          : body.toString('utf8');
      this.numbers = (JSON.parse(text) as { numbers: unknown[] }).numbers;
      this.chunksDone = 0;
      this.status = 'RUNNING';
      return json(202, {
        jobId: JOB_ID,
        status: 'RUNNING',
        numbersCount: this.numbers.length,
        chunkCount: this.chunkCount,
        statusUrl: `/jobs/${JOB_ID}`,
        resultsUrl: `/jobs/${JOB_ID}/results`,
      });
    }
    if (path === '/jobs' && method === 'GET') {
      const cursor = url.searchParams.get('cursor');
      return json(200, {
        jobs: [{ jobId: cursor === null ? 'a' : 'b', status: 'SUCCEEDED' }],
        nextCursor: cursor === null ? 'page2' : null,
      });
    }
    if (path !== `/jobs/${JOB_ID}` && !path.startsWith(`/jobs/${JOB_ID}/`)) {
      return json(404, { error: { code: 'JOB_NOT_FOUND', message: 'no job' } });
    }
    if (method === 'DELETE') {
      if (this.status !== 'RUNNING') {
        return json(409, {
          error: { code: 'JOB_NOT_RUNNING', message: `the job is ${this.status}` },
        });
      }
      this.status = 'CANCELLED';
      return json(200, {
        jobId: JOB_ID,
        status: 'CANCELLED',
        cancelledAt: '2026-01-01T00:00:00.000Z',
        statusUrl: `/jobs/${JOB_ID}`,
      });
    }
    if (path.endsWith('/results')) {
      const partial = url.searchParams.get('partial') === 'true';
      if (this.status !== 'SUCCEEDED' && !(partial && this.status === 'RUNNING')) {
        return json(409, {
          error: {
            code: 'JOB_NOT_SUCCEEDED',
            message: 'not yet',
            details: { status: this.status },
          },
        });
      }
      const size = this.plan.chunkSize ?? 2;
      // One chunk a response: the cursor is the chunk's index, `?page=` the same index.
      const chunk = Number(url.searchParams.get('page') ?? url.searchParams.get('cursor') ?? '0');
      // Chunks complete on status polls and on asks that find nothing new (time passing
      // between polls), so a test sees pages arrive while RUNNING.
      const available = this.chunksDone;
      if (chunk >= available) {
        const empty = json(200, {
          jobId: JOB_ID,
          status: this.status,
          offset: chunk * size,
          count: 0,
          nextCursor: String(chunk),
          page: chunk,
          pageCount: this.chunkCount,
          results: [],
        });
        this.#advance();
        return empty;
      }
      const slice = this.numbers.slice(chunk * size, (chunk + 1) * size);
      const next = chunk + 1 < this.chunkCount ? String(chunk + 1) : null;
      return json(200, {
        jobId: JOB_ID,
        status: this.status,
        offset: chunk * size,
        count: slice.length,
        nextCursor: next,
        ...(this.plan.unpaged === true ? {} : { page: chunk, pageCount: this.chunkCount }),
        results: slice.map((value) => this.#square(value)),
      });
    }
    const view = this.#view();
    this.#advance();
    return json(200, view);
  }
}
