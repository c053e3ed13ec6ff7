import { describe, expect, it } from 'vitest';
import {
  THROTTLED_MESSAGE,
  throughputExceeded,
  transactionCanceled,
  transactionConflict,
} from '#local/cloud-limits/dynamodb-errors.ts';
import { queriedPartitionValue, unreducedInput } from '#local/cloud-limits/limit-pages.ts';
import { tableNameOf } from '#local/cloud-limits/tables.ts';
import { warmThroughputOf } from '#local/cloud-limits/warm-throughput.ts';

const ON_DEMAND = { writeUnitsPerSecond: 4000, readUnitsPerSecond: 12000 };
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t';

describe('Function: throughputExceeded', () => {
  it('answers ProvisionedThroughputExceededException with one reason per resource', () => {
    expect(
      throughputExceeded([
        { tableArn: TABLE_ARN, kind: 'write' },
        { tableArn: TABLE_ARN, kind: 'write' },
        { tableArn: TABLE_ARN, index: 'ByDeadline', kind: 'read' },
      ]),
    ).toEqual({
      status: 400,
      type: 'ProvisionedThroughputExceededException',
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: THROTTLED_MESSAGE,
        ThrottlingReasons: [
          { reason: 'TableWriteKeyRangeThroughputExceeded', resource: TABLE_ARN },
          {
            reason: 'IndexReadKeyRangeThroughputExceeded',
            resource: `${TABLE_ARN}/index/ByDeadline`,
          },
        ],
      },
    });
  });
});

describe('Function: transactionCanceled', () => {
  it('lists one cancellation reason per action, a message for those at fault', () => {
    const answer = transactionCanceled(['None', 'TransactionConflict']);
    expect(answer.type).toBe('TransactionCanceledException');
    expect(answer.body).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
      ],
    });
  });

  it('answers a plain write on a held item with TransactionConflictException', () => {
    expect(transactionConflict().body).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException',
      message: 'Transaction is ongoing for the item',
    });
  });
});

describe('Function: queriedPartitionValue', () => {
  it('finds the partition key value in a key condition, by name or placeholder', () => {
    const value = { S: 'JOB#1' };
    expect(
      queriedPartitionValue(
        {
          KeyConditionExpression: '#pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': value, ':prefix': { S: 'CHUNK#' } },
        },
        'pk',
      ),
    ).toEqual(value);
    expect(
      queriedPartitionValue(
        {
          KeyConditionExpression: ':v = runningPk AND deadlineAt < :now',
          ExpressionAttributeValues: { ':v': { S: 'RUNNING' }, ':now': { N: '1' } },
        },
        'runningPk',
      ),
    ).toEqual({ S: 'RUNNING' });
  });

  it('reads the legacy KeyConditions too', () => {
    expect(
      queriedPartitionValue(
        { KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'a' }] } } },
        'pk',
      ),
    ).toEqual({ S: 'a' });
  });
});

describe('Function: unreducedInput', () => {
  it('drops the projection, the filter and their placeholders, keeping the page', () => {
    expect(
      unreducedInput({
        TableName: 't',
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: '#s = :s',
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':pk': { S: 'a' }, ':s': { S: 'RUNNING' } },
        Select: 'SPECIFIC_ATTRIBUTES',
        Limit: 10,
        ExclusiveStartKey: { pk: { S: 'a' }, sk: { S: 'b' } },
      }),
    ).toEqual({
      TableName: 't',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'a' } },
      Limit: 10,
      ExclusiveStartKey: { pk: { S: 'a' }, sk: { S: 'b' } },
    });
  });
});

describe('Function: tableNameOf', () => {
  it('takes a table name as given, or out of a table or index ARN', () => {
    expect(tableNameOf('jobs')).toBe('jobs');
    expect(tableNameOf(TABLE_ARN)).toBe('t');
    expect(tableNameOf(`${TABLE_ARN}/index/i`)).toBe('t');
    expect(tableNameOf(undefined)).toBeUndefined();
  });
});

describe('Function: warmThroughputOf', () => {
  it("reads a table's and an index's warm throughput, keeping on-demand for what is unset", () => {
    expect(
      warmThroughputOf(
        't',
        {
          WarmThroughput: { WriteUnitsPerSecond: 10000 },
          GlobalSecondaryIndexes: [
            { IndexName: 'i', WarmThroughput: { ReadUnitsPerSecond: 24000 } },
            { IndexName: 'plain' },
          ],
        },
        ON_DEMAND,
      ),
    ).toEqual({
      table: { writeUnitsPerSecond: 10000, readUnitsPerSecond: 12000 },
      indexes: { i: { writeUnitsPerSecond: 4000, readUnitsPerSecond: 24000 } },
    });
  });

  it('returns nothing for a table without warm throughput', () => {
    expect(warmThroughputOf('t', {}, ON_DEMAND)).toEqual({});
  });

  it('throws a RangeError naming a warm throughput that is not a positive number', () => {
    expect(() =>
      warmThroughputOf('t', { WarmThroughput: { WriteUnitsPerSecond: 'lots' } }, ON_DEMAND),
    ).toThrow('t.WarmThroughput.WriteUnitsPerSecond must be a positive number, got lots');
  });
});
