/**
 * Cancel and idempotent submit on the local server as users run it: `npx fanout serve`
 * (a separate process, its own local stack), driven over HTTP only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '#local/embedded-stack.ts';
import { processGroupMembers, waitFor } from '#test/e2e/helpers.ts';
import { FanoutClient } from '../../bin/client.ts';
import { call, firstInexact, integers, sleep } from './support.ts';

describe('Feature: DELETE /jobs/{id} and Idempotency-Key on `fanout serve`', () => {
  let child: ChildProcess | undefined;
  let baseUrl = '';
  let client: FanoutClient;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.VITEST;
    // Its own process group, as a shell job: everything it starts is stopped with it.
    child = spawn('npx', ['--no-install', 'fanout', 'serve', '--port', '0'], {
      cwd: PROJECT_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
    });
    await waitFor(
      () => /^http:\/\/127\.0\.0\.1:\d+\n/.test(stdout) || child?.exitCode !== null,
      110_000,
      'fanout serve to print its URL',
    );
    if (child.exitCode !== null) throw new Error(`fanout serve exited: ${stderr}`);
    baseUrl = stdout.trim().split('\n')[0] ?? '';
    client = new FanoutClient(baseUrl);
  }, 120_000);

  afterAll(async () => {
    const group = child?.pid;
    if (child === undefined || group === undefined) return;
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      process.kill(-group, 'SIGINT');
      const timer = setTimeout(() => {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    await waitFor(
      async () => (await processGroupMembers(group)).length === 0,
      15_000,
      'fanout serve and its emulators to exit',
    );
  }, 40_000);

  function post(body: unknown, key?: string) {
    return call(baseUrl, 'POST', '/jobs', {
      body: JSON.stringify(body),
      ...(key === undefined ? {} : { headers: { 'Idempotency-Key': key } }),
    });
  }

  it('answers the same job for the same Idempotency-Key and body, and refuses another body', {
    timeout: 60_000,
  }, async ({ task }) => {
    const key = `test-${randomUUID()}`;
    const numbers = integers(2_000, -17);
    const first = await post({ numbers }, key);
    expect(first.status).toBe(202);
    const { jobId } = first.body as { jobId: string };
    // The stage's path (/v1) leads it, as in AWS; the local server accepts both forms.
    expect(first.headers.get('location')).toMatch(new RegExp(`^(/[a-z0-9]+)?/jobs/${jobId}$`));

    // Repeats, one at a time and several at once: the same job, never a second one.
    const repeat = await post({ numbers }, key);
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    const burst = await Promise.all(Array.from({ length: 4 }, () => post({ numbers }, key)));
    for (const answer of burst) {
      expect(answer.status).toBe(202);
      expect((answer.body as { jobId: string }).jobId).toBe(jobId);
    }
    // The same key with other numbers is refused, not answered with the first job.
    const reused = await post({ numbers: [...numbers, 1] }, key);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    // Another key, or none, makes new jobs.
    const otherKey = await post({ numbers }, `${key}-2`);
    expect(otherKey.status).toBe(202);
    const plain = await Promise.all([post({ numbers }), post({ numbers })]);
    const ids = new Set([
      jobId,
      (otherKey.body as { jobId: string }).jobId,
      ...plain.map((answer) => (answer.body as { jobId: string }).jobId),
    ]);
    expect(ids.size).toBe(4);
    // A malformed key is refused before anything is created.
    const malformed = await post({ numbers }, 'not a valid key!');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: 'INVALID_IDEMPOTENCY_KEY' } });

    // Concurrent first uses of a fresh key create one job.
    const freshKey = `test-${randomUUID()}`;
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => post({ numbers: [3, 4] }, freshKey)),
    );
    const accepted = racing.filter((answer) => answer.status === 202);
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(accepted.map((answer) => (answer.body as { jobId: string }).jobId)).size).toBe(
      1,
    );
    for (const answer of racing.filter((candidate) => candidate.status !== 202)) {
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ error: { code: 'IDEMPOTENCY_IN_PROGRESS' } });
    }

    const job = await client.waitForJob(jobId, { timeoutMs: 30_000 });
    expect(job.status).toBe('SUCCEEDED');
    expect(firstInexact(numbers, await client.resultsOf(job))).toBe(-1);
    // Still the same job once it has finished.
    const late = await post({ numbers }, key);
    expect(late.status).toBe(202);
    expect((late.body as { jobId: string }).jobId).toBe(jobId);
    task.meta.reliability = {
      fault: 'Idempotency-Key on `fanout serve`: 6 repeats, a reused key, a race of 5',
      outcome: 'one job per key (202 same jobId); other body 422; race: one job',
      checked: numbers.length,
    };
  });

  it('cancels a running job with DELETE /jobs/{id}, and it stays CANCELLED', {
    timeout: 60_000,
  }, async ({ task }) => {
    const numbers = integers(500_000, 1);
    const submitted = await client.submit(numbers);
    const cancel = await call(baseUrl, 'DELETE', `/jobs/${submitted.jobId}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ jobId: submitted.jobId, status: 'CANCELLED' });

    const cancelled = await client.status(submitted.jobId);
    expect(cancelled.status).toBe('CANCELLED');
    const doneAtCancel = cancelled.progress?.chunksDone ?? -1;
    expect(doneAtCancel).toBeLessThan(submitted.chunkCount);
    // The chunks still queued are skipped: nothing moves, it stays CANCELLED.
    await sleep(2_000);
    const later = await client.status(submitted.jobId);
    expect(later.status).toBe('CANCELLED');
    expect(later.progress?.chunksDone).toBe(doneAtCancel);
    expect(later.cancelledAt).toBe((cancel.body as { cancelledAt: string }).cancelledAt);

    const results = await call(baseUrl, 'GET', `/jobs/${submitted.jobId}/results`);
    expect(results.status).toBe(409);
    expect(results.body).toMatchObject({ error: { code: 'JOB_NOT_SUCCEEDED' } });
    const again = await call(baseUrl, 'DELETE', `/jobs/${submitted.jobId}`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'JOB_NOT_RUNNING' } });
    const redrive = await call(baseUrl, 'POST', `/jobs/${submitted.jobId}/redrive`);
    expect(redrive.status).toBe(409);
    const unknown = await call(baseUrl, 'DELETE', `/jobs/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'JOB_NOT_FOUND' } });
    const malformed = await call(baseUrl, 'DELETE', '/jobs/not-a-job-id');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: 'INVALID_JOB_ID' } });

    // A finished job cannot be cancelled.
    const small = await client.submit([5, 6]);
    await client.waitForJob(small.jobId, { timeoutMs: 20_000 });
    const finished = await call(baseUrl, 'DELETE', `/jobs/${small.jobId}`);
    expect(finished.status).toBe(409);
    expect((await client.status(small.jobId)).results).toEqual([25, 36]);
    task.meta.reliability = {
      fault: `DELETE on \`fanout serve\` right after submit (${submitted.chunkCount} chunks)`,
      outcome: `CANCELLED at ${doneAtCancel}/${submitted.chunkCount} chunks, stayed CANCELLED; 409/404/400 as due`,
      checked: 2,
    };
  });
});
