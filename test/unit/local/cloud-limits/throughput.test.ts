import { describe, expect, it } from 'vitest';
import { AWS_DEFAULT_LIMITS, resolveCloudLimits } from '#local/cloud-limits/options.ts';
import { partitionCount, partitionOf } from '#local/cloud-limits/partitions.ts';
import { ThroughputMeter } from '#local/cloud-limits/throughput.ts';
import { TokenBucket } from '#local/cloud-limits/token-bucket.ts';
import { TransactionLocks } from '#local/cloud-limits/transaction-locks.ts';

const PER_PARTITION = { writeUnitsPerSecond: 1000, readUnitsPerSecond: 3000 };

describe('Function: partitionCount', () => {
  it('gives a new on-demand table (4,000 WCU/s, 12,000 RCU/s) 4 partitions', () => {
    expect(
      partitionCount({ writeUnitsPerSecond: 4000, readUnitsPerSecond: 12000 }, PER_PARTITION),
    ).toBe(4);
  });

  it('gives a warm throughput of 10,000 WCU/s 10 partitions', () => {
    expect(
      partitionCount({ writeUnitsPerSecond: 10000, readUnitsPerSecond: 12000 }, PER_PARTITION),
    ).toBe(10);
  });
});

describe('Function: partitionOf', () => {
  it('hashes one key value to the same partition every time, and keys over every partition', () => {
    const seen = new Set<number>();
    for (let index = 0; index < 200; index++) seen.add(partitionOf({ S: `JOB#${index}` }, 4));
    expect(partitionOf({ S: 'JOB#1' }, 4)).toBe(partitionOf({ S: 'JOB#1' }, 4));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('throws a RangeError when the count is not a positive integer', () => {
    expect(() => partitionOf({ S: 'a' }, 0)).toThrow(
      'a partition count must be a positive integer, got 0',
    );
  });
});

describe('Class: TokenBucket', () => {
  it('admits up to its burst at once, then its rate per second', () => {
    // Prepare
    const bucket = new TokenBucket(1000, 100, 0);
    let admitted = 0;

    // Act: 1-unit requests every 0.5 ms for 1 s (2,000 units/s offered).
    for (let at = 0; at < 1000; at += 0.5) {
      if (bucket.admits(1, at)) {
        bucket.take(1, at);
        admitted++;
      }
    }

    // Assess: the 100-unit burst plus 1,000 units refilled in the second.
    expect(admitted).toBeGreaterThanOrEqual(1099);
    expect(admitted).toBeLessThanOrEqual(1100);
  });

  it('admits a request larger than the burst once full, and makes the next ones wait out the debt', () => {
    const bucket = new TokenBucket(1000, 100, 0);
    expect(bucket.admits(248, 0)).toBe(true);
    bucket.take(248, 0);
    expect(bucket.tokens(0)).toBe(-148);
    expect(bucket.admits(1, 100)).toBe(false);
    expect(bucket.admits(1, 150)).toBe(true);
  });

  it('throws a RangeError on a rate that is not positive', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(
      'ratePerSecond must be a positive number, got 0',
    );
  });
});

describe('Class: ThroughputMeter', () => {
  it('blocks a hot partition while the others still take writes, and records its peak', () => {
    // Prepare
    let now = 0;
    const meter = new ThroughputMeter(AWS_DEFAULT_LIMITS.dynamodb, () => now);
    meter.register('t', undefined, { writeUnitsPerSecond: 4000, readUnitsPerSecond: 12000 });
    const hot = { table: 't', partition: 0 };
    const cold = { table: 't', partition: 1 };

    // Act: 2,000 units/s offered to partition 0 for 1 s, 10 units every 5 ms.
    let taken = 0;
    for (; now < 1000; now += 5) {
      const charge = { at: hot, kind: 'write' as const, units: 10 };
      if (meter.blocked([charge]).length === 0) {
        meter.take([charge]);
        taken += 10;
      }
    }

    // Assess
    expect(taken).toBeLessThanOrEqual(1110);
    expect(meter.blocked([{ at: hot, kind: 'write', units: 100 }])).toHaveLength(1);
    expect(meter.blocked([{ at: cold, kind: 'write', units: 100 }])).toEqual([]);
    expect(meter.peaks().write).toBe(taken);
  });

  it('adds up the charges of one request on one partition before asking the bucket', () => {
    const meter = new ThroughputMeter(AWS_DEFAULT_LIMITS.dynamodb, () => 0);
    meter.register('t', undefined, { writeUnitsPerSecond: 4000, readUnitsPerSecond: 12000 });
    const at = { table: 't', partition: 2 };
    meter.take([{ at, kind: 'write', units: 50 }]);
    const charges = [
      { at, kind: 'write' as const, units: 30 },
      { at, kind: 'write' as const, units: 30 },
    ];
    expect(meter.blocked(charges)).toHaveLength(2);
  });
});

describe('Class: TransactionLocks', () => {
  it('refuses an item held by a transaction in flight, then frees it a margin after release', () => {
    // Prepare
    let now = 0;
    const locks = new TransactionLocks(() => now);

    // Act
    const first = locks.acquire(['a', 'b']);
    const overlapping = locks.acquire(['b', 'c']);
    locks.release(first.owner, ['a', 'b'], 10);
    const inMargin = locks.isHeld('b');
    now = 11;
    const after = locks.acquire(['b', 'c']);

    // Assess
    expect(first.conflicts).toEqual([]);
    expect(overlapping.conflicts).toEqual(['b']);
    expect(locks.isHeld('c')).toBe(true);
    expect(inMargin).toBe(true);
    expect(after.conflicts).toEqual([]);
  });
});

describe('Function: resolveCloudLimits', () => {
  it("fills in AWS's defaults for true", () => {
    expect(resolveCloudLimits(true)).toEqual(AWS_DEFAULT_LIMITS);
  });

  it('keeps the defaults it is not given', () => {
    const limits = resolveCloudLimits({ dynamodb: { burstSeconds: 1 } });
    expect(limits.dynamodb.burstSeconds).toBe(1);
    expect(limits.dynamodb.partitionWriteUnitsPerSecond).toBe(1000);
  });

  it('throws a RangeError naming the setting that is not a positive number', () => {
    expect(() => resolveCloudLimits({ dynamodb: { partitionWriteUnitsPerSecond: 0 } })).toThrow(
      'cloudLimits.dynamodb.partitionWriteUnitsPerSecond must be a positive number, got 0',
    );
    expect(() => resolveCloudLimits({ dynamodb: { transactionHoldMarginMs: -1 } })).toThrow(
      'cloudLimits.dynamodb.transactionHoldMarginMs must be a non-negative number, got -1',
    );
  });
});
