/**
 * SQS delivery semantics through the real handlers: duplicates are counted once, a failed
 * record is retried alone, a poison message ends in the DLQ. The work queue's visibility
 * timeout is shortened to 2 s (in the template it is 6 × the worker timeout) so that
 * redeliveries happen within the test; everything else is as synthesized.
 */

import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FanoutClient } from '../../bin/client.ts';
import { appStack, exactIntegerSquare, waitFor } from './helpers.ts';

const VISIBILITY_TIMEOUT_SECONDS = 2;

interface ChunkBody {
  readonly jobId: string;
  readonly chunkIndex: number;
}

function chunkOf(body: string): ChunkBody | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<ChunkBody>;
    return typeof parsed.jobId === 'string' && typeof parsed.chunkIndex === 'number'
      ? { jobId: parsed.jobId, chunkIndex: parsed.chunkIndex }
      : undefined;
  } catch {
    return undefined;
  }
}

describe('Feature: delivery semantics of the work queue', () => {
  const stack = appStack({
    overrideQueueAttributes: ({ attributes }): Record<string, string> =>
      attributes.RedrivePolicy === undefined
        ? {}
        : { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
  });
  let client: FanoutClient;

  beforeAll(async () => {
    await stack.start();
    client = new FanoutClient(stack.apiUrl);
  }, 120_000);

  afterEach(() => {
    stack.intercept('worker', undefined);
    stack.intercept('aggregator', undefined);
  });

  afterAll(async () => {
    await stack.stop();
  });

  async function expectExactJob(jobId: string, numbers: readonly number[]): Promise<void> {
    const job = await client.waitForJob(jobId, { timeoutMs: 60_000 });
    expect(job.status).toBe('SUCCEEDED');
    expect(job.progress?.chunksDone).toBe(job.progress?.chunkCount);
    expect(job.progress?.numbersDone).toBe(numbers.length);
    const results = await client.resultsOf(job);
    expect(results).toHaveLength(numbers.length);
    expect(
      results.every((value, index) => value === exactIntegerSquare(numbers[index] as number)),
    ).toBe(true);
  }

  it('counts a chunk delivered twice, concurrently and again later, once', {
    timeout: 60_000,
  }, async () => {
    const bodies: string[] = [];
    const outcomes: string[] = [];
    let duplicated = false;
    stack.intercept('worker', async (event, next) => {
      const records = (event as SQSEvent).Records;
      bodies.push(...records.map((record) => record.body));
      if (duplicated) return next(event);
      duplicated = true;
      // The same batch delivered twice at once, as SQS may do.
      const [first] = await Promise.all([next(event), next(event)]);
      return first;
    });
    stack.intercept('aggregator', async (event, next) => {
      const answer = (await next(event)) as { outcome: string };
      outcomes.push(answer.outcome);
      return answer;
    });
    const numbers = Array.from({ length: 20_000 }, (_, index) => index - 7);
    const submitted = await client.submit(numbers);
    await expectExactJob(submitted.jobId, numbers);
    // A copy that lost a transaction conflict is retried after the visibility timeout.
    await waitFor(
      async () => {
        const depth = await stack.queueDepth(stack.workQueue);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      20_000,
      'the work queue to drain',
    );
    // Each chunk stored once; every extra copy reached the aggregator and was dropped, as a
    // DUPLICATE, or as JOB_NOT_RUNNING when the other copy had already completed the job.
    const stored = outcomes.filter((outcome) => outcome === 'STORED').length;
    expect(stored).toBe(submitted.chunkCount);
    expect(outcomes.length).toBeGreaterThan(stored);
    expect(
      outcomes
        .filter((outcome) => outcome !== 'STORED')
        .every((outcome) => ['DUPLICATE', 'JOB_NOT_RUNNING'].includes(outcome)),
    ).toBe(true);

    // And once more after the job ended: the late copy is dropped (by the worker, which
    // skips chunks of jobs that are not running, or by the aggregator), never counted.
    const replay = bodies.find((body) => chunkOf(body)?.chunkIndex === 0);
    expect(replay).toBeDefined();
    const seenBefore = bodies.length;
    const answersBefore = outcomes.length;
    await stack.sendRawMessage(replay as string);
    await waitFor(() => bodies.length > seenBefore, 15_000, 'the worker to get the replayed chunk');
    await waitFor(
      async () => {
        const depth = await stack.queueDepth(stack.workQueue);
        return depth.visible === 0 && depth.inFlight === 0;
      },
      20_000,
      'the replayed chunk to be consumed',
    );
    for (const outcome of outcomes.slice(answersBefore)) {
      expect(['DUPLICATE', 'JOB_NOT_RUNNING']).toContain(outcome);
    }
    await expectExactJob(submitted.jobId, numbers);
  });

  it('retries only the record whose hand-off failed', { timeout: 60_000 }, async () => {
    // Keyed by job and chunk: the worker may see chunks before submit() has returned.
    const deliveries = new Map<string, number>();
    const reported: string[][] = [];
    const messageIdOfChunk = new Map<string, string>();
    let failed = false;
    stack.intercept('worker', async (event, next) => {
      for (const record of (event as SQSEvent).Records) {
        const chunk = chunkOf(record.body);
        if (chunk === undefined) continue;
        const key = `${chunk.jobId}/${chunk.chunkIndex}`;
        deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
        messageIdOfChunk.set(key, record.messageId);
      }
      const response = (await next(event)) as SQSBatchResponse;
      reported.push(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      return response;
    });
    stack.intercept('aggregator', async (event, next) => {
      // Only this test's job runs now: the first hand-off of any chunk 1 fails, once.
      if (!failed && (event as ChunkBody).chunkIndex === 1) {
        failed = true;
        throw new Error('injected: the aggregator is down for chunk 1');
      }
      return next(event);
    });
    const numbers = Array.from({ length: 25_000 }, (_, index) => 3 * index + 1);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBeGreaterThanOrEqual(3);
    await expectExactJob(submitted.jobId, numbers);
    const { jobId } = submitted;
    expect(deliveries.get(`${jobId}/1`)).toBe(2);
    for (let index = 0; index < submitted.chunkCount; index++) {
      if (index !== 1) expect(deliveries.get(`${jobId}/${index}`)).toBe(1);
    }
    expect(reported.flat()).toEqual([messageIdOfChunk.get(`${jobId}/1`)]);
  });

  it('moves a poison message to the dead-letter queue after maxReceiveCount deliveries', {
    timeout: 60_000,
  }, async () => {
    const poison = JSON.stringify({ jobId: 'not-a-job', chunkIndex: -1, numbers: 'nope' });
    let seen = 0;
    stack.intercept('worker', async (event, next) => {
      seen += (event as SQSEvent).Records.filter((record) => record.body === poison).length;
      return next(event);
    });
    // When the stack consumes its DLQ, the dead letter shows up at that consumer; otherwise
    // it waits in the DLQ.
    const dlqConsumer = stack.model.eventSourceMappings.find(
      (mapping) => mapping.queueLogicalId === stack.deadLetterQueue.logicalId,
    );
    let dead: { body: string | undefined; id: string | undefined } | undefined;
    if (dlqConsumer !== undefined) {
      stack.intercept(dlqConsumer.functionLogicalId, async (event, next) => {
        const record = (event as SQSEvent).Records.find((candidate) => candidate.body === poison);
        if (record !== undefined) dead = { body: record.body, id: record.messageId };
        return next(event);
      });
    }
    const messageId = await stack.sendRawMessage(poison);
    await waitFor(
      async () => {
        if (dlqConsumer !== undefined) return dead !== undefined;
        const response = await stack.clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.deadLetterQueue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        const message = response.Messages?.find((candidate) => candidate.Body === poison);
        if (message !== undefined) dead = { body: message.Body, id: message.MessageId };
        return dead !== undefined;
      },
      30_000,
      'the poison message in the DLQ',
    );
    if (dlqConsumer !== undefined) stack.intercept(dlqConsumer.functionLogicalId, undefined);
    expect(dead).toEqual({ body: poison, id: messageId });
    const workQueueSpec = stack.model.queues.find(
      (queue) => queue.logicalId === stack.workQueue.logicalId,
    );
    const redrive = workQueueSpec?.properties.RedrivePolicy as unknown as {
      maxReceiveCount: number;
    };
    expect(redrive.maxReceiveCount).toBeGreaterThan(0);
    expect(seen).toBe(redrive.maxReceiveCount);
    expect(await stack.queueDepth(stack.workQueue)).toEqual({ visible: 0, inFlight: 0 });
  });
});
