/**
 * Faults of delivery, through the real handlers on the local stack: a worker that throws on
 * one record, a chunk that fails on every delivery (DLQ -> FAILED -> redrive -> SUCCEEDED),
 * and the same message delivered twice at once. Each ends with exact results (checked against
 * an independent BigInt computation) or a precise terminal failure, every chunk stored once.
 * The work queue redelivers after 2 s (support.ts) so that retries happen within the test.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#test/e2e/helpers.ts';
import type { FanoutClient } from '../../bin/client.ts';
import {
  call,
  chunkOfBody,
  clientOf,
  documentClient,
  duplicateFirstBatch,
  expectEachChunkOnce,
  expectExactJob,
  firstInexact,
  integers,
  jobItem,
  jobItemsWithPrefix,
  recordAggregatorOutcomes,
  recordsOf,
  reliabilityStack,
  resultPages,
  waitForDrainedQueue,
  workQueueMaxReceiveCount,
} from './support.ts';

interface ChunkResultEvent {
  readonly jobId: string;
  readonly chunkIndex: number;
}

describe('Feature: delivery faults end exact or precisely failed', () => {
  const stack = reliabilityStack();
  let client: FanoutClient;
  let numbersPerChunk = 0;

  beforeAll(async () => {
    await stack.start();
    client = clientOf(stack);
    const dispatcher = stack.model.functions.find((spec) => /dispatcher/i.test(spec.logicalId));
    numbersPerChunk = Number(dispatcher?.environment.NUMBERS_PER_CHUNK ?? 10_000);
  }, 120_000);

  afterEach(() => {
    stack.intercept('worker', undefined);
    stack.intercept('aggregator', undefined);
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('retries only the record a worker threw on', { timeout: 60_000 }, async ({ task }) => {
    const deliveries = new Map<number, number>();
    const messageIds = new Map<number, string>();
    const reported: string[] = [];
    let jobId: string | undefined;
    let thrown = 0;
    stack.intercept('worker', async (event, next) => {
      for (const record of recordsOf(event)) {
        const chunk = chunkOfBody(record.body);
        if (chunk === undefined) continue;
        deliveries.set(chunk.chunkIndex, (deliveries.get(chunk.chunkIndex) ?? 0) + 1);
        messageIds.set(chunk.chunkIndex, record.messageId);
      }
      const response = (await next(event)) as SQSBatchResponse;
      reported.push(...response.batchItemFailures.map((failure) => failure.itemIdentifier));
      return response;
    });
    // The worker's hand-off of chunk 2 fails once (its Invoke answers a function error), so
    // the worker's processing of that one record throws.
    stack.intercept('aggregator', async (event, next) => {
      const chunk = event as ChunkResultEvent;
      jobId ??= chunk.jobId;
      if (chunk.chunkIndex === 2 && thrown === 0) {
        thrown++;
        throw new Error('injected: the hand-off of chunk 2 fails');
      }
      return next(event);
    });
    const numbers = integers(5 * numbersPerChunk - 17, -40);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBe(5);

    const job = await expectExactJob(stack, client, submitted.jobId, numbers);
    expect(jobId).toBe(submitted.jobId);
    expect([...deliveries.entries()].sort(([a], [b]) => a - b)).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
      [3, 1],
      [4, 1],
    ]);
    // Only that record was reported for redelivery, in its batch.
    expect(reported).toEqual([messageIds.get(2)]);
    // The failure is visible: one extra attempt, and the chunk's last error recorded.
    expect(job.attempts).toBe(1);
    const item = await jobItem(stack, submitted.jobId);
    const chunkErrors = item?.chunkErrors as Record<
      string,
      { reason: string; receiveCount: number }
    >;
    expect(Object.keys(chunkErrors)).toEqual(['2']);
    expect(chunkErrors['2']?.reason).toContain('injected: the hand-off of chunk 2 fails');
    expect(chunkErrors['2']?.receiveCount).toBe(1);
    task.meta.reliability = {
      fault: 'worker throws on one record (its hand-off fails once)',
      outcome: 'only that record redelivered (receive 2); SUCCEEDED, attempts=1',
      checked: numbers.length,
    };
  });

  it('fails a job whose chunk fails on every delivery, then redrives it to exact results', {
    timeout: 90_000,
  }, async ({ task }) => {
    const maxReceiveCount = workQueueMaxReceiveCount(stack);
    expect(maxReceiveCount).toBeGreaterThan(1);
    let poisoned = true;
    let poisonedDeliveries = 0;
    stack.intercept('aggregator', async (event, next) => {
      const chunk = event as ChunkResultEvent;
      if (poisoned && chunk.chunkIndex === 1) {
        poisonedDeliveries++;
        throw new Error('injected: chunk 1 cannot be aggregated');
      }
      return next(event);
    });
    const numbers = integers(4 * numbersPerChunk, 1_000_000);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBe(4);

    // maxReceiveCount failed deliveries, the DLQ, and its consumer: the job FAILED, precisely.
    const failedJob = await client.waitForJob(submitted.jobId, { timeoutMs: 60_000 });
    expect(failedJob.status).toBe('FAILED');
    expect(poisonedDeliveries).toBe(maxReceiveCount);
    expect(failedJob.failure?.code).toBe('CHUNKS_FAILED');
    expect(failedJob.failure?.failedChunkCount).toBe(1);
    const failedChunks = failedJob.failure?.failedChunks as
      | { chunkIndex: number; reason: string; receiveCount: number }[]
      | undefined;
    expect(failedChunks?.map((chunk) => chunk.chunkIndex)).toEqual([1]);
    expect(failedChunks?.[0]?.reason).toContain('injected: chunk 1 cannot be aggregated');
    expect(failedChunks?.[0]?.receiveCount).toBe(maxReceiveCount);
    expect(failedJob.attempts).toBe(maxReceiveCount);
    // The other chunks are stored, each once; the failed one's input is kept for a redrive.
    await waitForDrainedQueue(stack);
    const stored = await resultPages(stack, submitted.jobId);
    expect(stored.map((chunk) => chunk.chunkIndex)).toEqual([0, 2, 3]);
    const kept = await jobItemsWithPrefix(stack, submitted.jobId, 'FAILED#');
    expect(kept.map((item) => item.sk)).toEqual(['FAILED#00000001']);
    const whileFailed = await client.status(submitted.jobId);
    expect(whileFailed.status).toBe('FAILED');
    expect(whileFailed.progress).toEqual({
      chunksDone: 3,
      chunkCount: 4,
      numbersDone: 3 * numbersPerChunk,
    });

    // The cause is fixed; a redrive re-sends only the failed chunk.
    poisoned = false;
    const redrive = await call(stack.apiUrl, 'POST', `/jobs/${submitted.jobId}/redrive`);
    expect(redrive.status).toBe(202);
    expect(redrive.body).toMatchObject({
      jobId: submitted.jobId,
      status: 'RUNNING',
      redrivenChunks: 1,
    });
    const job = await expectExactJob(stack, client, submitted.jobId, numbers);
    expect(job.failure).toBeUndefined();
    expect(await jobItemsWithPrefix(stack, submitted.jobId, 'FAILED#')).toEqual([]);
    // A finished job is not redriven again.
    const again = await call(stack.apiUrl, 'POST', `/jobs/${submitted.jobId}/redrive`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'JOB_NOT_FAILED' } });
    task.meta.reliability = {
      fault: `chunk fails on every delivery (${maxReceiveCount}x) -> DLQ`,
      outcome: 'FAILED CHUNKS_FAILED [chunk 1]; redrive -> SUCCEEDED',
      checked: numbers.length,
    };
  });

  it('fails a job whose chunk message was lost at its deadline, listing the chunk', {
    timeout: 60_000,
  }, async ({ task }) => {
    // The worker's batch loses chunk 1: the record is acknowledged (so SQS deletes it) but
    // never processed, as a message lost between queue and function would be.
    let lost = false;
    stack.intercept('worker', (event, next) => {
      const records = recordsOf(event);
      const kept = records.filter((record) => lost || chunkOfBody(record.body)?.chunkIndex !== 1);
      if (kept.length < records.length) lost = true;
      return kept.length === 0
        ? Promise.resolve({ batchItemFailures: [] })
        : next({ Records: kept });
    });
    const numbers = integers(3 * numbersPerChunk, 17);
    const submitted = await client.submit(numbers);
    await waitFor(
      async () => (await client.status(submitted.jobId)).progress?.chunksDone === 2,
      30_000,
      'the other chunks to be stored',
    );
    await waitForDrainedQueue(stack);
    expect(lost).toBe(true);
    const stuck = await client.status(submitted.jobId);
    expect(stuck.status).toBe('RUNNING');

    // The clock passes the job's deadline (moved into the past), and the sweeper runs.
    const deadlineAt = Date.now() - 1_000;
    await documentClient(stack).send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `JOB#${submitted.jobId}`, sk: 'JOB' },
        UpdateExpression: 'SET deadlineAt = :past',
        ExpressionAttributeValues: { ':past': deadlineAt },
      }),
    );
    const sweeps = await stack.fireSchedule('sweep');
    expect(sweeps.every((outcome) => outcome.ok)).toBe(true);
    const failed = await client.status(submitted.jobId);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure?.code).toBe('DEADLINE_EXCEEDED');
    expect(failed.failure?.failedChunkCount).toBe(1);
    expect(
      (failed.failure?.failedChunks as { chunkIndex: number }[] | undefined)?.map(
        (chunk) => chunk.chunkIndex,
      ),
    ).toEqual([1]);
    expect(failed.progress).toEqual({
      chunksDone: 2,
      chunkCount: 3,
      numbersDone: 2 * numbersPerChunk,
    });
    expect((await jobItem(stack, submitted.jobId))?.runningPk).toBeUndefined();
    // Nothing was kept to redrive (the message is gone): the API says so.
    const redrive = await call(stack.apiUrl, 'POST', `/jobs/${submitted.jobId}/redrive`);
    expect(redrive.status).toBe(409);
    expect(redrive.body).toMatchObject({ error: { code: 'NOTHING_TO_REDRIVE' } });
    // A second sweep leaves it as it is.
    await stack.fireSchedule('sweep');
    expect((await client.status(submitted.jobId)).failure).toEqual(failed.failure);
    let checked = 0;
    for (const chunk of await resultPages(stack, submitted.jobId)) {
      const { results, offset } = chunk;
      expect(firstInexact(numbers.slice(offset, offset + results.length), results)).toBe(-1);
      checked += results.length;
    }
    expect(checked).toBe(2 * numbersPerChunk);
    task.meta.reliability = {
      fault: 'chunk message lost (acknowledged, never processed)',
      outcome: 'RUNNING until its deadline; sweeper -> FAILED DEADLINE_EXCEEDED [chunk 1]',
      checked,
    };
  });

  it('counts a message delivered twice at once, once', { timeout: 60_000 }, async ({ task }) => {
    const copies = duplicateFirstBatch(stack);
    const outcomes = recordAggregatorOutcomes(stack);
    const numbers = integers(3 * numbersPerChunk + 5, 94_906_000);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBe(4);
    const job = await client.waitForJob(submitted.jobId, { timeoutMs: 60_000 });
    await waitForDrainedQueue(stack);
    expect(copies.length).toBeGreaterThan(0);
    // Each chunk stored by exactly one delivery; every other copy was dropped as a duplicate,
    // or after the job had ended (by the aggregator, or skipped by the worker).
    expect(outcomes.filter((outcome) => outcome === 'STORED')).toHaveLength(submitted.chunkCount);
    expect(outcomes.length).toBeGreaterThan(submitted.chunkCount);
    for (const outcome of outcomes.filter((value) => value !== 'STORED')) {
      expect(['DUPLICATE', 'JOB_NOT_RUNNING']).toContain(outcome);
    }
    expect(job.status).toBe('SUCCEEDED');
    expect(firstInexact(numbers, await client.resultsOf(job))).toBe(-1);
    await expectEachChunkOnce(stack, await client.status(submitted.jobId), numbers.length);
    await waitFor(
      async () => (await client.status(submitted.jobId)).status === 'SUCCEEDED',
      1_000,
      'the job to stay SUCCEEDED',
    );
    task.meta.reliability = {
      fault: `same messages delivered twice concurrently (${copies.length} queue copies + a doubled batch)`,
      outcome: `${submitted.chunkCount} STORED, ${outcomes.length - submitted.chunkCount} dropped as duplicates; SUCCEEDED`,
      checked: numbers.length,
    };
  });
});
