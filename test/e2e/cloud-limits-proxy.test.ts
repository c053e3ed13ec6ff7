/**
 * The cloud-limits proxy against real DynamoDB Local: throttling on a hot partition key and
 * none over many keys, partial batch throttling, transaction conflicts, and the units
 * counted. The limiter's clock is driven by the test, so what is throttled does not depend on
 * how fast this machine is.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLimiter } from '#local/cloud-limits/dynamodb-limiter.ts';
import { AWS_DEFAULT_LIMITS } from '#local/cloud-limits/options.ts';
import { partitionOf } from '#local/cloud-limits/partitions.ts';
import { DynamoDbFaultProxy } from '#local/dynamodb-faults.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#local/emulators/dynamodb.ts';

/** 10 KB of text: a 10-write-unit item with its key. */
const TEN_KB = 'x'.repeat(10 * 1024 - 40);

describe('Class: DynamoDbLimiter (through the proxy, on DynamoDB Local)', () => {
  let dynamo: DynamoDbLocal;
  let proxy: DynamoDbFaultProxy;
  let limiter: DynamoDbLimiter;
  let clock = 1_000_000;
  let table = 0;
  let tableName = '';

  function client(name = 'worker'): DynamoDBClient {
    return new DynamoDBClient({
      endpoint: proxy.endpointFor(name),
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
  }

  async function createTable(): Promise<string> {
    table++;
    const name = `limits-${table}`;
    await client('setup').send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'gpk', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'ByGpk',
            KeySchema: [{ AttributeName: 'gpk', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
    );
    return name;
  }

  /** Puts one item, the clock moving `stepMs` first; returns the error name or 'ok'. */
  async function put(pk: string, sk: string, stepMs: number, db = client()): Promise<string> {
    clock += stepMs;
    try {
      await db.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: pk }, sk: { S: sk }, data: { S: TEN_KB } },
        }),
      );
      return 'ok';
    } catch (error) {
      return error instanceof Error ? error.name : String(error);
    }
  }

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    limiter = new DynamoDbLimiter({
      target: dynamo.endpoint,
      limits: { ...AWS_DEFAULT_LIMITS.dynamodb, transactionHoldMarginMs: 50 },
      now: () => clock,
    });
    proxy = await DynamoDbFaultProxy.start(
      dynamo.endpoint,
      ['worker', 'aggregator', 'setup'],
      1,
      limiter,
    );
  });

  beforeEach(async () => {
    tableName = await createTable();
  });

  afterAll(async () => {
    await proxy?.stop();
    limiter?.destroy();
    await dynamo?.stop();
  });

  it('gives a new on-demand table and its index 4 partitions each', async () => {
    // Act
    await put('a', '1', 0);

    // Assess
    expect(limiter.partitions(tableName)).toBe(4);
    expect(limiter.partitions(tableName, 'ByGpk')).toBe(4);
  });

  it('throttles a burst above 1,000 write units/s on one partition key', async () => {
    // Prepare: 200 puts of 10 units each, one every 5 ms: 2,000 units/s on one key.
    const db = client();
    const outcomes: string[] = [];

    // Act
    for (let index = 0; index < 200; index++) outcomes.push(await put('hot', `s${index}`, 5, db));

    // Assess: one partition serves 1,000 units/s plus its 100-unit burst over the 1 s.
    const ok = outcomes.filter((outcome) => outcome === 'ok').length;
    expect(
      outcomes
        .filter((o) => o !== 'ok')
        .every((o) => o === 'ProvisionedThroughputExceededException'),
    ).toBe(true);
    expect(ok).toBeGreaterThanOrEqual(100);
    expect(ok).toBeLessThanOrEqual(111);
    expect(limiter.report().hottestPartitionPeakWcuPerSecond).toBeLessThanOrEqual(1110);
  });

  it('answers the throttling error AWS sends, with its throttling reason', async () => {
    // Prepare: use up the partition's burst at one instant.
    const db = client();
    for (let index = 0; index < 10; index++) await put('burst', `s${index}`, 0, db);

    // Act
    const error = await db
      .send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: 'burst' }, sk: { S: 'next' }, data: { S: TEN_KB } },
        }),
      )
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      ThrottlingReasons: [
        {
          reason: 'TableWriteKeyRangeThroughputExceeded',
          resource: `arn:aws:dynamodb:${LOCAL_REGION}:000000000000:table/${tableName}`,
        },
      ],
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('does not throttle the same load spread over many keys below 4,000 units/s', async () => {
    // Prepare: 200 puts of 10 units on 200 keys, one every 5 ms: 2,000 units/s on the table.
    const db = client();
    const outcomes: string[] = [];

    // Act
    for (let index = 0; index < 200; index++) outcomes.push(await put(`key-${index}`, 's', 5, db));

    // Assess
    expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([]);
  });

  it('returns the throttled items of a BatchWriteItem as unprocessed, and stores the rest', async () => {
    // Prepare: 25 items of 10 units on one partition key at one instant (a 100-unit burst).
    const items = Array.from({ length: 25 }, (_, index) => ({
      PutRequest: { Item: { pk: { S: 'batch' }, sk: { S: `s${index}` }, data: { S: TEN_KB } } },
    }));

    // Act
    const answer = await client().send(
      new BatchWriteItemCommand({ RequestItems: { [tableName]: items } }),
    );
    const stored = await client().send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'batch' } },
        Select: 'COUNT',
      }),
    );

    // Assess
    const unprocessed = answer.UnprocessedItems?.[tableName] ?? [];
    expect(unprocessed.length).toBe(15);
    expect(stored.Count).toBe(10);
    expect(unprocessed.map((write) => write.PutRequest?.Item?.sk?.S)).toEqual(
      items.slice(10).map((write) => write.PutRequest.Item.sk.S),
    );
  });

  it('cancels a transaction on a throttled partition with ThrottlingError for that action only', async () => {
    // Prepare: exhaust the burst of one partition; find a key on another partition.
    const db = client();
    for (let index = 0; index < 10; index++) await put('tx-hot', `s${index}`, 0, db);
    const hot = partitionOf({ S: 'tx-hot' }, 4);
    const cold = Array.from({ length: 50 }, (_, index) => `tx-cold-${index}`).find(
      (key) => partitionOf({ S: key }, 4) !== hot,
    );

    // Act
    const error = await db
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: { pk: { S: 'tx-hot' }, sk: { S: 'x' } } } },
            { Put: { TableName: tableName, Item: { pk: { S: cold ?? '' }, sk: { S: 'x' } } } },
          ],
        }),
      )
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'ThrottlingError' }, { Code: 'None' }],
    });
  });

  it('cancels the second of two overlapping transactions on one item with TransactionConflict', async () => {
    // Prepare
    const transaction = (sk: string) =>
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { pk: { S: 'job' }, sk: { S: sk } } } },
          {
            Update: {
              TableName: tableName,
              Key: { pk: { S: 'job' }, sk: { S: 'JOB' } },
              UpdateExpression: 'ADD done :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      });

    // Act
    const [first, second] = await Promise.allSettled([
      client('worker').send(transaction('CHUNK#1')),
      client('aggregator').send(transaction('CHUNK#2')),
    ]);

    // Assess
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    expect(second.status === 'rejected' ? second.reason : undefined).toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    });
    expect(limiter.report().byClient.aggregator?.transactionConflicts).toBe(1);
  });

  it('lets sequential transactions on one item through, and a plain write conflicts inside the hold', async () => {
    // Prepare
    const add = () =>
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: { pk: { S: 'seq' }, sk: { S: 'JOB' } },
              UpdateExpression: 'ADD done :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      });
    const plainUpdate = new UpdateItemCommand({
      TableName: tableName,
      Key: { pk: { S: 'seq' }, sk: { S: 'JOB' } },
      UpdateExpression: 'SET touched = :yes',
      ExpressionAttributeValues: { ':yes': { BOOL: true } },
    });

    // Act: one after the other, the hold margin (50 ms) passed in between.
    await client().send(add());
    clock += 60;
    await client().send(add());
    const inHold = await client()
      .send(plainUpdate)
      .catch((caught: unknown) => caught);
    clock += 60;
    const afterHold = await client().send(plainUpdate);

    // Assess
    expect(inHold).toMatchObject({ name: 'TransactionConflictException' });
    expect(afterHold.$metadata.httpStatusCode).toBe(200);
  });

  it('charges a counting Query the items it read, summed then rounded to 4 KB', async () => {
    // Prepare: 3 items of 10,210 bytes (30,630 in all: 8 × 4 KB).
    for (let index = 1; index <= 3; index++) await put('q', String(index), 1_000);
    const before = limiter.report().byClient.aggregator?.readUnits ?? 0;

    // Act: eventually consistent, returning only a count.
    const answer = await client('aggregator').send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'attribute_exists(nothing)',
        ExpressionAttributeValues: { ':pk': { S: 'q' } },
        Select: 'COUNT',
      }),
    );

    // Assess
    expect(answer.Count).toBe(0);
    expect((limiter.report().byClient.aggregator?.readUnits ?? 0) - before).toBe(4);
  });

  it('charges a BatchGetItem whose projection leaves out the sort key each whole item found', async () => {
    // Prepare: two items of 10,210 bytes (3 units each, strongly consistent); a third key
    // that holds nothing (the least a read costs: 1 unit).
    await put('b', '1', 1_000);
    await put('b', '2', 1_000);
    const before = limiter.report().byClient.aggregator?.readUnits ?? 0;

    // Act: only `pk` and `data` projected, so no item returned names its sort key.
    const answer = await client('aggregator').send(
      new BatchGetItemCommand({
        RequestItems: {
          [tableName]: {
            Keys: ['1', '2', '3'].map((sk) => ({ pk: { S: 'b' }, sk: { S: sk } })),
            ConsistentRead: true,
            ProjectionExpression: 'pk, #data',
            ExpressionAttributeNames: { '#data': 'data' },
          },
        },
      }),
    );

    // Assess
    expect(answer.Responses?.[tableName]).toHaveLength(2);
    expect(answer.Responses?.[tableName]?.[0]?.sk).toBeUndefined();
    expect((limiter.report().byClient.aggregator?.readUnits ?? 0) - before).toBe(3 + 3 + 1);
  });

  it('charges an UpdateItem the larger of before and after, the same with ReturnValues ALL_NEW', async () => {
    // Prepare: two small items, each then grown to 10 KB, once answered with the item after.
    const setup = client('setup');
    for (const sk of ['1', '2']) {
      await setup.send(
        new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'u' }, sk: { S: sk } } }),
      );
    }
    const units = () => limiter.report().byClient.aggregator?.writeUnits ?? 0;
    const grow = (sk: string, returnValues: 'ALL_NEW' | 'NONE') =>
      client('aggregator').send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'u' }, sk: { S: sk } },
          UpdateExpression: 'SET #data = :data',
          ExpressionAttributeNames: { '#data': 'data' },
          ExpressionAttributeValues: { ':data': { S: TEN_KB } },
          ReturnValues: returnValues,
        }),
      );

    // Act
    const start = units();
    const answered = await grow('1', 'ALL_NEW');
    const withItem = units() - start;
    await grow('2', 'NONE');
    const withoutItem = units() - start - withItem;

    // Assess: names (8 bytes), keys (2) and 10,200 bytes of text: 10,210 bytes, 10 units.
    expect(withItem).toBe(10);
    expect(withoutItem).toBe(10);
    expect(answered.Attributes?.data?.S).toBe(TEN_KB);
  });

  it('charges a put the larger of the item it replaces and its own, answering as asked', async () => {
    // Prepare: a 10 KB item, then small puts over it.
    const setup = client('setup');
    await setup.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: 'r' }, sk: { S: '1' }, data: { S: TEN_KB } },
      }),
    );
    const units = () => limiter.report().byClient.worker?.writeUnits ?? 0;
    const small = { pk: { S: 'r' }, sk: { S: '1' }, data: { S: 'x' } };
    const start = units();

    // Act: a conditional put that fails on the existing item, a plain put replacing it, and
    // a put over the small item that asks for the old one.
    const failed = await client()
      .send(
        new PutItemCommand({
          TableName: tableName,
          Item: small,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((error: unknown) => error);
    const afterFailed = units();
    const replaced = await client().send(new PutItemCommand({ TableName: tableName, Item: small }));
    const afterReplaced = units();
    const asked = await client().send(
      new PutItemCommand({ TableName: tableName, Item: small, ReturnValues: 'ALL_OLD' }),
    );

    // Assess: the 10 KB item is billed twice (10 units each), the small one once (1 unit).
    expect(failed).toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((failed as { Item?: unknown }).Item).toBeUndefined();
    expect(afterFailed - start).toBe(10);
    expect(replaced.Attributes).toBeUndefined();
    expect(afterReplaced - afterFailed).toBe(10);
    expect(asked.Attributes?.data?.S).toBe('x');
    expect(units() - afterReplaced).toBe(1);
  });

  it('counts a put as its table units plus its index entry, by client', async () => {
    // Prepare
    const before = limiter.report().byClient.setup?.writeUnits ?? 0;

    // Act: a 10 KB item that enters the index (a 1 KB keys-only entry): 10 + 1 units.
    await client('setup').send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: 'g' }, sk: { S: '1' }, gpk: { S: 'G' }, data: { S: TEN_KB } },
      }),
    );

    // Assess
    expect((limiter.report().byClient.setup?.writeUnits ?? 0) - before).toBe(11);
  });
});
