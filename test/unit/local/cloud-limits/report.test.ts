/** The cloud-limits counts: totals by client, and the counts since an earlier report. */
import { describe, expect, it } from 'vitest';
import { UsageRecorder, usageSince } from '#local/cloud-limits/report.ts';

describe('Class: UsageRecorder', () => {
  it('totals the counts of every client and keeps each apart', () => {
    const usage = new UsageRecorder();
    usage.add('Worker', 'readUnits', 0.5);
    usage.add('Aggregator', 'writeUnits', 55);
    usage.add('Aggregator', 'throttledRequests');

    expect(usage.totals()).toEqual({
      readUnits: 0.5,
      writeUnits: 55,
      throttledRequests: 1,
      transactionConflicts: 0,
      byClient: {
        Aggregator: { readUnits: 0, writeUnits: 55, throttledRequests: 1, transactionConflicts: 0 },
        Worker: { readUnits: 0.5, writeUnits: 0, throttledRequests: 0, transactionConflicts: 0 },
      },
    });
  });
});

describe('Function: usageSince', () => {
  it('subtracts an earlier report from a later one, count by count', () => {
    const usage = new UsageRecorder();
    usage.add('Status', 'readUnits', 0.5);
    const before = usage.totals();
    usage.add('Status', 'readUnits', 12);
    usage.add('Status', 'transactionConflicts', 2);

    expect(usageSince(usage.totals(), before)).toEqual({
      readUnits: 12,
      writeUnits: 0,
      throttledRequests: 0,
      transactionConflicts: 2,
    });
  });

  it('keeps every count without an earlier report', () => {
    const counts = { readUnits: 3, writeUnits: 4, throttledRequests: 1, transactionConflicts: 0 };
    expect(usageSince(counts, undefined)).toEqual(counts);
  });
});
