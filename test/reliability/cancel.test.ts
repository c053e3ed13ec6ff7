/**
 * A job cancelled while it runs (`DELETE /jobs/{jobId}` on the local API): it ends CANCELLED
 * and stays so; the chunks delivered after the cancel are skipped without being computed (no
 * hand-off reaches the aggregator); a result that arrives late is dropped and does not
 * resurrect the job; replays, the sweeper and a second DELETE change nothing.
 *
 * Deterministic: the first worker batch runs, one of its chunks' hand-off is held back until
 * after the cancel (the late result), and every later batch is held outside the function
 * until the cancel has been answered.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#test/e2e/helpers.ts';
import type { FanoutClient } from '../../bin/client.ts';
import {
  call,
  chunkOfBody,
  clientOf,
  expectedSquare,
  integers,
  jobItem,
  recordsOf,
  reliabilityStack,
  resultPages,
  sleep,
  waitForDrainedQueue,
} from './support.ts';

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('Feature: cancelling a running job', () => {
  // Held batches must not be redelivered while they wait: the template's visibility timeout.
  const stack = reliabilityStack({ slowRetries: true });
  let client: FanoutClient;

  beforeAll(async () => {
    await stack.start();
    client = clientOf(stack);
  }, 120_000);

  afterEach(() => {
    stack.intercept('worker', undefined);
    stack.intercept('aggregator', undefined);
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('ends CANCELLED, skips later chunks uncomputed, and a late result does not resurrect it', {
    timeout: 60_000,
  }, async ({ task }) => {
    const cancelled = deferred();
    const heldArrived = deferred();
    let firstBatch: number[] | undefined;
    const laterBatches: { chunks: number[]; failures: number }[] = [];
    const bodies = new Map<number, string>();
    stack.intercept('worker', async (event, next) => {
      const chunks: number[] = [];
      for (const record of recordsOf(event)) {
        const chunk = chunkOfBody(record.body);
        if (chunk === undefined) continue;
        chunks.push(chunk.chunkIndex);
        bodies.set(chunk.chunkIndex, record.body);
      }
      if (firstBatch === undefined) {
        firstBatch = chunks;
        return next(event);
      }
      await cancelled.promise;
      const response = (await next(event)) as { batchItemFailures: unknown[] };
      laterBatches.push({ chunks, failures: response.batchItemFailures.length });
      return response;
    });
    let held: number | undefined;
    let lateAnswer: unknown;
    const handedOff: number[] = [];
    const answered: { chunkIndex: number; outcome: string }[] = [];
    stack.intercept('aggregator', async (event, next) => {
      const { chunkIndex } = event as { chunkIndex: number };
      handedOff.push(chunkIndex);
      if (held === undefined) {
        // This chunk's result arrives only after the cancel.
        held = chunkIndex;
        heldArrived.resolve();
        await cancelled.promise;
        lateAnswer = await next(event);
        return lateAnswer;
      }
      const answer = (await next(event)) as { outcome: string };
      answered.push({ chunkIndex, outcome: answer.outcome });
      return answer;
    });

    const numbers = integers(120_000, -500);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBe(12);
    await heldArrived.promise;
    await waitFor(
      () => firstBatch !== undefined && answered.length === firstBatch.length - 1,
      20_000,
      'the rest of the first batch to be stored',
    );
    const before = await client.status(submitted.jobId);
    expect(before.status).toBe('RUNNING');
    const storedBeforeCancel = before.progress?.chunksDone ?? -1;
    expect(storedBeforeCancel).toBe((firstBatch?.length ?? 0) - 1);

    const cancel = await call(stack.apiUrl, 'DELETE', `/jobs/${submitted.jobId}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ jobId: submitted.jobId, status: 'CANCELLED' });
    const { cancelledAt } = cancel.body as { cancelledAt: string };
    expect(Number.isNaN(Date.parse(cancelledAt))).toBe(false);
    cancelled.resolve();

    await waitFor(() => lateAnswer !== undefined, 20_000, 'the late result');
    await waitForDrainedQueue(stack);
    // The late result was dropped.
    expect(lateAnswer).toEqual({ outcome: 'JOB_NOT_RUNNING', jobStatus: 'CANCELLED' });
    // Every chunk was delivered; those delivered after the cancel succeeded without being
    // computed: none of them reached the aggregator.
    const later = laterBatches.flatMap((batch) => batch.chunks);
    expect([...(firstBatch ?? []), ...later].sort((a, b) => a - b)).toEqual(
      Array.from({ length: submitted.chunkCount }, (_, index) => index),
    );
    expect(laterBatches.every((batch) => batch.failures === 0)).toBe(true);
    expect([...handedOff].sort((a, b) => a - b)).toEqual(
      [...(firstBatch ?? [])].sort((a, b) => a - b),
    );

    // The job stays CANCELLED, with only what was stored before the cancel.
    const after = await client.status(submitted.jobId);
    expect(after.status).toBe('CANCELLED');
    expect(after.cancelledAt).toBe(cancelledAt);
    expect(after.progress?.chunksDone).toBe(storedBeforeCancel);
    const chunks = await resultPages(stack, submitted.jobId);
    // Exactly the chunks stored before the cancel: the late one was dropped unstored.
    expect(chunks.map((chunk) => chunk.chunkIndex)).toEqual(
      answered.map((answer) => answer.chunkIndex).sort((a, b) => a - b),
    );
    let checked = 0;
    for (const chunk of chunks) {
      const { results } = chunk;
      const offset = chunk.offset;
      expect(results).toEqual(
        numbers.slice(offset, offset + Number(chunk.count)).map((value) => expectedSquare(value)),
      );
      checked += results.length;
    }
    expect(after.progress?.numbersDone).toBe(checked);
    const results = await call(stack.apiUrl, 'GET', `/jobs/${submitted.jobId}/results`);
    expect(results.status).toBe(409);
    expect(results.body).toMatchObject({ error: { code: 'JOB_NOT_SUCCEEDED' } });
    const item = await jobItem(stack, submitted.jobId);
    expect(item?.runningPk).toBeUndefined();

    // Nothing brings it back: a replayed chunk, the deadline sweeper, another DELETE, a redrive.
    const batchesBefore = laterBatches.length;
    await stack.sendRawMessage(bodies.get(held ?? 0) ?? '');
    await waitFor(() => laterBatches.length > batchesBefore, 15_000, 'the replay to be consumed');
    await stack.fireSchedule('sweep');
    const again = await call(stack.apiUrl, 'DELETE', `/jobs/${submitted.jobId}`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'JOB_NOT_RUNNING' } });
    const redrive = await call(stack.apiUrl, 'POST', `/jobs/${submitted.jobId}/redrive`);
    expect(redrive.status).toBe(409);
    expect(redrive.body).toMatchObject({ error: { code: 'JOB_NOT_FAILED' } });
    await sleep(300);
    const final = await client.status(submitted.jobId);
    expect(final.status).toBe('CANCELLED');
    expect(final.progress?.chunksDone).toBe(storedBeforeCancel);
    expect(handedOff).toHaveLength(firstBatch?.length ?? -1);
    task.meta.reliability = {
      fault: `DELETE mid-job (${storedBeforeCancel}/${submitted.chunkCount} chunks stored, 1 result in flight)`,
      outcome: `CANCELLED; ${later.length} later deliveries skipped uncomputed; late result dropped`,
      checked,
    };
  });
});
