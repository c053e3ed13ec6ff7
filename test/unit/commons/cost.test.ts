import { describe, expect, it } from 'vitest';
import {
  addUsage,
  attributeValueBytes,
  deliverySqsRequests,
  estimateCost,
  itemSizeBytes,
  NO_USAGE,
  PRICING,
  readUnits,
  sqsBilledRequests,
  writeUnits,
} from '#commons/cost.ts';

describe('Function: itemSizeBytes', () => {
  it('adds the UTF-8 lengths of attribute names and string values', () => {
    // "pk"(2) + "JOB#x"(5) + "sk"(2) + "JOB"(3) + "é"(1 + 2 bytes)
    expect(itemSizeBytes({ pk: 'JOB#x', sk: 'JOB', n: 'é' })).toBe(2 + 5 + 2 + 3 + 1 + 2);
  });

  it('sizes numbers at 1 byte per two significant digits plus 1', () => {
    expect(attributeValueBytes(0)).toBe(2);
    expect(attributeValueBytes(7)).toBe(2);
    expect(attributeValueBytes(12)).toBe(2);
    expect(attributeValueBytes(123)).toBe(3);
    expect(attributeValueBytes(1_000_000)).toBe(2); // trailing zeroes do not count
    expect(attributeValueBytes(-1.25)).toBe(3);
    expect(attributeValueBytes(1_767_225_600_000)).toBe(5); // 17672256: 8 significant digits
  });

  it('sizes maps and lists with 3 bytes each and 1 byte per element', () => {
    expect(attributeValueBytes({})).toBe(3);
    expect(attributeValueBytes([])).toBe(3);
    // 3 + ("a" 1 + "xy" 2 + 1)
    expect(attributeValueBytes({ a: 'xy' })).toBe(7);
    // 3 + (2 + 1) + (1 + 1)
    expect(attributeValueBytes([12, true])).toBe(8);
    expect(itemSizeBytes({ m: { a: 'xy' } })).toBe(1 + 7);
  });

  it('skips undefined attributes', () => {
    expect(itemSizeBytes({ a: 'x', b: undefined })).toBe(2);
  });
});

describe('Function: writeUnits and sqsBilledRequests', () => {
  it('bills 1 unit per KB, rounded up, 2 in a transaction', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1_024)).toBe(1);
    expect(writeUnits(1_025)).toBe(2);
    expect(writeUnits(3_000, { transactional: true })).toBe(6);
  });

  it('bills each 64 KB of a payload as one SQS request', () => {
    expect(sqsBilledRequests(0)).toBe(1);
    expect(sqsBilledRequests(65_536)).toBe(1);
    expect(sqsBilledRequests(65_537)).toBe(2);
    expect(sqsBilledRequests(262_144)).toBe(4);
    expect(deliverySqsRequests(100, true)).toBe(2);
    expect(deliverySqsRequests(200_000, false)).toBe(4);
  });
});

describe('Function: readUnits', () => {
  it('bills 1 unit per 4 KB strongly consistent, half eventually consistent', () => {
    expect(readUnits(0, { consistent: true })).toBe(1);
    expect(readUnits(4_096, { consistent: true })).toBe(1);
    expect(readUnits(4_097, { consistent: true })).toBe(2);
    expect(readUnits(60_000, { consistent: false })).toBe(7.5);
  });
});

describe('Function: estimateCost', () => {
  it('prices the usage at the listed us-east-1 arm64 on-demand rates', () => {
    // 2,048 GB-ms x 1000 = 2 GB-s; 1M Lambda requests, SQS requests, read and write units.
    const cost = estimateCost({
      lambdaMbMs: 2 * 1024 * 1000,
      lambdaRequests: 1_000_000,
      sqsRequests: 1_000_000,
      readUnits: 1_000_000,
      writeUnits: 1_000_000,
    });
    expect(cost.lambdaGbSeconds).toBe(2);
    expect(cost.lambdaRequests).toBe(1_000_000);
    expect(cost.sqsRequests).toBe(1_000_000);
    expect(cost.dynamodbReadUnits).toBe(1_000_000);
    expect(cost.dynamodbWriteUnits).toBe(1_000_000);
    expect(cost.usd).toEqual({
      lambda: 0.2000266668,
      sqs: 0.4,
      dynamodb: 0.75,
      total: 1.3500266668,
    });
    expect(cost.pricing).toEqual({
      region: 'us-east-1',
      lambdaArchitecture: 'arm64',
      lambdaUsdPerGbSecond: 0.0000133334,
      lambdaUsdPerMillionRequests: 0.2,
      sqsUsdPerMillionRequests: 0.4,
      dynamodbUsdPerMillionWriteUnits: 0.625,
      dynamodbUsdPerMillionReadUnits: 0.125,
    });
    expect(cost.pricing).toBe(PRICING);
    expect(cost.covers).toContain('DynamoDB read and write units');
  });

  it('is zero for a job that used nothing yet', () => {
    expect(estimateCost(NO_USAGE).usd.total).toBe(0);
  });

  it('adds usages together, a missing counter as 0', () => {
    expect(
      addUsage(
        { lambdaMbMs: 1, sqsRequests: 2, writeUnits: 3 },
        { lambdaMbMs: 10, readUnits: 0.5 },
      ),
    ).toEqual({
      lambdaMbMs: 11,
      lambdaRequests: 0,
      sqsRequests: 2,
      readUnits: 0.5,
      writeUnits: 3,
    });
  });
});
