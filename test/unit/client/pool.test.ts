/**
 * The client library against a fake API (fake-api.ts): map, imap and imapUnordered, submit
 * and the Job's join, terminate, progress and results, the typed errors, and signing.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  GZIP_THRESHOLD_BYTES,
  HttpError,
  InvalidInputError,
  JobCancelledError,
  JobFailedError,
  type JobProgress,
  LOCAL_DEFAULT_CREDENTIALS,
  Pool,
  type SquareResult,
  TimeoutError,
} from '#client/index.ts';
import { FakeApi } from './fake-api.ts';

const URL_LOCAL = 'http://127.0.0.1:3000';

async function all<T>(values: AsyncIterable<T>): Promise<T[]> {
  const seen: T[] = [];
  for await (const value of values) seen.push(value);
  return seen;
}

describe('Class: Pool', () => {
  let api: FakeApi;
  let pool: Pool;

  beforeEach(() => {
    api = new FakeApi();
    pool = Pool.connect({ url: URL_LOCAL, fetch: api.fetch });
  });

  describe('Method: map', () => {
    it('returns the squares in input order, big integers as decimal strings', async () => {
      // Prepare
      api.plan = { chunkSize: 2 };

      // Act
      const squares = await pool.map([1, 2, 3, 4, '123456789012345678901234567890']);

      // Assess
      expect(squares).toEqual([
        1,
        4,
        9,
        16,
        '15241578753238836750495351562536198787501905199875019052100',
      ]);
    });

    it('takes the results inline when the status carries them', async () => {
      api.plan = { chunkSize: 10, inline: true };
      expect(await pool.map([5, 6])).toEqual([25, 36]);
      expect(api.requests.some((request) => request.url.pathname.endsWith('/results'))).toBe(false);
    });

    it('reads a file of one number a line and an async iterable', async () => {
      const path = join(tmpdir(), `fanout-map-${process.pid}.txt`);
      await writeFile(path, '# squares\n2\n\n3\n');
      expect(await pool.map(path)).toEqual([4, 9]);
      async function* numbers() {
        yield 7;
        yield 8;
      }
      expect(await pool.map(numbers())).toEqual([49, 64]);
    });

    it('sends a large body gzip-compressed', async () => {
      const numbers = Array.from({ length: 20_000 }, (_, index) => index);
      api.plan = { chunkSize: 20_000, inline: true };
      const squares = await pool.map(numbers);
      expect(squares[19_999]).toBe(19_999 * 19_999);
      const submit = api.requests.find((request) => request.method === 'POST');
      expect(submit?.headers['content-type']).toBe('application/gzip');
      expect(JSON.stringify({ numbers }).length).toBeGreaterThan(GZIP_THRESHOLD_BYTES);
    });

    it('throws InvalidInputError with each bad index, and its line for a file', async () => {
      api.refuseSubmit = {
        status: 400,
        body: {
          error: {
            code: 'INVALID_NUMBERS',
            message: '1 element is not a valid number',
            details: {
              invalidCount: 1,
              errors: [{ index: 1, code: 'NOT_A_NUMBER', message: 'numbers[1] is not a number' }],
            },
          },
        },
      };
      const path = join(tmpdir(), `fanout-bad-${process.pid}.txt`);
      await writeFile(path, '1\n\n# next one is bad\nx\n');

      const error = await pool.map(path).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toBeInstanceOf(HttpError);
      const invalid = error as InvalidInputError;
      expect(invalid.status).toBe(400);
      expect(invalid.code).toBe('INVALID_NUMBERS');
      expect(invalid.invalidCount).toBe(1);
      expect(invalid.errors).toEqual([
        { index: 1, code: 'NOT_A_NUMBER', message: 'numbers[1] is not a number', line: 4 },
      ]);
      expect(invalid.message).toContain('numbers[1] (line 4): NOT_A_NUMBER');
    });

    it('throws JobFailedError with the failed chunks and their reasons', async () => {
      api.plan = { ends: 'FAILED' };
      const error = await pool.map([1, 2, 3]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(JobFailedError);
      expect((error as JobFailedError).failure?.code).toBe('CHUNKS_FAILED');
      expect((error as JobFailedError).failedChunks).toEqual([
        { chunkIndex: 1, reason: 'worker crashed', receiveCount: 3 },
      ]);
    });
  });

  describe('Method: imap', () => {
    it('yields squares in order while the job is still running', async () => {
      api.plan = { chunkSize: 2 };
      const seen: Array<{ value: unknown; status: string }> = [];
      for await (const value of pool.imap([1, 2, 3, 4, 5, 6])) {
        seen.push({ value, status: api.status });
      }
      expect(seen.map((entry) => entry.value)).toEqual([1, 4, 9, 16, 25, 36]);
      expect(seen[0]?.status).toBe('RUNNING');
      expect(
        api.requests.filter((request) => request.url.searchParams.get('partial') === 'true').length,
      ).toBeGreaterThan(0);
      // An answer with nothing new says the job still runs: no status read between two asks.
      expect(
        api.requests.filter((request) => request.url.pathname === `/jobs/${api.jobId}`),
      ).toEqual([]);
    });

    it('reads the status between empty asks only for a listener of progress, which sees it change', async () => {
      // Prepare
      api.plan = { chunkSize: 1 };
      const job = await pool.submit([1, 2, 3]);
      const seen: number[] = [];
      job.on('progress', (progress) => seen.push(progress.chunksDone));

      // Act
      const squares: SquareResult[] = [];
      for await (const page of job.pages()) squares.push(...page.results);

      // Assess: the squares, and progress events as chunks completed, not only at the end.
      expect(squares).toEqual([1, 4, 9]);
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.at(-1)).toBe(3);
      expect(api.requests.some((request) => request.url.pathname === `/jobs/${api.jobId}`)).toBe(
        true,
      );
    });

    it('ends only once the job has SUCCEEDED, even when its last chunk is stored first', async () => {
      api.plan = { chunkSize: 2, completionLag: 3 };
      const squares = await all(pool.imap([1, 2, 3]));
      expect(squares).toEqual([1, 4, 9]);
      expect(api.status).toBe('SUCCEEDED');
    });

    it('terminates the job when the loop is left early', async () => {
      api.plan = { chunkSize: 1 };
      for await (const value of pool.imap([1, 2, 3, 4])) {
        expect(value).toBe(1);
        break;
      }
      expect(api.status).toBe('CANCELLED');
      expect(api.requests.at(-1)?.method).toBe('DELETE');
    });

    it('throws JobCancelledError when the job is cancelled meanwhile', async () => {
      api.plan = { chunkSize: 1 };
      const iterator = pool.imap([1, 2, 3, 4])[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toBe(1);
      api.status = 'CANCELLED';
      await expect(iterator.next()).rejects.toBeInstanceOf(JobCancelledError);
    });
  });

  describe('Method: map of a finished job', () => {
    it('fetches the responses after the first by ?page=, in order', async () => {
      // Prepare: the job is done before any result is asked for.
      api.plan = { chunkSize: 1 };
      const numbers = Array.from({ length: 9 }, (_, index) => index + 1);
      const job = await pool.submit(numbers);
      await job.join();

      // Act
      const squares = await all(job.results());

      // Assess
      expect(squares).toEqual(numbers.map((n) => n * n));
      const pages = api.requests
        .filter((request) => request.url.pathname.endsWith('/results'))
        .map((request) => request.url.searchParams.get('page'));
      expect(pages).toEqual([null, '1', '2', '3', '4', '5', '6', '7', '8']);
    });

    it('cancels the requests still in flight when the caller stops early', async () => {
      api.plan = { chunkSize: 1 };
      const job = await pool.submit([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await job.join();

      const seen: number[] = [];
      for await (const square of job.results()) {
        seen.push(square as number);
        if (seen.length === 2) break;
      }

      expect(seen).toEqual([1, 4]);
      const byPage = api.requests.filter((request) => request.url.searchParams.has('page'));
      expect(byPage.length).toBeGreaterThan(1);
      expect(byPage.every((request) => request.signal?.aborted === true)).toBe(true);
    });

    it('follows the cursors of an API whose responses do not say their page', async () => {
      api.plan = { chunkSize: 1, unpaged: true };
      const numbers = [1, 2, 3, 4, 5];
      const job = await pool.submit(numbers);
      await job.join();

      expect(await all(job.results())).toEqual([1, 4, 9, 16, 25]);
      expect(await pool.api.allResults(job.id)).toEqual([1, 4, 9, 16, 25]);
      const pages = api.requests
        .filter((request) => request.url.pathname.endsWith('/results'))
        .map((request) => request.url.searchParams.get('page'));
      expect(pages.every((page) => page === null)).toBe(true);
    });
  });

  describe('Method: imapUnordered', () => {
    it('yields whole pages with their offsets', async () => {
      api.plan = { chunkSize: 2 };
      const pages = await all(pool.imapUnordered([1, 2, 3]));
      expect(pages).toEqual([
        { offset: 0, results: [1, 4] },
        { offset: 2, results: [9] },
      ]);
    });
  });

  describe('Method: submit', () => {
    it('returns a Job to join, with progress as events and as an async iterable', async () => {
      api.plan = { chunkSize: 1 };
      const job = await pool.submit([1, 2, 3]);
      const events: JobProgress[] = [];
      job.on('progress', (progress) => events.push(progress));

      const seen = await all(job.progress({ maxIntervalMs: 1 }));

      expect(job.id).toBe(api.jobId);
      expect(seen.map((progress) => progress.chunksDone)).toEqual([0, 1, 2, 3]);
      expect(seen.at(-1)?.status).toBe('SUCCEEDED');
      expect(events.at(-1)).toMatchObject({ status: 'SUCCEEDED', chunksDone: 3, chunkCount: 3 });
      expect((await job.join()).status).toBe('SUCCEEDED');
      expect(await all(job.results())).toEqual([1, 4, 9]);
    });

    it('terminates a running job, and leaves an ended one as it is', async () => {
      const job = await pool.submit([1, 2, 3]);
      expect(await job.terminate()).toBe('CANCELLED');
      expect(await job.terminate()).toBe('CANCELLED');
      await expect(job.join()).rejects.toBeInstanceOf(JobCancelledError);
    });

    it('throws TimeoutError naming the job when join outlasts timeoutMs', async () => {
      api.plan = { chunkSize: 1 };
      const job = await pool.submit(Array.from({ length: 1_000 }, (_, index) => index));
      const error = await job.join({ timeoutMs: 30 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ jobId: api.jobId, timeoutMs: 30, status: 'RUNNING' });
    });

    it('reattaches to a job by id', async () => {
      api.plan = { chunkSize: 10, inline: true };
      await pool.submit([3]);
      expect((await pool.job(api.jobId).join()).results).toEqual([9]);
      const unknown = await pool
        .job('nope')
        .status()
        .catch((caught: unknown) => caught);
      expect(unknown).toBeInstanceOf(HttpError);
      expect(unknown).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    });
  });

  describe('Method: jobs', () => {
    it("lists every page of the caller's jobs", async () => {
      const jobs = await all(pool.jobs());
      expect(jobs.map((job) => job.jobId)).toEqual(['a', 'b']);
    });
  });

  describe('Method: connect', () => {
    it("signs a local stack's requests with the local default principal", async () => {
      api.plan = { inline: true };
      await pool.map([1]);
      const authorization = api.requests[0]?.headers.authorization ?? '';
      expect(authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${LOCAL_DEFAULT_CREDENTIALS.accessKeyId}/\\d{8}/us-east-1/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$`,
        ),
      );
    });

    it('signs with given credentials, or not at all with signing none', async () => {
      const credentials = { accessKeyId: 'AKIAOTHEROTHER00001', secretAccessKey: 'x' };
      api.plan = { inline: true };
      await Pool.connect({ url: URL_LOCAL, credentials, fetch: api.fetch }).map([1]);
      expect(api.requests[0]?.headers.authorization).toContain('Credential=AKIAOTHEROTHER00001/');
      const unsigned = new FakeApi();
      unsigned.plan = { inline: true };
      await Pool.connect({ url: URL_LOCAL, signing: 'none', fetch: unsigned.fetch }).map([1]);
      expect(unsigned.requests[0]?.headers.authorization).toBeUndefined();
    });

    it('signs a deployed API for the region of its URL', async () => {
      api.plan = { inline: true };
      const deployed = Pool.connect({
        api: 'https://abc123.execute-api.eu-central-1.amazonaws.com/v1/',
        credentials: { accessKeyId: 'AKIADEPLOYED0000001', secretAccessKey: 'x' },
        fetch: api.fetch,
      });
      await deployed.map([1]).catch(() => undefined);
      expect(api.requests[0]?.url.href).toBe(
        'https://abc123.execute-api.eu-central-1.amazonaws.com/v1/jobs',
      );
      expect(api.requests[0]?.headers.authorization).toContain('/eu-central-1/execute-api/');
    });

    it('refuses a URL that is not one, and a region it cannot tell', () => {
      expect(() => Pool.connect({ url: 'not a url' })).toThrow(
        'the API URL must be a URL, got "not a url"',
      );
      const region = process.env.AWS_REGION;
      delete process.env.AWS_REGION;
      try {
        expect(() => Pool.connect({ api: 'https://api.example.com/' })).toThrow(
          'cannot tell the region of https://api.example.com/: pass { region }',
        );
      } finally {
        process.env.AWS_REGION = region;
      }
    });
  });
});
