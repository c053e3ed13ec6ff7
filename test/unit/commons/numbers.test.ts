import { describe, expect, it } from 'vitest';
import { MAX_INTEGER_DIGITS, MAX_REPORTED_ERRORS } from '../../../functions/commons/limits.ts';
import {
  checkElement,
  estimateResultBytes,
  squareNumber,
  validateNumbers,
} from '../../../functions/commons/numbers.ts';

describe('Function: squareNumber', () => {
  it('returns exact JSON numbers for small integers, in any form', () => {
    expect([1, 2, 3, 4, 5].map(squareNumber)).toEqual([1, 4, 9, 16, 25]);
    expect(squareNumber(-7)).toBe(49);
    expect(squareNumber('12')).toBe(144);
    expect(squareNumber('+12')).toBe(144);
    expect(squareNumber('-0012')).toBe(144);
  });

  it('turns -0 into +0', () => {
    expect(Object.is(squareNumber(-0), 0)).toBe(true);
  });

  it('returns the largest safe square as a number and the next one as a string', () => {
    // 94906265^2 = 9007199136250225 <= 2^53-1; 94906266^2 = 9007199326062756 > 2^53-1
    expect(squareNumber(94_906_265)).toBe(9_007_199_136_250_225);
    expect(squareNumber(94_906_266)).toBe('9007199326062756');
    expect(squareNumber(-94_906_266)).toBe('9007199326062756');
  });

  it('squares the largest safe integer exactly', () => {
    expect(squareNumber(Number.MAX_SAFE_INTEGER)).toBe('81129638414606663681390495662081');
    expect(squareNumber(-Number.MAX_SAFE_INTEGER)).toBe('81129638414606663681390495662081');
  });

  it('squares huge integer strings exactly', () => {
    expect(squareNumber('123456789012345678901234567890')).toBe(
      '15241578753238836750495351562536198787501905199875019052100',
    );
    const tenThousandNines = '9'.repeat(10_000);
    // (10^n - 1)^2 = 10^2n - 2*10^n + 1 = 9..9 8 0..0 1 with n-1 nines and n-1 zeros
    const expected = `${'9'.repeat(9_999)}8${'0'.repeat(9_999)}1`;
    expect(squareNumber(tenThousandNines)).toBe(expected);
  });

  it('returns the IEEE-754 product for non-integers', () => {
    expect(squareNumber(0.1)).toBe(0.1 * 0.1);
    expect(squareNumber(0.1)).toBe(0.010000000000000002);
    expect(squareNumber(-1.5)).toBe(2.25);
    expect(squareNumber(1e-200)).toBe(0);
  });
});

describe('Function: checkElement', () => {
  it.each([
    [0],
    [-0],
    [1.5],
    [Number.MAX_SAFE_INTEGER],
    [-Number.MAX_SAFE_INTEGER],
    [1e-300],
    [4503599627370495.5],
    ['0'],
    ['-42'],
    ['+42'],
    ['9'.repeat(MAX_INTEGER_DIGITS)],
    [`-${'9'.repeat(MAX_INTEGER_DIGITS)}`],
  ])('accepts %s', (value) => {
    expect(checkElement(value)).toBeUndefined();
  });

  it.each([
    [Number.MAX_SAFE_INTEGER + 1, 'UNSAFE_INTEGER'],
    [1e20, 'UNSAFE_INTEGER'],
    [1e154, 'UNSAFE_INTEGER'],
    [-1.5e200, 'SQUARE_OVERFLOWS'],
    [Number.NaN, 'NOT_FINITE'],
    [Number.POSITIVE_INFINITY, 'NOT_FINITE'],
    [1.5e200, 'SQUARE_OVERFLOWS'],
    [[1, 2], 'NESTED_ARRAY'],
    [null, 'NOT_A_NUMBER'],
    [true, 'NOT_A_NUMBER'],
    [{ n: 1 }, 'NOT_A_NUMBER'],
    ['', 'INVALID_INTEGER_STRING'],
    ['1.5', 'INVALID_INTEGER_STRING'],
    [' 12', 'INVALID_INTEGER_STRING'],
    ['0x10', 'INVALID_INTEGER_STRING'],
    ['1e5', 'INVALID_INTEGER_STRING'],
    ['NaN', 'INVALID_INTEGER_STRING'],
    ['Infinity', 'INVALID_INTEGER_STRING'],
    ['-', 'INVALID_INTEGER_STRING'],
    ['١٢', 'INVALID_INTEGER_STRING'],
    ['9'.repeat(MAX_INTEGER_DIGITS + 1), 'TOO_MANY_DIGITS'],
  ])('rejects %s as %s', (value, code) => {
    expect(checkElement(value)?.code).toBe(code);
  });

  it('tells the user to send an unsafe integer as a string', () => {
    expect(checkElement(2 ** 60)?.message).toContain('send it as a decimal string');
  });
});

describe('Function: validateNumbers', () => {
  it('returns the numbers when every element is valid', () => {
    const result = validateNumbers([1, '2', 3.5]);
    expect(result).toEqual({ ok: true, numbers: [1, '2', 3.5] });
  });

  it('reports the index and code of every bad element', () => {
    const result = validateNumbers([1, 'x', 3, [4], 2 ** 60]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.invalidCount).toBe(3);
    expect(result.errors.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: 'INVALID_INTEGER_STRING' },
      { index: 3, code: 'NESTED_ARRAY' },
      { index: 4, code: 'UNSAFE_INTEGER' },
    ]);
  });

  it('lists at most MAX_REPORTED_ERRORS errors but counts them all', () => {
    const values = Array.from({ length: MAX_REPORTED_ERRORS + 5 }, () => 'bad');
    const result = validateNumbers(values);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.invalidCount).toBe(MAX_REPORTED_ERRORS + 5);
    expect(result.errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(result.errors.at(-1)?.index).toBe(MAX_REPORTED_ERRORS - 1);
  });
});

describe('Function: estimateResultBytes', () => {
  it('bounds the JSON length of the square of every kind of element', () => {
    const samples = [
      -Number.MAX_SAFE_INTEGER,
      94_906_266,
      -1.2345678901234567e-154,
      4503599627370495.5,
      -1.2345678901234568e-150,
      0.1,
      '-'.concat('9'.repeat(500)),
      '7',
    ];
    for (const value of samples) {
      const printed = `${JSON.stringify(squareNumber(value))},`;
      expect(printed.length).toBeLessThanOrEqual(estimateResultBytes(value));
    }
  });
});
