/** The CLI's job commands against a fake API (test/unit/client/fake-api.ts). */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FanoutApi, JobFailedError, TimeoutError } from '#client/index.ts';
import { runJobCommand } from '../../../bin/job-commands.ts';
import { FakeApi } from '../client/fake-api.ts';

const URL_LOCAL = 'http://127.0.0.1:3000';

function neverSubmit(): never {
  throw new Error('no job is submitted here');
}

describe('Function: runJobCommand', () => {
  let fake: FakeApi;
  let api: FanoutApi;
  let stdout: string[];

  beforeEach(() => {
    fake = new FakeApi();
    api = new FanoutApi(URL_LOCAL, { signer: 'none', fetch: fake.fetch });
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('Command: results', () => {
    it('prints every square of a job that ends within --timeout', async () => {
      // Prepare
      fake.plan = { chunkSize: 2 };
      await api.submit([1, 2, 3, 4, 5]);

      // Act
      const code = await runJobCommand(
        'results',
        [fake.jobId],
        api,
        { json: false, progress: false, timeoutMs: 600_000 },
        neverSubmit,
      );

      // Assess
      expect(code).toBe(0);
      expect(stdout.join('')).toBe('Squares: [1, 4, 9, 16, 25]\n');
    });

    it('writes --output through FILE.partial: FILE once every square is in, nothing if the job fails', async () => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'fanout-results-'));
      const done = join(dir, 'done.txt');
      const failed = join(dir, 'failed.txt');
      const options = { json: false, progress: false, timeoutMs: 600_000, format: 'lines' };
      try {
        fake.plan = { chunkSize: 2 };
        await api.submit([1, 2, 3]);

        // Act
        const code = await runJobCommand(
          'results',
          [fake.jobId],
          api,
          { ...options, output: done },
          neverSubmit,
        );
        fake = new FakeApi();
        api = new FanoutApi(URL_LOCAL, { signer: 'none', fetch: fake.fetch });
        fake.plan = { chunkSize: 1, ends: 'FAILED' };
        await api.submit([1, 2, 3]);
        const error = await runJobCommand(
          'results',
          [fake.jobId],
          api,
          { ...options, output: failed },
          neverSubmit,
        ).catch((caught: unknown) => caught);

        // Assess
        expect(code).toBe(0);
        expect(await readFile(done, 'utf8')).toBe('1\n4\n9\n');
        expect(error).toBeInstanceOf(JobFailedError);
        expect((await readdir(dir)).sort()).toEqual(['done.txt']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('throws TimeoutError naming the job when it does not end within --timeout', async () => {
      // Prepare: a job of 1,000 chunks, each found on an ask after a pause of at least 20 ms,
      // cannot end within 1 ms; only the timeout ends the command.
      fake.plan = { chunkSize: 1 };
      await api.submit(Array.from({ length: 1_000 }, (_, index) => index));

      // Act
      const error = await runJobCommand(
        'results',
        [fake.jobId],
        api,
        { json: false, progress: false, timeoutMs: 1 },
        neverSubmit,
      ).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ jobId: fake.jobId, timeoutMs: 1 });
      expect(fake.status).toBe('RUNNING');
      const asks = fake.requests.filter((request) => request.url.pathname.endsWith('/results'));
      expect(asks.length).toBeGreaterThan(0);
      expect(asks.every((request) => request.signal?.aborted === true)).toBe(true);
    });
  });
});
