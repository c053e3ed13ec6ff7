import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_INTEGER_DIGITS, MAX_REPORTED_ERRORS } from '#commons/limits.ts';
import {
  checkElement,
  estimateResultBytes,
  fastDouble,
  ReadLiteral,
  readDouble,
  readDoubleLiteral,
  readIntegerLiteral,
  readJsonNumberSource,
  readLineLiteral,
  squareNumber,
  validateNumbers,
} from '#commons/numbers.ts';

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

  it('says that a canonical element carries an integer beyond 2^53 as a decimal string', () => {
    expect(checkElement(2 ** 60)?.message).toContain('as a decimal string');
  });

  it.each([['3e+100'], ['-3e+100'], ['1.5e+9'], ['1e+21']])(
    'accepts the exponent text %s of a big integral double',
    (value) => {
      expect(checkElement(value)).toBeUndefined();
    },
  );

  it.each([
    ['3e100', 'INVALID_INTEGER_STRING'],
    ['1e+400', 'NOT_FINITE'],
    ['1e+200', 'SQUARE_OVERFLOWS'],
  ])('rejects the string %s as %s', (value, code) => {
    expect(checkElement(value)?.code).toBe(code);
  });
});

describe('Function: validateNumbers', () => {
  it('returns the numbers when every element is valid', () => {
    const result = validateNumbers([1, '2', 3.5]);
    expect(result).toEqual({ ok: true, numbers: [1, '2', 3.5] });
  });

  it('reports the index and code of every bad element', () => {
    const result = validateNumbers([1, 'x', 3, [4], new ReadLiteral(readDouble(1e200))]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.invalidCount).toBe(3);
    expect(result.errors.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: 'INVALID_INTEGER_STRING' },
      { index: 3, code: 'NESTED_ARRAY' },
      { index: 4, code: 'SQUARE_OVERFLOWS' },
    ]);
  });

  it('unwraps the literals read from their source into canonical elements', () => {
    const values: unknown[] = [
      2.5,
      new ReadLiteral(readIntegerLiteral('9007199254740993')),
      new ReadLiteral(readDoubleLiteral('3e100')),
      '-12',
    ];
    expect(validateNumbers(values)).toEqual({
      ok: true,
      numbers: [2.5, '9007199254740993', '3e+100', '-12'],
    });
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
      '3e+100',
      '-1.2345678901234567e+153',
      '1e+8',
    ];
    for (const value of samples) {
      const printed = `${JSON.stringify(squareNumber(value))},`;
      expect(printed.length).toBeLessThanOrEqual(estimateResultBytes(value));
    }
  });
});

describe('Function: squareNumber of a big integral double', () => {
  it('squares the exponent text as a double, not as the exact integer', () => {
    expect(squareNumber('3e+100')).toBe(9e200);
    expect(squareNumber('1e+10')).toBe(1e20);
    expect(squareNumber('-1.5e+9')).toBe(2.25e18);
  });

  it('keeps the exact square of the same value given as an integer literal', () => {
    expect(squareNumber('10000000000')).toBe('100000000000000000000');
  });
});

describe('Function: readIntegerLiteral', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['+5', 5],
    ['007', 7],
    ['94906266', 94_906_266],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['-9007199254740991', -Number.MAX_SAFE_INTEGER],
    ['9007199254740992', '9007199254740992'],
    ['9007199254740993', '9007199254740993'],
    ['1180591620717411303424', '1180591620717411303424'],
  ])('reads %s as %s', (source, value) => {
    expect(Object.is(readIntegerLiteral(source), value)).toBe(true);
  });

  it('takes MAX_INTEGER_DIGITS digits and a sign, and rejects one digit more', () => {
    const digits = '9'.repeat(MAX_INTEGER_DIGITS);
    expect(readIntegerLiteral(`-${digits}`)).toBe(`-${digits}`);
    expect(readIntegerLiteral(`${digits}9`)).toEqual({
      code: 'TOO_MANY_DIGITS',
      message: `an integer may have at most ${MAX_INTEGER_DIGITS} digits; this one has ${MAX_INTEGER_DIGITS + 1}`,
    });
  });
});

