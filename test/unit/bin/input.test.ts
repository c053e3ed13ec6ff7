/** How the CLI reads numbers: tokens, JSON files, text and ranges. */
import { describe, expect, it } from 'vitest';
import {
  parseJsonNumbers,
  parseNumbersText,
  parseNumberToken,
  parseRange,
  UsageError,
} from '../../../bin/input.ts';

describe('Function: parseNumberToken', () => {
  it('keeps integers beyond 2^53 as their digits and floats as numbers', () => {
    expect(parseNumberToken('42')).toBe(42);
    expect(parseNumberToken('-7')).toBe(-7);
    expect(parseNumberToken('+12345678901234567890')).toBe('12345678901234567890');
    expect(parseNumberToken('.5')).toBe(0.5);
  });

  it('sends an integral literal with a fraction or an exponent as a double literal', () => {
    // The API reads `1e10` as Python's float (squared to 1e+20), but 10000000000 as an int.
    expect(JSON.stringify([parseNumberToken('2.5e3'), parseNumberToken('1e10')])).toBe(
      '[2.5e+3,1e+10]',
    );
    expect(JSON.stringify([parseNumberToken('4.0'), parseNumberToken('-3E2')])).toBe(
      '[4e+0,-3e+2]',
    );
    expect(JSON.parse(JSON.stringify([parseNumberToken('1e10')]))).toEqual([1e10]);
  });

  it('passes anything else through for the API to name', () => {
    expect(parseNumberToken('two')).toBe('two');
    expect(parseNumberToken('NaN')).toBe('NaN');
  });
});

describe('Function: parseJsonNumbers', () => {
  it('keeps the source digits of integers that a double cannot hold', () => {
    expect(parseJsonNumbers('[1, 12345678901234567890, 1.5, "7"]', 'f')).toEqual([
      1,
      '12345678901234567890',
      1.5,
      '7',
    ]);
    expect(parseJsonNumbers('{"numbers":[3]}', 'f')).toEqual([3]);
  });

  it('keeps an integral double literal a double literal when it is sent again', () => {
    const numbers = parseJsonNumbers('[1e10, 2.0, 3e100, 10000000000, -0.5]', 'f');
    expect(JSON.stringify(numbers)).toBe('[1e+10,2e+0,3e+100,10000000000,-0.5]');
  });

  it('says what is wrong with the file', () => {
    expect(() => parseJsonNumbers('[1,', 'numbers.json')).toThrow(UsageError);
    expect(() => parseJsonNumbers('{"a":1}', 'numbers.json')).toThrow(
      'numbers.json must hold a JSON array',
    );
  });
});

describe('Function: parseNumbersText', () => {
  it('reads one number per line, skipping blanks and comments', () => {
    expect(parseNumbersText('1\n\n# note\n-2\r\n3.5\n', 'stdin')).toEqual([1, -2, 3.5]);
  });
});

describe('Function: parseRange', () => {
  it('expands an inclusive range, negative ends included', () => {
    expect(parseRange('-2..2', 10)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('rejects malformed, empty and oversized ranges', () => {
    expect(() => parseRange('1-5', 10)).toThrow('--range must look like 1..100');
    expect(() => parseRange('5..1', 10)).toThrow('is empty');
    expect(() => parseRange('1..11', 10)).toThrow('has 11 numbers; a job takes at most 10');
  });
});
