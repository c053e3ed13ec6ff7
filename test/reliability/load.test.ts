/**
 * Load on the local stack: 50 jobs submitted at once through the local REST API, of mixed
 * sizes (tiny, medium, multi-chunk, big integers of up to 10,000 digits), all finish with
 * exact results (an independent BigInt oracle), every chunk stored once. The same load runs
 * again under AWS's quotas (docs/CLOUD-LIMITS.md): no partition of the table or its indexes
 * may take more than it gives, and nothing may need a redelivery or reach the DLQ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack } from '#local/harness/index.ts';
import { seededRandom } from '#local/seeded-random.ts';
import type { FanoutClient, JobStatusBody } from '../../bin/client.ts';
import {
  bigIntegerString,
  clientOf,
  expectEachChunkOnce,
  firstInexact,
  reliabilityStack,
  waitForDrainedQueue,
} from './support.ts';

type NumberInput = number | string;

interface JobPlan {
  readonly kind: 'tiny' | 'medium' | 'multi-chunk' | 'big integers';
  readonly numbers: NumberInput[];
}

/** The numbers of the 50 jobs, the same on every run. */
function planJobs(): JobPlan[] {
  const random = seededRandom(2026);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const element = (): NumberInput => {
    const pick = random();
    if (pick < 0.55) return int(-1_000_000, 1_000_000);
    if (pick < 0.7) return int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (pick < 0.8) return (random() - 0.5) * 10 ** int(-6, 6);
    if (pick < 0.9)
      return `${random() < 0.5 ? '-' : ''}${bigIntegerString(int(16, 60), int(1, 1e9))}`;
    const small = int(0, 99_999);
    return random() < 0.5 ? `+${small}` : `00${small}`;
  };
  const plans: JobPlan[] = [];
  for (let index = 0; index < 20; index++) {
    plans.push({ kind: 'tiny', numbers: Array.from({ length: int(1, 8) }, element) });
  }
  for (let index = 0; index < 15; index++) {
    plans.push({ kind: 'medium', numbers: Array.from({ length: int(500, 5_000) }, element) });
  }
  for (let index = 0; index < 10; index++) {
    plans.push({
      kind: 'multi-chunk',
      numbers: Array.from({ length: int(12_000, 32_000) }, element),
    });
  }
  for (let index = 0; index < 5; index++) {
    plans.push({
      kind: 'big integers',
      numbers: Array.from({ length: int(25, 50) }, (_, position) =>
        bigIntegerString(int(1_000, 10_000), index * 1_000 + position + 1, random() < 0.3),
      ),
    });
  }
  // Interleave the kinds so that every size is in flight at once.
  return plans
    .map((plan) => ({ plan, order: random() }))
    .sort((a, b) => a.order - b.order)
    .map(({ plan }) => plan);
}

interface LoadOutcome {
  readonly checked: number;
  readonly chunks: number;
  readonly seconds: number;
}

/** Submits the 50 jobs at once and checks each one exact and each chunk stored once. */
async function runLoad(stack: TestStack, client: FanoutClient): Promise<LoadOutcome> {
  const plans = planJobs();
  expect(plans).toHaveLength(50);
  const started = performance.now();
  const submitted = await Promise.all(plans.map((plan) => client.submit(plan.numbers)));
  const finished: JobStatusBody[] = await Promise.all(
    submitted.map((job) => client.waitForJob(job.jobId, { timeoutMs: 120_000 })),
  );
  const seconds = (performance.now() - started) / 1000;
  let checked = 0;
  let chunks = 0;
  for (const [index, job] of finished.entries()) {
    const plan = plans[index] as JobPlan;
    expect(job.status, `${plan.kind} job ${job.jobId}`).toBe('SUCCEEDED');
    const results = await client.resultsOf(job);
    expect(firstInexact(plan.numbers, results), `${plan.kind} job ${job.jobId}`).toBe(-1);
    await expectEachChunkOnce(stack, job, plan.numbers.length);
    checked += results.length;
    chunks += job.progress?.chunkCount ?? 0;
  }
  expect(finished.filter((job) => (job.progress?.chunkCount ?? 0) > 1).length).toBeGreaterThan(10);
  await waitForDrainedQueue(stack);
  expect(await stack.queueDepth(stack.deadLetterQueue)).toEqual({ visible: 0, inFlight: 0 });
  return { checked, chunks, seconds };
}

const LOAD = '50 jobs submitted concurrently (20 tiny, 15 medium, 10 multi-chunk, 5 big-integer)';

describe('Feature: 50 concurrent jobs of mixed sizes', () => {
  // No redelivery is expected: the template's visibility timeout, as deployed.
  const stack = reliabilityStack({ slowRetries: true });
  let client: FanoutClient;

  beforeAll(async () => {
    await stack.start();
    client = clientOf(stack);
  }, 120_000);

  afterAll(async () => {
    await stack.stop();
  });

  it('finishes all 50 with exact results', { timeout: 150_000 }, async ({ task }) => {
    const { checked, chunks, seconds } = await runLoad(stack, client);
    task.meta.reliability = {
      fault: LOAD,
      outcome: `all SUCCEEDED, ${chunks} chunks each stored once, in ${seconds.toFixed(1)} s`,
      checked,
    };
  });
});

describe('Feature: 50 concurrent jobs under the cloud limits', () => {
  // A new on-demand table's throughput, 1,000 WCU/s and 3,000 RCU/s per partition.
  const stack = reliabilityStack({ slowRetries: true, cloudLimits: true });
  let client: FanoutClient;

  beforeAll(async () => {
    await stack.start();
    client = clientOf(stack);
  }, 120_000);

  afterAll(async () => {
    await stack.stop();
  });

  it('finishes all 50 exact with no partition past its limits and nothing redelivered', {
    timeout: 180_000,
  }, async ({ task }) => {
    const { checked, chunks, seconds } = await runLoad(stack, client);
    const report = await stack.cloudLimitsReport();
    // The token buckets let a large item through into debt, so a 1 s window may read a
    // little past the rate; the rate over time is the limit (docs/CLOUD-LIMITS.md).
    expect(report.dynamodb.hottestPartitionPeakWcuPerSecond).toBeLessThanOrEqual(1_000);
    expect(report.dynamodb.hottestPartitionPeakRcuPerSecond).toBeLessThanOrEqual(3_000);
    expect(report.dynamodb.transactionConflicts).toBe(0);
    expect(report.redeliveries).toBe(0);
    expect(report.deadLetters).toBe(0);
    task.meta.reliability = {
      fault: `${LOAD}, under AWS's DynamoDB quotas`,
      outcome: `all SUCCEEDED, ${chunks} chunks each stored once, in ${seconds.toFixed(1)} s; hottest partition ${report.dynamodb.hottestPartitionPeakWcuPerSecond} WCU/s, ${report.dynamodb.throttledRequests} throttled requests retried, 0 redeliveries`,
      checked,
    };
  });
});
