/**
 * The capacity rules against the worked examples of the DynamoDB developer guide
 * ("Read and write operations", "Item sizes and formats", "Transactions: capacity
 * management"). 1 KB = 1,024 bytes.
 */
import { describe, expect, it } from 'vitest';
import {
  batchGetReadUnits,
  batchWriteUnits,
  itemWriteUnits,
  queryReadUnits,
  readUnits,
  writeUnits,
} from '#local/cloud-limits/capacity.ts';
import {
  itemSize,
  numberBytes,
  significantDigits,
  valueSize,
} from '#local/cloud-limits/item-size.ts';

const KB = 1024;

describe('Function: readUnits', () => {
  it('rounds a 3,500-byte item up to one 4 KB read unit', () => {
    expect(readUnits(3500, 'strong')).toBe(1);
  });

  it('charges an 8 KB item 2 strongly consistent, 1 eventually consistent and 4 transactional units', () => {
    expect(readUnits(8 * KB, 'strong')).toBe(2);
    expect(readUnits(8 * KB, 'eventual')).toBe(1);
    expect(readUnits(8 * KB, 'transactional')).toBe(4);
  });

  it('rounds a 10 KB GetItem up to 12 KB', () => {
    expect(readUnits(10 * KB, 'strong')).toBe(3);
  });

  it('charges the minimum for an item that does not exist', () => {
    expect(readUnits(0, 'strong')).toBe(1);
    expect(readUnits(0, 'eventual')).toBe(0.5);
  });

  it('throws a RangeError when the size is negative', () => {
    expect(() => readUnits(-1, 'strong')).toThrow(
      'an item size must be a non-negative number of bytes, got -1',
    );
  });
});

describe('Function: batchGetReadUnits', () => {
  it('rounds each item alone: 1.5 KB and 6.5 KB count as 12 KB, not 8 KB', () => {
    expect(batchGetReadUnits([1.5 * KB, 6.5 * KB], 'strong')).toBe(3);
  });
});

describe('Function: queryReadUnits', () => {
  it('rounds 10 items of 40.8 KB in total up to 44 KB', () => {
    const sizes = Array.from({ length: 10 }, () => (40.8 * KB) / 10);
    expect(queryReadUnits(sizes, 'strong')).toBe(11);
  });

  it('sums 1,500 items of 64 bytes to 96 KB', () => {
    const sizes = Array.from({ length: 1500 }, () => 64);
    expect(queryReadUnits(sizes, 'strong')).toBe(24);
  });

  it('halves an eventually consistent page: 80 KB costs 10 units', () => {
    expect(queryReadUnits([80 * KB], 'eventual')).toBe(10);
  });

  it('charges an empty page the minimum', () => {
    expect(queryReadUnits([], 'eventual')).toBe(0.5);
  });
});

describe('Function: writeUnits', () => {
  it('rounds a 500-byte item up to one unit and a 1.6 KB item up to 2', () => {
    expect(writeUnits(500)).toBe(1);
    expect(writeUnits(1.6 * KB)).toBe(2);
  });

  it('charges a transactional write twice: three 500-byte items cost 6 units', () => {
    expect(3 * writeUnits(500, true)).toBe(6);
  });
});

describe('Function: batchWriteUnits', () => {
  it('rounds each item alone: 500 bytes and 3.5 KB count as 5 KB, not 4 KB', () => {
    expect(batchWriteUnits([500, 3.5 * KB])).toBe(5);
  });
});

describe('Function: itemWriteUnits', () => {
  it('charges the larger of the item before and after an update', () => {
    expect(itemWriteUnits(3 * KB, 500)).toBe(3);
    expect(itemWriteUnits(500, 3 * KB)).toBe(3);
  });

  it('charges a failed conditional write on a 1 KB item 1 unit, on a 2 KB item 2, on a new item 1', () => {
    expect(itemWriteUnits(KB, KB)).toBe(1);
    expect(itemWriteUnits(2 * KB, 2 * KB)).toBe(2);
    expect(itemWriteUnits(undefined, undefined)).toBe(1);
  });

  it('charges a delete the size of the deleted item', () => {
    expect(itemWriteUnits(5 * KB, undefined)).toBe(5);
  });
});

describe('Function: itemSize', () => {
  it('counts attribute names and string values as UTF-8 bytes', () => {
    expect(itemSize({ pk: { S: 'JOB#1' } })).toBe(2 + 5);
    expect(itemSize({ é: { S: '€' } })).toBe(2 + 3);
  });

  it('counts a binary value as its raw bytes, from base64 text or bytes', () => {
    expect(itemSize({ b: { B: 'AAEC' } })).toBe(1 + 3);
    expect(itemSize({ b: { B: new Uint8Array([0, 1, 2, 3]) } })).toBe(1 + 4);
  });

  it('counts null and Boolean values as 1 byte', () => {
    expect(itemSize({ n: { NULL: true }, ok: { BOOL: false } })).toBe(1 + 1 + 2 + 1);
  });

  it('adds 3 bytes to a list or map and 1 byte to each of its elements', () => {
    expect(itemSize({ l: { L: [{ S: 'a' }, { N: '1' }] } })).toBe(1 + 3 + (1 + 1) + (1 + 2));
    expect(itemSize({ m: { M: { a: { BOOL: true } } } })).toBe(1 + 3 + (1 + 1 + 1));
    expect(itemSize({ empty: { L: [] } })).toBe(5 + 3);
  });

  it('sums the elements of a set', () => {
    expect(itemSize({ ss: { SS: ['ab', 'c'] }, ns: { NS: ['12', '3'] } })).toBe(
      2 + 3 + 2 + (2 + 2),
    );
  });

  it('throws a TypeError on a value that is not a DynamoDB attribute value', () => {
    expect(() => valueSize({ X: 1 })).toThrow('not a DynamoDB attribute value');
  });
});

describe('Function: numberBytes', () => {
  it('counts 1 byte per two significant digits plus 1, trimming outer zeros', () => {
    expect(significantDigits('-0.00120')).toBe(2);
    expect(numberBytes('123.45')).toBe(4);
    expect(numberBytes('1000')).toBe(2);
    expect(numberBytes('0')).toBe(1);
    expect(numberBytes('12345678901234567890123456789012345678')).toBe(20);
  });
});
