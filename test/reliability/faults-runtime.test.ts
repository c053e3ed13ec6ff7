/**
 * Faults under the handlers, on the local stack: a pool child process SIGKILLed while it
 * squares a heavy chunk; an aggregator that fails after its write committed (its answer
 * lost, its finalize lost, its transaction's response lost); DynamoDB throttling. The
 * functions talk to DynamoDB Local through the fault proxy (infra/local/dynamodb-faults.ts),
 * which answers chosen requests with the errors DynamoDB gives. Every job ends with exact
 * results (an independent BigInt oracle) and every chunk stored and counted once.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_WRITER_RETRY_BUDGET_MS } from '#commons/clients.ts';
import type { DynamoDbRequest } from '#local/dynamodb-faults.ts';
import type { TestStack } from '#local/harness/index.ts';
import type { FanoutClient } from '../../bin/client.ts';
import {
  bigIntegerString,
  chunkOfBody,
  clientOf,
  countWorkerInvocations,
  expectExactJob,
  FAST_VISIBILITY_TIMEOUT_SECONDS,
  integers,
  isRunning,
  jobItem,
  killPoolChildWhileSquaring,
  recordAggregatorOutcomes,
  recordsOf,
  reliabilityStack,
  waitForDrainedQueue,
} from './support.ts';

interface ChunkResultEvent {
  readonly jobId: string;
  readonly chunkIndex: number;
}

/** Sets how long a received work-queue message stays hidden before SQS hands it out again. */
async function setWorkQueueVisibility(stack: TestStack, seconds: number): Promise<void> {
  await stack.clients.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: stack.workQueue.url,
      Attributes: { VisibilityTimeout: String(seconds) },
    }),
  );
}

/** The partition key of the page a PutItem request stores, e.g. `PAGE#<jobId>#00000002`. */
function pagePutKey(request: DynamoDbRequest): string | undefined {
  const item = request.input.Item as { pk?: { S?: string } } | undefined;
  const pk = item?.pk?.S;
  return request.operation === 'PutItem' && pk?.startsWith('PAGE#') === true ? pk : undefined;
}

/** Whether an UpdateItem request is the aggregator's finalize (RUNNING -> SUCCEEDED). */
function isFinalize(request: DynamoDbRequest): boolean {
  const values = JSON.stringify(request.input.ExpressionAttributeValues ?? {});
  return request.operation === 'UpdateItem' && values.includes('{"S":"SUCCEEDED"}');
}

