/**
 * The embedded stack in the cloud-limits mode: a job runs and its DynamoDB units are
 * reported by function, and the DynamoDB endpoint the stack hands out enforces the same
 * limits for any other client and any table created there.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import type { TestStack } from '#local/harness/index.ts';
import { workQueueMaxReceiveCount } from '#test/reliability/support.ts';
import { FanoutClient } from '../../bin/client.ts';
import { appStack, waitFor } from './helpers.ts';

describe('Class: EmbeddedStack (cloudLimits)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Queues redeliver after 1 s, so that a poison message reaches the DLQ in seconds.
    stack = await appStack({
      cloudLimits: true,
      overrideQueueAttributes: ({ attributes }): Record<string, string> =>
        attributes.VisibilityTimeout === undefined ? {} : { VisibilityTimeout: '1' },
    }).start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a job and reports its DynamoDB units by function, nothing throttled', async () => {
    // Act
    const client = new FanoutClient(stack.apiUrl);
    const { jobId } = await client.submit([1, 2, 3]);
    const job = await client.waitForJob(jobId, { timeoutMs: 30_000 });
    const report = await stack.cloudLimitsReport();

    // Assess
    expect(job.results).toEqual([1, 4, 9]);
    const byFunction = Object.values(report.dynamodb.byFunction);
    expect(report.cloudLimits).toBe(true);
    expect(report.dynamodb.writeUnits).toBe(byFunction.reduce((sum, u) => sum + u.writeUnits, 0));
    expect(report.dynamodb.readUnits).toBe(byFunction.reduce((sum, u) => sum + u.readUnits, 0));
    expect(report.dynamodb.byFunction.Dispatcher?.writeUnits).toBeGreaterThan(0);
    expect(report.dynamodb.byFunction.Aggregator?.writeUnits).toBeGreaterThan(0);
    expect(report.dynamodb.throttledRequests).toBe(0);
    expect(report.dynamodb.hottestPartitionPeakWcuPerSecond).toBeGreaterThan(0);
    expect({ redeliveries: report.redeliveries, deadLetters: report.deadLetters }).toEqual({
      redeliveries: 0,
      deadLetters: 0,
    });
  });

  it('counts the redeliveries of a poison message and its move to the DLQ', async () => {
    // Prepare
    const before = await stack.cloudLimitsReport();

    // Act: a body no worker can parse fails each of its deliveries.
    await stack.sendRawMessage('not a chunk');
    await waitFor(
      async () => (await stack.cloudLimitsReport()).deadLetters > before.deadLetters,
      30_000,
      'the poison message to reach the DLQ',
    );
    const after = await stack.cloudLimitsReport();

    // Assess: received maxReceiveCount times (2 redeliveries), then moved once.
    expect(after.redeliveries - before.redeliveries).toBe(workQueueMaxReceiveCount(stack) - 1);
    expect(after.deadLetters - before.deadLetters).toBe(1);
  });

  it('describes where everything is, the DynamoDB and S3 endpoints being the limiting ones', () => {
    // Act
    const described = stack.describe();

    // Assess
    expect(described).toMatchObject({
      api: stack.apiUrl,
      region: LOCAL_REGION,
      endpoints: { sqs: stack.endpoints.sqs, s3: stack.endpoints.s3 },
      tables: { Table: stack.tableName },
      queues: { WorkQueue: stack.workQueue.url },
      cloudLimits: true,
    });
    expect(described.endpoints.dynamodb).not.toBe(stack.endpoints.sqs);
    // S3's per-prefix rates: a proxy in front of fauxqs's S3.
    expect(described.endpoints.s3).not.toBe(stack.endpoints.sqs);
  });

  it('throttles any client of its DynamoDB endpoint on a table it created', async () => {
    // Prepare: a new table through the stack's endpoint gets the on-demand defaults.
    const dynamodb = new DynamoDBClient({
      endpoint: stack.endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    await dynamodb.send(
      new CreateTableCommand({
        TableName: 'made-by-a-user',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
    );
    await waitUntilTableExists(
      { client: dynamodb, minDelay: 1, maxWaitTime: 30 },
      { TableName: 'made-by-a-user' },
    );

    // Act: 30 puts of 100 units each on one key at once, far past 1,000 units/s.
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        dynamodb
          .send(
            new PutItemCommand({
              TableName: 'made-by-a-user',
              Item: { id: { S: 'hot' }, n: { N: String(index) }, pad: { S: 'x'.repeat(100_000) } },
            }),
          )
          .then(
            () => 'ok',
            (error: unknown) => (error instanceof Error ? error.name : String(error)),
          ),
      ),
    );
    dynamodb.destroy();

    // Assess
    expect(
      outcomes.filter((outcome) => outcome === 'ProvisionedThroughputExceededException').length,
    ).toBeGreaterThan(20);
    expect(
      (await stack.cloudLimitsReport()).dynamodb.byFunction.external?.throttledRequests,
    ).toBeGreaterThan(20);
  });
});
