import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { literalReviver, parseNumbersArray, parseNumbersObject } from '#commons/json-numbers.ts';
import { ReadLiteral, validateNumbers } from '#commons/numbers.ts';
import { parseJsonObject } from '#commons/request.ts';

/** The numbers of a body as validated, through one reader. */
function validated(body: Record<string, unknown>) {
  const { numbers } = body;
  if (!Array.isArray(numbers)) throw new Error('no numbers array');
  return validateNumbers([...numbers]);
}

describe('Function: parseNumbersObject', () => {
  it('reads big integer literals exactly and exponent literals as doubles', () => {
    // Act
    const body = parseNumbersObject('{"numbers":[3e100, 9007199254740993, 2.5]}');

    // Assess
    expect(validated(body)).toEqual({
      ok: true,
      numbers: ['3e+100', '9007199254740993', 2.5],
    });
  });

  it.each([
    ['the usual shape', ' {\n "numbers" : [ 1 ,\t-2.5e-3 , "7" ]\r\n} '],
    ['a body the scanner leaves to JSON.parse (an escape)', '{"numbers":[1, -2.5e-3, "\\u0037"]}'],
    [
      'a body the scanner leaves to JSON.parse (key order)',
      '{"numbers":[1, -2.5e-3, "7"], "numbers":[1, -2.5e-3, "7"]}',
    ],
  ])('gives the same numbers for %s', (_, text) => {
    expect(validated(parseNumbersObject(text))).toEqual({ ok: true, numbers: [1, -0.0025, '7'] });
  });

  it.each([
    [
      'only integer literals',
      '[123456789012345, -1234567890123456]',
      [123_456_789_012_345, -1_234_567_890_123_456],
    ],
    ['a fraction elsewhere', '[123456789012345, 1.5]', [123_456_789_012_345, 1.5]],
    [
      'the same value as a double literal',
      '[123456789012345, 123456789012345.0]',
      [123_456_789_012_345, '1.23456789012345e+14'],
    ],
  ])('tells integer from double literals of big safe values with %s', (_, array, numbers) => {
    expect(validated(parseNumbersObject(`{"numbers":${array}}`))).toEqual({ ok: true, numbers });
  });

  it('scans the text when a string holds an "e", and leaves the integer literals exact', () => {
    expect(parseNumbersObject('{"numbers":[123456789012345, "1e5", true]}').numbers).toEqual([
      123_456_789_012_345,
      '1e5',
      true,
    ]);
  });

  it('keeps the last of duplicate "numbers" fields, as JSON.parse does', () => {
    expect(parseNumbersObject('{"numbers":[1,1e10],"numbers":[2]}')).toEqual({ numbers: [2] });
    expect(parseNumbersObject('{"numbers":[1],"numbers":"x"}')).toEqual({ numbers: 'x' });
  });

  it('reads a key written with escapes like the plain key', () => {
    const body = parseNumbersObject('{"\\u006eumbers":[9007199254740993]}');
    expect(validated(body)).toEqual({ ok: true, numbers: ['9007199254740993'] });
  });

  it('reads the literals exactly on the JSON.parse path too (an unknown field)', () => {
    const body = parseNumbersObject('{"numbers":[9007199254740993, 1e10],"x":null}');
    expect(body.x).toBeNull();
    expect(validated(body)).toEqual({ ok: true, numbers: ['9007199254740993', '1e+10'] });
  });

  it.each([
    ['[01]'],
    ['[-]'],
    ['[1.]'],
    ['[.5]'],
    ['[+1]'],
    ['[1e]'],
    ['[NaN]'],
    ['[1,]'],
    ['[1 2]'],
    ['["a\nb"]'],
    ['["open]'],
  ])('answers INVALID_JSON for the numbers %s, as JSON.parse would', (array) => {
    expect(() => parseNumbersObject(`{"numbers":${array}}`)).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON' }),
    );
  });

  it('reads every document as JSON.parse with the source reviver does', () => {
    const literal = fc.oneof(
      fc.integer({ min: -1e15, max: 1e15 }).map(String),
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
      fc
        .tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: -340, max: 340 }))
        .map(([mantissa, exponent]) => `${mantissa}e${exponent}`),
      fc.stringMatching(/^-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?$/),
      fc.string({ maxLength: 5 }).map((text) => JSON.stringify(text)),
      fc.constantFrom(
        'null',
        'true',
        'false',
        '[1]',
        '{}',
        '[1,"]",[2e400]]',
        '{"a":"}\\"","b":[]}',
      ),
    );
    const whitespace = fc.constantFrom('', ' ', '\n', '\t', '\r\n ');
    const document = fc
      .array(fc.tuple(whitespace, literal, whitespace), { maxLength: 30 })
      .map((items) => `{"numbers":[${items.map((item) => item.join('')).join(',')}]}`);
    fc.assert(
      fc.property(document, (text) => {
        const viaScanner = validated(parseNumbersObject(text));
        const viaReviver = validated(parseJsonObject(text, literalReviver));
        expect(viaScanner).toEqual(viaReviver);
        // The same array as a bare document (the `json` input format).
        const array = text.slice('{"numbers":'.length, -1);
        const bare = parseNumbersArray(array);
        if (!bare.ok) throw new Error(bare.reason);
        expect(validateNumbers(bare.values)).toEqual(viaReviver);
      }),
      { numRuns: 1_500 },
    );
  });
});

describe('Function: literalReviver', () => {
  it('reads only array elements from their text, not the root or object members', () => {
    expect(JSON.parse('1e10', literalReviver)).toBe(1e10);
    expect(JSON.parse('{"a":12345678901234567890,"b":[1e10]}', literalReviver)).toEqual({
      a: 12_345_678_901_234_567_000,
      b: [new ReadLiteral('1e+10')],
    });
  });

  it('leaves plain numbers and other values as JSON.parse gives them', () => {
    expect(JSON.parse('[2.5, 12, "x", null, 94906265]', literalReviver)).toEqual([
      2.5,
      12,
      'x',
      null,
      94_906_265,
    ]);
  });

  it('wraps a literal that needs its source in a ReadLiteral', () => {
    const [big] = JSON.parse('[1180591620717411303424]', literalReviver) as unknown[];
    expect(big).toEqual(new ReadLiteral('1180591620717411303424'));
  });
});

describe('Function: parseNumbersArray', () => {
  it('reads a bare JSON array by the grammar', () => {
    const parsed = parseNumbersArray(' [1, 9007199254740993, 2.5] ');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(validateNumbers(parsed.values)).toEqual({
      ok: true,
      numbers: [1, '9007199254740993', 2.5],
    });
  });

  it('falls back to JSON.parse for other elements and keeps them for validation', () => {
    const parsed = parseNumbersArray('[1, null]');
    expect(parsed).toEqual({ ok: true, values: [1, null] });
  });

  it.each([
    ['{"numbers":[1]}', 'the JSON document is not an array'],
    ['[1,', expect.stringContaining('JSON')],
  ])('says why %s is not a numbers array', (text, reason) => {
    expect(parseNumbersArray(text)).toEqual({ ok: false, reason });
  });
});
