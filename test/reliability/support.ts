/**
 * What the reliability tests share: a local stack set up for faults (short visibility
 * timeouts, manual schedules), an independent oracle of the squares, the checks that nothing
 * was lost or counted twice, and the row each test adds to the reliability report.
 */

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { expect } from 'vitest';
import type { EmbeddedStackOptions } from '#local/embedded-stack.ts';
import type { TestStack } from '#local/harness/index.ts';
import { appStack, waitFor } from '#test/e2e/helpers.ts';
import { signedFetch } from '#test/helpers/signed-fetch.ts';
import { FanoutClient, type JobStatusBody } from '../../bin/client.ts';

/** One row of the reliability report (test/reliability/reporter.ts prints them). */
export interface ReliabilityRow {
  /** The fault or input, e.g. "child process SIGKILLed mid-chunk". */
  readonly fault: string;
  /** What the system did, e.g. "pool retried the slice; SUCCEEDED". */
  readonly outcome: string;
  /** How many values were checked exactly (squares, responses). */
  readonly checked: number;
  /** What the number counts, e.g. "squares" or "bodies". @default 'squares' */
  readonly unit?: string;
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: ReliabilityRow;
  }
}

/** The work queue's (and its DLQ's) visibility timeout in these tests: retries in seconds. */
export const FAST_VISIBILITY_TIMEOUT_SECONDS = 2;

/**
 * Whether the reliability tests run their stacks with AWS's quotas enforced
 * (`FANOUT_RELIABILITY_CLOUD_LIMITS=1 npm run test:reliability`), unless a test says.
 */
export const CLOUD_LIMITS_FROM_ENVIRONMENT = process.env.FANOUT_RELIABILITY_CLOUD_LIMITS === '1';

/**
 * A local stack of the real app for a reliability test file: function logs dropped (unless
 * FANOUT_E2E_LOGS=1), schedules fired by the tests only, and, unless `slowRetries`, the
 * work queue and its dead-letter queue redelivering after 2 s instead of 6 × the timeout.
 * `cloudLimits` (or FANOUT_RELIABILITY_CLOUD_LIMITS=1) runs the case under AWS's quotas
 * (docs/CLOUD-LIMITS.md); `stack.cloudLimitsReport()` then tells what it consumed and hit.
 */
export function reliabilityStack(
  options: EmbeddedStackOptions & { readonly slowRetries?: boolean } = {},
): TestStack {
  const { slowRetries, ...rest } = options;
  return appStack({
    schedules: 'manual',
    ...(CLOUD_LIMITS_FROM_ENVIRONMENT ? { cloudLimits: true } : {}),
    ...(slowRetries === true
      ? {}
      : {
          overrideQueueAttributes: ({ attributes }): Record<string, string> =>
            attributes.VisibilityTimeout === undefined
              ? {}
              : { VisibilityTimeout: String(FAST_VISIBILITY_TIMEOUT_SECONDS) },
        }),
    ...rest,
  });
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The square the API must return, computed independently of the pipeline: integers (JSON
 * numbers or decimal strings) exactly with BigInt, a JSON number while it is a safe integer
 * and a decimal string beyond; any other number as its IEEE-754 product.
 */
export function expectedSquare(value: number | string): number | string {
  if (typeof value === 'string' || Number.isInteger(value)) {
    const root = BigInt(value);
    const square = root * root;
    return square <= MAX_SAFE ? Number(square) : square.toString();
  }
  return value * value + 0;
}

/** Index of the first result that differs from the oracle, or -1 when all are exact. */
export function firstInexact(
  numbers: readonly (number | string)[],
  results: readonly unknown[],
): number {
  if (results.length !== numbers.length) return Math.min(results.length, numbers.length);
  for (let index = 0; index < numbers.length; index++) {
    if (results[index] !== expectedSquare(numbers[index] as number | string)) return index;
  }
  return -1;
}

export function documentClient(stack: TestStack): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(stack.clients.dynamodb);
}

