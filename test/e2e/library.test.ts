/**
 * The client library on the local stack, as a user's script runs it: `Pool.local()` (one
 * stack for the file), map, imap streaming a million numbers, submit and terminate, a bad
 * element; and `import { Pool } from 'fanout'` from a script in another folder.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  type Job,
  JobCancelledError,
  Pool,
  type SquareResult,
} from '#client/index.ts';
import { PROJECT_DIR } from '#local/embedded-stack.ts';

const run = promisify(execFile);

describe('Class: Pool (on the local stack)', () => {
  let pool: Pool;

  beforeAll(async () => {
    const cdkOutDir = process.env.FANOUT_E2E_CDK_OUT;
    pool = await Pool.local({
      logSink: null,
      ...(cdkOutDir === undefined ? {} : { cdkOutDir, synth: false }),
    });
  }, 120_000);

  afterAll(async () => {
    await pool.close();
  });

  it('maps [1, 2, 3, 4, 5] to [1, 4, 9, 16, 25]', async () => {
    expect(await pool.map([1, 2, 3, 4, 5])).toEqual([1, 4, 9, 16, 25]);
  });

  it('streams the squares of a 1,000,000-number job, the first before it has SUCCEEDED', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const count = 1_000_000;
    const numbers = Array.from({ length: count }, (_, index) => index);
    let job: Job | undefined;
    let statusAtFirst: string | undefined;
    let seen = 0;
    let firstWrong = -1;

    // Act
    for await (const square of pool.imap(numbers, { onJob: (submitted) => (job = submitted) })) {
      if (seen === 0) statusAtFirst = (await job?.status())?.status;
      if (firstWrong < 0 && square !== seen * seen) firstWrong = seen;
      seen++;
    }

    // Assess
    expect(statusAtFirst).toBe('RUNNING');
    expect(seen).toBe(count);
    expect(firstWrong).toBe(-1);
    expect((await job?.status())?.status).toBe('SUCCEEDED');
  });

  it('ends a job CANCELLED when it is terminated after submit', { timeout: 30_000 }, async () => {
    const job = await pool.submit(Array.from({ length: 300_000 }, (_, index) => index));
    expect(await job.terminate()).toBe('CANCELLED');
    expect((await job.status()).status).toBe('CANCELLED');
    await expect(job.join()).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('throws InvalidInputError naming the index of a bad element', async () => {
    const error = await pool.map([1, 'twelve', 3]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).errors).toEqual([
      expect.objectContaining({ index: 1, code: 'INVALID_INTEGER_STRING' }),
    ]);
  });

  it('refuses an unsigned request as API Gateway does', async () => {
    const response = await fetch(`${pool.url}/jobs`, { method: 'POST', body: '{"numbers":[1]}' });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it("serves `import { Pool } from 'fanout'` to a script in another folder", {
    timeout: 30_000,
  }, async () => {
    // Prepare: what `npm install <path to fanout>` leaves, a link in node_modules.
    const folder = await mkdtemp(join(tmpdir(), 'fanout-user-'));
    try {
      await mkdir(join(folder, 'node_modules'));
      await symlink(PROJECT_DIR, join(folder, 'node_modules', 'fanout'), 'dir');
      const script = join(folder, 'square.ts');
      await writeFile(
        script,
        [
          "import { Pool, type SquareResult } from 'fanout';",
          'const pool = Pool.connect({ url: process.argv[2] ?? "" });',
          'const squares: SquareResult[] = await pool.map([1, 2, 3, 4, 5]);',
          'console.log(JSON.stringify(squares));',
        ].join('\n'),
      );

      // Act
      const { stdout } = await run(join(PROJECT_DIR, 'node_modules', '.bin', 'node'), [
        script,
        pool.url,
      ]);

      // Assess
      expect(JSON.parse(stdout) as SquareResult[]).toEqual([1, 4, 9, 16, 25]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