describe('Function: readDoubleLiteral', () => {
  it.each([
    ['2.5', 2.5],
    ['-0.0', -0],
    ['1e5', 100_000],
    ['1E-5', 1e-5],
    ['94906265.0', 94_906_265],
    ['94906266.0', '9.4906266e+7'],
    ['3e100', '3e+100'],
    ['1e-400', 0],
  ])('reads %s as %s', (source, value) => {
    expect(Object.is(readDoubleLiteral(source), value)).toBe(true);
  });

  it.each([
    ['1e309', 'NOT_FINITE'],
    ['-1e309', 'NOT_FINITE'],
    ['1e155', 'SQUARE_OVERFLOWS'],
    ['1.7976931348623157e308', 'SQUARE_OVERFLOWS'],
  ])('rejects %s as %s', (source, code) => {
    expect(readDoubleLiteral(source)).toMatchObject({ code });
  });
});

describe('Function: readJsonNumberSource', () => {
  it('reads a literal without fraction or exponent as an integer, any other as a double', () => {
    expect(readJsonNumberSource('100000000000')).toBe(100_000_000_000);
    expect(readJsonNumberSource('100000000000.0')).toBe('1e+11');
    expect(readJsonNumberSource('1E11')).toBe('1e+11');
  });
});

describe('Function: fastDouble', () => {
  it('gives the correctly rounded double inside the exact range and undefined outside', () => {
    expect(fastDouble(25, -1)).toBe(2.5);
    expect(fastDouble(1, 22)).toBe(1e22);
    expect(fastDouble(1, 23)).toBeUndefined();
    expect(fastDouble(1, -23)).toBeUndefined();
  });

  it('agrees with Number() on every decimal it takes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999_999_999 }),
        fc.integer({ min: -22, max: 22 }),
        (mantissa, exponent) => {
          expect(fastDouble(mantissa, exponent)).toBe(Number(`${mantissa}e${exponent}`));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('Function: readLineLiteral', () => {
  const read = (line: string) => readLineLiteral(`#${line}#`, 1, line.length + 1);

  it.each([
    ['42', 42],
    ['+5', 5],
    ['-0', 0],
    ['007', 7],
    [' \t12\t ', 12],
    ['.5', 0.5],
    ['5.', 5],
    ['-.5e1', -5],
    ['1.e5', 100_000],
    ['2.5', 2.5],
    ['0.1', 0.1],
    ['1e10', '1e+10'],
    ['123456789012345678', '123456789012345678'],
    ['0000000000000000000000001', 1],
  ])('reads %s as %s', (line, value) => {
    expect(Object.is(read(line), value)).toBe(true);
  });

  it.each([
    ['', 'EMPTY_LINE'],
    ['  ', 'EMPTY_LINE'],
    ['1_000', 'INVALID_LITERAL'],
    ['nan', 'NOT_FINITE'],
    ['-Infinity', 'NOT_FINITE'],
    ['1e', 'INVALID_LITERAL'],
    ['e5', 'INVALID_LITERAL'],
    ['.', 'INVALID_LITERAL'],
    ['+', 'INVALID_LITERAL'],
    ['1 2', 'INVALID_LITERAL'],
    ['5\r6', 'INVALID_LITERAL'],
    ['0x10', 'INVALID_LITERAL'],
    ['1e400', 'NOT_FINITE'],
    ['1e200', 'SQUARE_OVERFLOWS'],
  ])('rejects %s as %s', (line, code) => {
    expect(read(line)).toMatchObject({ code });
  });

  it('explains that digit separators are not accepted', () => {
    expect(read('1_000')).toMatchObject({ message: expect.stringContaining('separators') });
  });

  it('reads what it accepts as Number() does', () => {
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const literal = fc
      .tuple(
        fc.constantFrom('', '+', '-'),
        digits(1, 25),
        fc.option(digits(0, 25)),
        fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3))),
      )
      .map(([sign, whole, fraction, exponent]) => {
        const fractionText = fraction === null ? '' : `.${fraction}`;
        const exponentText = exponent === null ? '' : exponent.join('');
        return `${sign}${whole}${fractionText}${exponentText}`;
      });
    fc.assert(
      fc.property(literal, (text) => {
        const reading = read(text);
        const isInteger = /^[+-]?[0-9]+$/.test(text);
        if (isInteger) {
          expect(reading).toEqual(readIntegerLiteral(text));
          return;
        }
        expect(reading).toEqual(readDouble(Number(text)));
      }),
      { numRuns: 3_000 },
    );
  });
});