/** The job item as stored (every attribute), or undefined. */
export async function jobItem(
  stack: TestStack,
  jobId: string,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documentClient(stack).send(
    new GetCommand({
      TableName: stack.tableName,
      Key: { pk: `JOB#${jobId}`, sk: 'JOB' },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** The job partition's items whose sort key starts with `prefix` (`FAILED#`), in key order. */
export async function jobItemsWithPrefix(
  stack: TestStack,
  jobId: string,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documentClient(stack).send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `JOB#${jobId}`, ':prefix': prefix },
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every item of the table (small tables only: the fuzz test's must stay empty). */
export async function allItems(stack: TestStack): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documentClient(stack).send(
      new ScanCommand({
        TableName: stack.tableName,
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** The work queue's maxReceiveCount, from the template: deliveries before the DLQ. */
export function workQueueMaxReceiveCount(stack: TestStack): number {
  const spec = stack.model.queues.find((queue) => queue.logicalId === stack.workQueue.logicalId);
  const policy = spec?.properties.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
  const count = Number(policy?.maxReceiveCount);
  if (!Number.isInteger(count) || count < 1)
    throw new Error('the work queue has no redrive policy');
  return count;
}

/** Waits until the work queue has no message, visible or in flight. */
export async function waitForDrainedQueue(stack: TestStack, timeoutMs = 30_000) {
  await waitFor(
    async () => {
      const depth = await stack.queueDepth(stack.workQueue);
      return depth.visible === 0 && depth.inFlight === 0;
    },
    timeoutMs,
    'the work queue to drain',
  );
}

/** A job's stored result page, decompressed. */
export interface StoredResultPage {
  readonly chunkIndex: number;
  readonly offset: number;
  readonly count: number;
  readonly results: unknown[];
}

/**
 * The job's result pages (each under a partition key of its own, `PAGE#<jobId>#<index>`),
 * in chunk order, read by a Scan: the tables of these tests are small.
 */
export async function resultPages(stack: TestStack, jobId: string): Promise<StoredResultPage[]> {
  const prefix = `PAGE#${jobId}#`;
  const pages: StoredResultPage[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documentClient(stack).send(
      new ScanCommand({
        TableName: stack.tableName,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': prefix },
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    for (const item of page.Items ?? []) {
      pages.push({
        chunkIndex: Number(String(item.pk).slice(prefix.length)),
        offset: Number(item.offset),
        count: Number(item.count),
        results: JSON.parse(gunzipSync(item.results as Uint8Array).toString('utf8')) as unknown[],
      });
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return pages.sort((a, b) => a.chunkIndex - b.chunkIndex);
}

/**
 * Nothing lost, nothing counted twice: the job counts every chunk and number once, and the
 * table holds exactly one result page per index, whose offsets and counts tile the numbers.
 */
export async function expectEachChunkOnce(
  stack: TestStack,
  job: JobStatusBody,
  numbersCount: number,
): Promise<void> {
  const chunkCount = job.progress?.chunkCount ?? -1;
  expect(job.progress?.chunksDone).toBe(chunkCount);
  expect(job.progress?.numbersDone).toBe(numbersCount);
  expect(job.numbersCount).toBe(numbersCount);
  const chunks = await resultPages(stack, job.jobId);
  expect(chunks.map((chunk) => chunk.chunkIndex)).toEqual(
    Array.from({ length: chunkCount }, (_, index) => index),
  );
  let offset = 0;
  for (const chunk of chunks) {
    expect(chunk.offset).toBe(offset);
    offset += chunk.count as number;
  }
  expect(offset).toBe(numbersCount);
}

/**
 * Nothing lost, nothing counted twice, for a job whose input is an S3 object: the job counts
 * every range, every number and every byte of its object once, and the table holds exactly
 * one result page per range, with `countsPerRange[i]` squares (the good lines that start in
 * range i: a line belongs to the range where it starts).
 */
export async function expectEachRangeOnce(
  stack: TestStack,
  job: JobStatusBody,
  expected: { readonly sizeBytes: number; readonly countsPerRange: readonly number[] },
): Promise<void> {
  const { sizeBytes, countsPerRange } = expected;
  const numbers = countsPerRange.reduce((sum, count) => sum + count, 0);
  expect(job.input?.sizeBytes).toBe(sizeBytes);
  expect(job.progress).toEqual({
    chunksDone: countsPerRange.length,
    chunkCount: countsPerRange.length,
    numbersDone: numbers,
    bytesDone: sizeBytes,
    bytesTotal: sizeBytes,
  });
  const pages = await resultPages(stack, job.jobId);
  expect(pages.map((page) => page.chunkIndex)).toEqual(countsPerRange.map((_, index) => index));
  expect(pages.map((page) => page.count)).toEqual(countsPerRange);
  expect(pages.map((page) => page.results.length)).toEqual(countsPerRange);
}

/**
 * Waits for the job to succeed, then checks every result against the oracle and every chunk
 * against the table. Returns the final status body.
 */
export async function expectExactJob(
  stack: TestStack,
  client: FanoutClient,
  jobId: string,
  numbers: readonly (number | string)[],
  timeoutMs = 60_000,
): Promise<JobStatusBody> {
  const job = await client.waitForJob(jobId, { timeoutMs });
  expect(job.status, JSON.stringify(job.failure ?? null)).toBe('SUCCEEDED');
  const results = await client.resultsOf(job);
  expect(firstInexact(numbers, results)).toBe(-1);
  await expectEachChunkOnce(stack, job, numbers.length);
  return job;
}

/** A client of the stack's local REST API. */
export function clientOf(stack: TestStack): FanoutClient {
  return new FanoutClient(stack.apiUrl);
}

/** A raw HTTP call: the status and the parsed JSON body (or the text when not JSON). */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { readonly body?: string | Uint8Array; readonly headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await signedFetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

/** The chunk a work-queue message body is for, or undefined for another body. */
export function chunkOfBody(body: string): { jobId: string; chunkIndex: number } | undefined {
  try {
    const parsed = JSON.parse(body) as { jobId?: unknown; chunkIndex?: unknown };
    return typeof parsed.jobId === 'string' && typeof parsed.chunkIndex === 'number'
      ? { jobId: parsed.jobId, chunkIndex: parsed.chunkIndex }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The records of a worker event. */
export function recordsOf(event: unknown): SQSEvent['Records'] {
  return (event as SQSEvent).Records;
}

/** `count` consecutive integers from `from`, with a few negatives and big ones mixed in. */
export function integers(count: number, from = 1): number[] {
  return Array.from({ length: count }, (_, index) =>
    index % 7 === 3 ? -(from + index) : from + index,
  );
}

/** A decimal integer string of exactly `digits` digits (no leading zero), from a seed. */
export function bigIntegerString(digits: number, seed: number, negative = false): string {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % 10;
  };
  // A 100-digit random block, repeated: as costly to square, and it compresses well.
  let block = String(1 + (next() % 9));
  while (block.length < Math.min(100, digits)) block += String(next());
  const text = block.repeat(Math.ceil(digits / block.length)).slice(0, digits);
  return negative ? `-${text}` : text;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface ProcessStat {
  /** R running, S sleeping, Z zombie… */
  readonly state: string;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
}

/** A process's state and CPU time from /proc, or undefined when it is gone. */
export function processStat(pid: number): ProcessStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export function isRunning(pid: number): boolean {
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/**
 * SIGKILLs one of the worker's pool children while it squares a chunk: a child seen sleeping
 * has passed its ready handshake; seen running again while a worker invocation is in flight
 * (`inFlight() > 0`), it is squaring a slice of a chunk. Gives up when `jobRunning()` turns
 * false or after `timeoutMs`. Returns the victim (undefined if none was caught) and every
 * child seen.
 */
export async function killPoolChildWhileSquaring(
  stack: TestStack,
  inFlight: () => number,
  jobRunning: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<{ victim: { pid: number; cpuTicks: number } | undefined; seenChildren: number }> {
  const sleeping = new Set<number>();
  const seenChildren = new Set<number>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const pid of stack.childPids('worker')) {
      seenChildren.add(pid);
      const stat = processStat(pid);
      if (stat === undefined) continue;
      if (stat.state === 'S') sleeping.add(pid);
      else if (stat.state === 'R' && sleeping.has(pid) && inFlight() > 0) {
        process.kill(pid, 'SIGKILL');
        return { victim: { pid, cpuTicks: stat.cpuTicks }, seenChildren: seenChildren.size };
      }
    }
    if (!(await jobRunning())) break;
    await sleep(1);
  }
  return { victim: undefined, seenChildren: seenChildren.size };
}

/** How many worker invocations are running, counted by an intercept (for the kill loop). */
export function countWorkerInvocations(stack: TestStack): () => number {
  let inFlight = 0;
  stack.intercept('worker', async (event, next) => {
    inFlight++;
    try {
      return await next(event);
    } finally {
      inFlight--;
    }
  });
  return () => inFlight;
}

/** The outcome of every aggregator answer (STORED, DUPLICATE, …), in the order they came. */
export function recordAggregatorOutcomes(stack: TestStack): string[] {
  const outcomes: string[] = [];
  stack.intercept('aggregator', async (event, next) => {
    const answer = (await next(event)) as { outcome: string };
    outcomes.push(answer.outcome);
    return answer;
  });
  return outcomes;
}

/**
 * Duplicates the work queue's first batch two ways: a copy of each of its messages sent
 * through the queue while the originals are processed, and the batch itself delivered to two
 * invocations at the same time. `onRecords` sees the records of every batch first.
 * @returns the ids of the copies sent (filled as the first batch comes)
 */
export function duplicateFirstBatch(
  stack: TestStack,
  onRecords: (records: SQSEvent['Records']) => void = () => undefined,
): string[] {
  const copies: string[] = [];
  let copied = false;
  let doubled = false;
  stack.intercept('worker', async (event, next) => {
    const records = recordsOf(event);
    onRecords(records);
    if (!copied) {
      copied = true;
      for (const record of records) copies.push(await stack.sendRawMessage(record.body));
    }
    if (!doubled) {
      doubled = true;
      const [first] = await Promise.all([next(event), next(event)]);
      return first;
    }
    return next(event);
  });
  return copies;
}
