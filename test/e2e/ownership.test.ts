/**
 * Jobs belong to their caller, on the embedded stack in the cloud-limits mode, signed by
 * many local principals: each lists only its own jobs (`GET /jobs`, newest first, paged),
 * another principal's job is the same 404 as a job that does not exist on every route, and
 * the owner index takes everyone's submissions without a throttled request.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import aws4 from 'aws4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from '#client/index.ts';
import type { EmbeddedStack } from '#local/embedded-stack.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import type { LocalPrincipal } from '#local/sigv4/principals.ts';
import { createJob, expiryAfterDays } from '#store/jobs.ts';
import { listOwnedJobs } from '#store/owner-jobs.ts';
import { appStack } from './helpers.ts';

/** Principals submitting through the API at once: each its own OwnerJobs partition key. */
const PRINCIPALS = 60;
/** Owners whose job items are written at once, straight to the limited DynamoDB endpoint. */
const OWNERS_AT_ONCE = 1_000;

function principal(index: number): LocalPrincipal {
  return {
    name: `user${index}`,
    accessKeyId: `AKIAOWNERTEST${String(index).padStart(7, '0')}`,
    secretAccessKey: `secret-of-user-${index}`,
  };
}

const principals = Array.from({ length: PRINCIPALS }, (_, index) => principal(index));

/** A request signed by aws4 (an independent SigV4 implementation) as `who`. */
async function request(
  baseUrl: string,
  who: LocalPrincipal,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(`${baseUrl}${path}`);
  const signed = aws4.sign(
    {
      host: url.host,
      method,
      path: `${url.pathname}${url.search}`,
      service: 'execute-api',
      region: 'us-east-1',
    },
    { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    if (!['host', 'content-length'].includes(name.toLowerCase())) headers[name] = String(value);
  }
  const response = await fetch(url, { method, headers });
  return { status: response.status, body: await response.json() };
}

describe('Feature: jobs that belong to their caller (cloudLimits)', () => {
  let stack: EmbeddedStack;
  const jobOf = new Map<string, string>();

  beforeAll(async () => {
    stack = await appStack({ cloudLimits: true, auth: { principals } }).start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  function pool(who: LocalPrincipal): Pool {
    return Pool.connect({
      url: stack.apiUrl,
      credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
    });
  }

  it('takes every principal submitting at once, nothing throttled, and lists each its own job only', {
    timeout: 120_000,
  }, async () => {
    // Act
    await Promise.all(
      principals.map(async (who, index) => {
        const job = await pool(who).submit([index]);
        jobOf.set(who.name, job.id);
      }),
    );
    const listed = await Promise.all(
      principals.map(async (who) => {
        const jobs = [];
        for await (const job of pool(who).jobs()) jobs.push(job.jobId);
        return jobs;
      }),
    );
    const report = await stack.cloudLimitsReport();

    // Assess
    expect(listed).toEqual(principals.map((who) => [jobOf.get(who.name)]));
    expect(report.dynamodb.throttledRequests).toBe(0);
    // The hottest partition (table or index) stays far under a partition's 1,000 WCU/s.
    expect(report.dynamodb.hottestPartitionPeakWcuPerSecond).toBeLessThan(1_000);
  });

  it('answers another principal the same 404 as a job that does not exist, on every route', async () => {
    // Prepare
    const [owner, other] = principals;
    if (owner === undefined || other === undefined) throw new Error('two principals needed');
    const jobId = jobOf.get(owner.name) ?? '';
    const missing = '00000000-0000-4000-8000-000000000000';
    const routes = [
      ['GET', ''],
      ['GET', '/results'],
      ['DELETE', ''],
      ['POST', '/redrive'],
    ] as const;

    for (const [method, suffix] of routes) {
      // Act
      const theirs = await request(stack.apiUrl, other, method, `/jobs/${jobId}${suffix}`);
      const none = await request(stack.apiUrl, other, method, `/jobs/${missing}${suffix}`);

      // Assess
      expect({ method, suffix, status: theirs.status }).toEqual({ method, suffix, status: 404 });
      expect(JSON.stringify(theirs.body).replaceAll(jobId, missing)).toBe(
        JSON.stringify(none.body),
      );
    }
    const own = await request(stack.apiUrl, owner, 'GET', `/jobs/${jobId}`);
    expect(own.status).toBe(200);
  });

  it('lists a principal newest first, a page of ?limit= at a time, and refuses a bad limit', async () => {
    // Prepare
    const who = principals[1];
    if (who === undefined) throw new Error('a principal needed');
    const client = pool(who);
    const second = await client.submit([2]);
    const third = await client.submit([3]);

    // Act
    const first = await request(stack.apiUrl, who, 'GET', '/jobs?limit=2');
    const { nextCursor } = first.body as { nextCursor: string };
    const rest = await request(stack.apiUrl, who, 'GET', `/jobs?limit=2&cursor=${nextCursor}`);
    const bad = await request(stack.apiUrl, who, 'GET', '/jobs?limit=1000');

    // Assess
    const ids = (page: { body: unknown }) =>
      (page.body as { jobs: { jobId: string }[] }).jobs.map((job) => job.jobId);
    expect(ids(first)).toEqual([third.id, second.id]);
    expect(ids(rest)).toEqual([jobOf.get(who.name)]);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_LIMIT' } });
  });

  it("writes 1,000 owners' jobs at once through the limited endpoint with no throttled request", {
    timeout: 60_000,
  }, async () => {
    // Prepare: the job items as the dispatcher writes them, one owner each, all at once.
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack.endpoints.dynamodb,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    const table = { client, tableName: stack.tableName };
    const before = await stack.cloudLimitsReport();
    const now = new Date();
    const owners = Array.from(
      { length: OWNERS_AT_ONCE },
      (_, index) => `arn:aws:iam::000000000000:user/many${index}`,
    );

    // Act
    await Promise.all(
      owners.map((ownerArn, index) =>
        createJob(table, {
          jobId: `10000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
          ownerArn,
          numbersCount: 1,
          chunkCount: 1,
          shardCount: 1,
          now,
          expiresAt: expiryAfterDays(now, 1),
          deadlineAt: now.getTime() + 3_600_000,
        }),
      ),
    );
    const after = await stack.cloudLimitsReport();
    const listed = await listOwnedJobs(table, owners[OWNERS_AT_ONCE - 1] ?? '', { limit: 5 });

    // Assess: the puts (table and both indexes) all went through, none on a hot partition.
    expect(after.dynamodb.throttledRequests - before.dynamodb.throttledRequests).toBe(0);
    expect(after.dynamodb.hottestPartitionPeakWcuPerSecond).toBeLessThan(1_000);
    expect(listed.entries.map((entry) => entry.jobId)).toEqual([
      `10000000-0000-4000-8000-${String(OWNERS_AT_ONCE - 1).padStart(12, '0')}`,
    ]);
  });
});
