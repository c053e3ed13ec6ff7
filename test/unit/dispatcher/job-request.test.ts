import { describe, expect, it } from 'vitest';
import { HttpError } from '#commons/errors.ts';
import { MAX_NUMBERS_PER_JOB, MAX_REPORTED_ERRORS } from '#commons/limits.ts';
import { squareNumber } from '#commons/numbers.ts';
import { parseJobRequest } from '../../../functions/dispatcher/job-request.ts';

function rejection(text: string): HttpError {
  try {
    parseJobRequest(text);
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected parseJobRequest to throw');
}

describe('Function: parseJobRequest', () => {
  it('returns the numbers of a valid body, as given', () => {
    expect(parseJobRequest('{"numbers":[1,-2.5,"123456789012345678901234567890"]}')).toEqual([
      1,
      -2.5,
      '123456789012345678901234567890',
    ]);
  });

  it('reads integer literals exactly and literals with an exponent as doubles', () => {
    // Act
    const numbers = parseJobRequest('{"numbers":[3e100, 9007199254740993, 2.5]}');

    // Assess
    expect(numbers).toEqual(['3e+100', '9007199254740993', 2.5]);
    expect(numbers.map(squareNumber)).toEqual([9e200, '81129638414606699710187514626049', 6.25]);
  });

  it('reads big integer literals exactly when the body has other fields too', () => {
    expect(() => parseJobRequest('{"numbers":[1180591620717411303424],"extra":1}')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FIELD' }),
    );
  });

  it.each([
    ['not JSON', '{"numbers": [1, 2', 400, 'INVALID_JSON'],
    ['an array body', '[1,2,3]', 400, 'BODY_NOT_OBJECT'],
    ['a null body', 'null', 400, 'BODY_NOT_OBJECT'],
    ['no numbers field', '{}', 400, 'NUMBERS_MISSING'],
    ['numbers as a string', '{"numbers":"1,2"}', 400, 'NUMBERS_NOT_ARRAY'],
    ['numbers as null', '{"numbers":null}', 400, 'NUMBERS_NOT_ARRAY'],
    ['numbers as an object', '{"numbers":{"0":1}}', 400, 'NUMBERS_NOT_ARRAY'],
    ['empty numbers', '{"numbers":[]}', 400, 'NUMBERS_EMPTY'],
    ['a big number body', '1.7976931348623141e+308', 400, 'BODY_NOT_OBJECT'],
    ['a big integer body', '12345678901234567890', 400, 'BODY_NOT_OBJECT'],
    ['numbers as a big number', '{"numbers":1e10}', 400, 'NUMBERS_NOT_ARRAY'],
  ])('rejects %s with %i %s', (_, text, statusCode, code) => {
    expect(rejection(text)).toMatchObject({ statusCode, code });
  });

  it('names an unknown field', () => {
    const error = rejection('{"numbers":[1],"callback":"http://x"}');
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'UNKNOWN_FIELD',
      message: 'unknown field "callback": the body accepts only "numbers"',
      details: { fields: ['callback'], unknownFieldCount: 1 },
    });
  });

  it('reports a misspelled numbers field as unknown, and __proto__ too', () => {
    expect(rejection('{"number":[1]}')).toMatchObject({
      code: 'UNKNOWN_FIELD',
      details: { fields: ['number'] },
    });
    expect(rejection('{"numbers":[1],"__proto__":{"x":1}}')).toMatchObject({
      code: 'UNKNOWN_FIELD',
      details: { fields: ['__proto__'] },
    });
  });

  it('bounds the unknown fields it echoes and their length', () => {
    const fields = Array.from({ length: 50 }, (_, index) => `"${'k'.repeat(100)}${index}":0`);
    const error = rejection(`{${fields.join(',')}}`);
    const details = error.details as { fields: string[]; unknownFieldCount: number };
    expect(details.unknownFieldCount).toBe(50);
    expect(details.fields).toHaveLength(10);
    expect(details.fields[0]).toBe(`${'k'.repeat(64)}…`);
  });

  it('rejects more than MAX_NUMBERS_PER_JOB numbers with 413', () => {
    const text = `{"numbers":[${'1,'.repeat(MAX_NUMBERS_PER_JOB)}1]}`;
    expect(rejection(text)).toMatchObject({
      statusCode: 413,
      code: 'TOO_MANY_NUMBERS',
      details: { count: MAX_NUMBERS_PER_JOB + 1, maxNumbers: MAX_NUMBERS_PER_JOB },
    });
  });

  it('lists every bad element with its index and code', () => {
    const body = `{"numbers":[1, 1e400, 1e200, "12.5", [3], null, true, {"n":1}, "${'9'.repeat(10_001)}", "-7"]}`;
    const error = rejection(body);
    expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_NUMBERS' });
    const details = error.details as {
      invalidCount: number;
      errors: { index: number; code: string; message: string }[];
    };
    expect(details.invalidCount).toBe(8);
    expect(details.errors.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: 'NOT_FINITE' },
      { index: 2, code: 'SQUARE_OVERFLOWS' },
      { index: 3, code: 'INVALID_INTEGER_STRING' },
      { index: 4, code: 'NESTED_ARRAY' },
      { index: 5, code: 'NOT_A_NUMBER' },
      { index: 6, code: 'NOT_A_NUMBER' },
      { index: 7, code: 'NOT_A_NUMBER' },
      { index: 8, code: 'TOO_MANY_DIGITS' },
    ]);
    expect(details.errors[0]?.message).toContain('overflows a double');
    expect(error.message).toBe(
      `8 elements of "numbers" cannot be squared (first at index 1: ${details.errors[0]?.message})`,
    );
  });

  it('caps the listed elements and still counts them all', () => {
    const count = MAX_REPORTED_ERRORS + 5;
    const error = rejection(`{"numbers":[${Array(count).fill('"x"').join(',')}]}`);
    const details = error.details as { invalidCount: number; errors: unknown[] };
    expect(details.invalidCount).toBe(count);
    expect(details.errors).toHaveLength(MAX_REPORTED_ERRORS);
  });
});