describe('Feature: faults of processes and storage end exact', () => {
  const stack = reliabilityStack({ dynamoDbFaults: { seed: 5 } });
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
    stack.dynamoDbFaults.clear();
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('survives a pool child SIGKILLed mid-chunk', { timeout: 90_000 }, async ({ task }) => {
    // Heavy chunks: 10,000-digit integers (about 14 per chunk, bounded by result bytes), so
    // the worker's pool children spend tens of ms of CPU on every chunk.
    const numbers = Array.from({ length: 420 }, (_, index) =>
      bigIntegerString(10_000 - (index % 5), index + 1, index % 3 === 0),
    );
    const inFlight = countWorkerInvocations(stack);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBeGreaterThan(20);

    const { victim, seenChildren } = await killPoolChildWhileSquaring(
      stack,
      inFlight,
      async () => (await client.status(submitted.jobId)).status === 'RUNNING',
    );
    expect(
      seenChildren,
      'the worker started no pool child: is functions/worker/handler.ts computing on the pool?',
    ).toBeGreaterThan(0);
    expect(victim, 'no pool child was caught squaring a chunk').toBeDefined();

    const job = await expectExactJob(stack, client, submitted.jobId, numbers);
    const victimPid = victim?.pid ?? 0;
    expect(isRunning(victimPid)).toBe(false);
    expect(stack.childPids('worker')).not.toContain(victimPid);
    // The pool replaced the dead child.
    expect(stack.childPids('worker').length).toBeGreaterThan(0);
    const attempts = Number(job.attempts);
    task.meta.reliability = {
      fault: 'pool child process SIGKILLed mid-chunk (10,000-digit integers)',
      outcome:
        attempts === 0
          ? 'pool re-ran the slice on a fresh child; SUCCEEDED'
          : `chunk redelivered (${attempts} attempts); SUCCEEDED`,
      checked: numbers.length,
    };
  });

  it('counts a chunk once when the aggregator fails after its write', {
    timeout: 60_000,
  }, async ({ task }) => {
    const outcomes: string[] = [];
    const workerDeliveries = new Map<number, number>();
    let failedAfterWrite = false;
    stack.intercept('worker', (event, next) => {
      for (const record of recordsOf(event)) {
        const chunk = chunkOfBody(record.body);
        if (chunk !== undefined) {
          workerDeliveries.set(chunk.chunkIndex, (workerDeliveries.get(chunk.chunkIndex) ?? 0) + 1);
        }
      }
      return next(event);
    });
    stack.intercept('aggregator', async (event, next) => {
      const chunk = event as ChunkResultEvent;
      const answer = (await next(event)) as { outcome: string };
      if (chunk.chunkIndex === 1) outcomes.push(answer.outcome);
      if (chunk.chunkIndex === 1 && !failedAfterWrite) {
        // The page and marker are written; the function fails before its answer gets out.
        failedAfterWrite = true;
        throw new Error('injected: the aggregator fails after writing');
      }
      return answer;
    });
    const numbers = integers(4 * numbersPerChunk - 3, 7);
    const submitted = await client.submit(numbers);
    const job = await expectExactJob(stack, client, submitted.jobId, numbers);
    await waitForDrainedQueue(stack);
    expect(failedAfterWrite).toBe(true);
    expect(workerDeliveries.get(1)).toBe(2);
    // Stored on the first delivery; the redelivery finds it stored (DUPLICATE), unless the
    // job had succeeded meanwhile and the worker skipped it.
    expect(outcomes[0]).toBe('STORED');
    expect(outcomes.slice(1).every((outcome) => outcome === 'DUPLICATE')).toBe(true);
    // The worker records the failed delivery on the job (the job may have succeeded first).
    expect(job.status).toBe('SUCCEEDED');
    expect((await client.status(submitted.jobId)).attempts).toBe(1);
    task.meta.reliability = {
      fault: 'aggregator fails after its write committed (answer lost)',
      outcome: `redelivered, ${outcomes.slice(1).includes('DUPLICATE') ? 'DUPLICATE' : 'skipped'}; counted once; SUCCEEDED`,
      checked: numbers.length,
    };
  });

  it('finishes a job whose aggregator died between the last chunk and the finalize', {
    timeout: 45_000,
  }, async ({ task }) => {
    // Every finalize fails (a server error on each of the SDK's attempts) until one
    // aggregator invocation has failed because of it; the last chunk is stored by then.
    let removeFault: (() => void) | undefined = stack.injectDynamoDbFault({
      name: 'finalize lost',
      functions: ['aggregator'],
      when: isFinalize,
      fault: 'InternalServerError',
    });
    const answers: { chunkIndex: number; outcome: string; jobStatus: string }[] = [];
    const errors: string[] = [];
    let crashed = 0;
    stack.intercept('aggregator', async (event, next) => {
      try {
        const answer = (await next(event)) as { outcome: string; jobStatus: string };
        answers.push({ chunkIndex: (event as ChunkResultEvent).chunkIndex, ...answer });
        return answer;
      } catch (error) {
        errors.push(`chunk ${(event as ChunkResultEvent).chunkIndex}: ${(error as Error).message}`);
        if (removeFault !== undefined) {
          crashed++;
          removeFault();
          removeFault = undefined;
        }
        throw error;
      }
    });
    const numbers = integers(3 * numbersPerChunk, -1_000);
    const submitted = await client.submit(numbers);
    // The redelivery comes 2 s after the crash: 20 s is ample. Say what the aggregator
    // answered the redeliveries if the job is still running then.
    const ended = await client
      .waitForJob(submitted.jobId, { timeoutMs: 20_000 })
      .catch(async () => client.status(submitted.jobId));
    expect(ended.status, `aggregator errors: ${errors.join(' | ')}`).toBe('SUCCEEDED');
    const job = await expectExactJob(stack, client, submitted.jobId, numbers);
    const lostFinalizes = stack.dynamoDbFaults.count('finalize lost');
    expect(crashed).toBe(1);
    expect(lostFinalizes).toBeGreaterThanOrEqual(1);
    // The crashed delivery stored the last chunk but never answered; its redelivery was a
    // duplicate, and that delivery finalized the job.
    expect(answers.filter((answer) => answer.outcome === 'STORED')).toHaveLength(
      submitted.chunkCount - 1,
    );
    expect(answers.filter((answer) => answer.outcome !== 'STORED')).toEqual([
      expect.objectContaining({ outcome: 'DUPLICATE', jobStatus: 'SUCCEEDED' }),
    ]);
    expect(job.attempts).toBe(1);
    task.meta.reliability = {
      fault: `aggregator dies between last chunk write and finalize (${lostFinalizes} finalize writes fail)`,
      outcome: 'redelivered chunk is a DUPLICATE that finalizes; SUCCEEDED',
      checked: numbers.length,
    };
  });

  it('stores a chunk once when its page write committed but the response was lost', {
    timeout: 60_000,
  }, async ({ task }) => {
    stack.injectDynamoDbFault({
      name: 'page write response lost',
      functions: ['aggregator'],
      operations: ['PutItem'],
      when: (request) => pagePutKey(request) !== undefined,
      fault: 'InternalServerError',
      afterForward: true,
      times: 3,
    });
    const outcomes = recordAggregatorOutcomes(stack);
    const numbers = integers(3 * numbersPerChunk + 1, 3);
    const submitted = await client.submit(numbers);
    await expectExactJob(stack, client, submitted.jobId, numbers);
    await waitForDrainedQueue(stack);
    const lost = stack.dynamoDbFaults.count('page write response lost');
    expect(lost).toBe(3);
    // The SDK retried each put: its condition finds the page stored (DUPLICATE), and the
    // idempotent marker counts the chunk once either way.
    expect(outcomes.filter((outcome) => outcome === 'STORED').length).toBeLessThanOrEqual(
      submitted.chunkCount,
    );
    task.meta.reliability = {
      fault: `page write committed, response lost (${lost}x, SDK retries)`,
      outcome: `idempotent retry (${outcomes.join(', ')}); counted once; SUCCEEDED`,
      checked: numbers.length,
    };
  });

  it('carries a job through DynamoDB throttling to exact results', {
    timeout: 90_000,
  }, async ({ task }) => {
    const pipeline = ['worker', 'aggregator', 'dlq'];
    // Page writes and marker updates throttled a few times: the SDK's retries absorb them.
    stack.injectDynamoDbFault({
      name: 'page write throttled',
      functions: ['aggregator'],
      when: (request) => pagePutKey(request) !== undefined,
      fault: 'ProvisionedThroughputExceededException',
      times: 4,
    });
    // Past the SDK's retries: chunk 2's page write throttled until its aggregator
    // invocation fails, so SQS redelivers it.
    let chunk2Failed = false;
    stack.injectDynamoDbFault({
      name: 'throttled past SDK retries',
      functions: ['aggregator'],
      when: (request) => !chunk2Failed && pagePutKey(request)?.endsWith('#00000002') === true,
      fault: 'ProvisionedThroughputExceededException',
    });
    // Everywhere else, at random, throttles that the SDK's retries absorb.
    stack.injectDynamoDbFault({
      name: 'random ThrottlingException',
      functions: pipeline,
      fault: 'ThrottlingException',
      probability: 0.15,
    });
    stack.injectDynamoDbFault({
      name: 'random ProvisionedThroughputExceeded',
      functions: pipeline,
      fault: 'ProvisionedThroughputExceededException',
      probability: 0.1,
    });
    const aggregatorCalls = new Map<number, number>();
    stack.intercept('aggregator', async (event, next) => {
      const { chunkIndex } = event as ChunkResultEvent;
      aggregatorCalls.set(chunkIndex, (aggregatorCalls.get(chunkIndex) ?? 0) + 1);
      try {
        return await next(event);
      } catch (error) {
        if (chunkIndex === 2) chunk2Failed = true;
        throw error;
      }
    });
    const numbers = integers(6 * numbersPerChunk - 11, 123_456);
    // A delivery throttled past the retries takes the chunk writers' whole budget, longer
    // than these tests' 2 s visibility timeout: SQS would hand chunk 2 out again while its
    // first delivery still retries, up to maxReceiveCount in one budget. In AWS the timeout
    // is 6 times the function's; here it is made to outlast the budget for this case.
    await setWorkQueueVisibility(stack, CHUNK_WRITER_RETRY_BUDGET_MS / 1000 + 4);
    const submitted = await client.submit(numbers);
    expect(submitted.chunkCount).toBe(6);
    try {
      await expectExactJob(stack, client, submitted.jobId, numbers, 80_000);
    } finally {
      await setWorkQueueVisibility(stack, FAST_VISIBILITY_TIMEOUT_SECONDS);
    }
    const faults = stack.dynamoDbFaults;
    const transactionThrottles = faults.count('page write throttled');
    const pastSdk = faults.count('throttled past SDK retries');
    const random =
      faults.count('random ThrottlingException') +
      faults.count('random ProvisionedThroughputExceeded');
    expect(transactionThrottles).toBe(4);
    expect(chunk2Failed).toBe(true);
    expect(pastSdk).toBeGreaterThanOrEqual(2);
    expect(random).toBeGreaterThan(0);
    expect(aggregatorCalls.get(2)).toBeGreaterThanOrEqual(2);
    const item = await jobItem(stack, submitted.jobId);
    expect(item?.status).toBe('SUCCEEDED');
    task.meta.reliability = {
      fault: `DynamoDB throttling: ${transactionThrottles + pastSdk + random} throttles injected`,
      outcome: `SDK retries + SQS redelivery; SUCCEEDED`,
      checked: numbers.length,
    };
  });
});
