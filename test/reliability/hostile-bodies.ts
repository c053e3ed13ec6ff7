/**
 * Hostile `POST /jobs` requests for the fuzz test, as fast-check arbitraries, and an
 * independent statement of the API contract (`wouldCreateJob`) that every generated request
 * is checked against: a generator that produced a valid request by accident would otherwise
 * make the test wrong, not the API.
 *
 * The contract, restated from the README and limits.ts without importing the implementation:
 * a body of at most 5,500,000 bytes as received (base64 text counted when the content type
 * is `application/gzip`), at most 32 MiB once gunzipped, valid UTF-8, a JSON object with the
 * single field `numbers`, an array of 1 to 1,000,000 elements, each a finite JSON number
 * whose square is finite (an integer one safe), or a decimal integer string (optional sign)
 * of at most 10,000 digits; an `Idempotency-Key` header, when present, of 1 to 128
 * characters of `[A-Za-z0-9_.:-]`.
 */
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';

export interface HostileCase {
  /** What kind of hostility it is (the report groups by it). */
  readonly category: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /** The error codes the API may answer with; undefined: any client error. */
  readonly codes?: readonly string[];
}

const MAX_REQUEST_BODY_BYTES = 5_500_000;
const MAX_DECODED_BODY_BYTES = 32 * 1024 * 1024;
const MAX_NUMBERS = 1_000_000;
const MAX_DIGITS = 10_000;
const INTEGER_STRING = /^[+-]?[0-9]+$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
/** API Gateway's own payload limit (and Lambda's 6 MB event): the gateway answers past it. */
export const GATEWAY_LIMIT_BYTES = 6 * 1024 * 1024 - 64 * 1024;

function header(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}

/**
 * Whether one element of `numbers` can be squared, by the contract (Python's grammar): an
 * integer literal of at most MAX_DIGITS digits is exact, any other number literal is a double
 * whose square must be finite. `source` is the literal's text (JSON.stringify's by default).
 */
export function isValidElement(value: unknown, source?: string): boolean {
  if (value instanceof NumberWithSource) return isValidElement(value.value, value.source);
  if (typeof value === 'number') {
    const text = source ?? JSON.stringify(value);
    if (/^-?[0-9]+$/.test(text)) return text.replace(/^-/, '').length <= MAX_DIGITS;
    return Number.isFinite(value) && Number.isFinite(value * value);
  }
  if (typeof value === 'string') {
    return INTEGER_STRING.test(value) && value.replace(/^[+-]/, '').length <= MAX_DIGITS;
  }
  return false;
}

/** An array element of a parsed body with the text of its literal. */
class NumberWithSource {
  readonly value: number;
  readonly source: string;

  constructor(value: number, source: string) {
    this.value = value;
    this.source = source;
  }
}

/** JSON.parse's reviver keeping the text of each number in an array (Node ≥ 21 gives it). */
function keepSources(
  this: unknown,
  _key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  if (typeof value !== 'number' || !Array.isArray(this) || context?.source === undefined) {
    return value;
  }
  return new NumberWithSource(value, context.source);
}

/** Whether the contract says this request creates a job (every fuzz case must not). */
export function wouldCreateJob(request: HostileCase): boolean {
  const key = header(request.headers, 'idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) return false;
  let bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
  const contentEncoding = (header(request.headers, 'content-encoding') ?? '').trim().toLowerCase();
  try {
    if (contentEncoding === 'gzip') bytes = gunzipSync(bytes, { maxOutputLength: 10 << 20 });
    else if (contentEncoding === 'deflate')
      bytes = inflateSync(bytes, { maxOutputLength: 10 << 20 });
    else if (contentEncoding !== '' && contentEncoding !== 'identity') return false;
  } catch {
    return false;
  }
  const contentType = (header(request.headers, 'content-type') ?? '').split(';')[0]?.trim();
  let text: string;
  if (contentType?.toLowerCase() === 'application/gzip') {
    if (Math.ceil(bytes.length / 3) * 4 > MAX_REQUEST_BODY_BYTES) return false;
    try {
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
        bytes = gunzipSync(bytes, { maxOutputLength: MAX_DECODED_BODY_BYTES });
      }
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return false;
    }
  } else {
    text = bytes.toString('utf8');
    if (Buffer.byteLength(text) > MAX_REQUEST_BODY_BYTES) return false;
    if (text.startsWith('\uFEFF')) text = text.slice(1);
  }
  if (text.trim() === '') return false;
  let body: unknown;
  try {
    body = JSON.parse(text, keepSources);
  } catch {
    return false;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'numbers') return false;
  const { numbers } = body as { numbers: unknown };
  return (
    Array.isArray(numbers) &&
    numbers.length >= 1 &&
    numbers.length <= MAX_NUMBERS &&
    numbers.every((element) => isValidElement(element))
  );
}

// ------------------------------------------------------------------------- building blocks

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** JSON text of one valid element. */
const validToken: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.maxSafeInteger().map(String),
  fc
    .double({ noNaN: true, noDefaultInfinity: true, min: -1e150, max: 1e150 })
    .filter((value) => !Number.isInteger(value) || Number.isSafeInteger(value))
    .map((value) => JSON.stringify(value)),
  fc.stringMatching(/^[+-]?[0-9]{1,40}$/).map((value) => JSON.stringify(value)),
);

const validBody: fc.Arbitrary<string> = fc
  .array(validToken, { minLength: 1, maxLength: 20 })
  .map((tokens) => `{"numbers":[${tokens.join(',')}]}`);

/** Strings that look like numbers to someone, and are not decimal integer strings. */
export const NAN_LIKE = [
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  '+Infinity',
  'inf',
  '1e3',
  '1E3',
  '0x1f',
  '0b101',
  '0o17',
  '1_000',
  ' 1',
  '1 ',
  '1\n',
  '\t7',
  '',
  '+',
  '-',
  '--1',
  '+-1',
  '1.0',
  '1.',
  '.5',
  '12e',
  '0e0',
  '1,000',
  '١٢٣',
  '۴۵۶',
  '१२३',
  '１２３',
  '𝟏𝟐𝟑',
  '²',
  '½',
  '−5',
  '＋5',
  '5\u200b',
  '\u202e123',
  '1\u0301',
  '\uFEFF1',
  'null',
  'undefined',
  'true',
  '1n',
  '0n',
  '123456789012345678901234567890n',
];

/** JSON text of an element that cannot be squared (some are not even JSON). */
const hostileToken: fc.Arbitrary<{ token: string; json: boolean }> = fc.oneof(
  fc.constantFrom(...NAN_LIKE).map((text) => ({ token: JSON.stringify(text), json: true })),
  fc
    .string({ unit: 'grapheme', maxLength: 24 })
    .filter((text) => !INTEGER_STRING.test(text))
    .map((text) => ({ token: JSON.stringify(text), json: true })),
  fc
    .string({ unit: 'binary', maxLength: 12 })
    .filter((text) => !INTEGER_STRING.test(text))
    .map((text) => ({ token: JSON.stringify(text), json: true })),
  fc
    .constantFrom(
      '1e400',
      '-1e400',
      '1e200',
      '-1.7976931348623157e308',
      `1${'0'.repeat(10_000)}`,
      'true',
      'false',
      'null',
      '{}',
      '[]',
      '[1]',
      '[[2]]',
      '{"n":1}',
      '{"numbers":[1]}',
    )
    .map((token) => ({ token, json: true })),
  fc
    .constantFrom(
      'NaN',
      'Infinity',
      '-Infinity',
      '01',
      '+1',
      '.5',
      '0x10',
      "'1'",
      '1n',
      'undefined',
    )
    .map((token) => ({ token, json: false })),
  fc.integer({ min: MAX_DIGITS + 1, max: MAX_DIGITS + 200 }).chain((digits) =>
    fc.constantFrom('', '-', '+').map((sign) => ({
      token: JSON.stringify(`${sign}${'7'.repeat(digits)}`),
      json: true,
    })),
  ),
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((value) => !isValidElement(value))
    .map((value) => ({ token: JSON.stringify(value), json: true })),
);

function withJsonHeaders(category: string, codes?: readonly string[]) {
  return (body: string): HostileCase => ({
    category,
    headers: JSON_HEADERS,
    body,
    ...(codes === undefined ? {} : { codes }),
  });
}

// ---------------------------------------------------------------------------- categories

/** Valid numbers with one or more elements that cannot be squared, anywhere. */
const badElements = fc
  .tuple(
    fc.array(validToken, { maxLength: 30 }),
    fc.array(hostileToken, { minLength: 1, maxLength: 3 }),
    fc.nat(),
  )
  .map(([valid, hostile, at]) => {
    const tokens = [...valid];
    for (const [index, bad] of hostile.entries()) {
      tokens.splice((at + index * 7) % (tokens.length + 1), 0, bad.token);
    }
    const json = hostile.every((bad) => bad.json);
    return withJsonHeaders(
      'element that cannot be squared',
      json ? ['INVALID_NUMBERS'] : ['INVALID_JSON'],
    )(`{"numbers":[${tokens.join(',')}]}`);
  });

/** `numbers` of the wrong type. */
const wrongType = fc
  .jsonValue({ maxDepth: 4 })
  .filter((value) => !Array.isArray(value))
  .map((value) =>
    withJsonHeaders('numbers of a wrong type', ['NUMBERS_NOT_ARRAY'])(
      `{"numbers":${JSON.stringify(value)}}`,
    ),
  );

/** A body that is JSON but not an object. */
const notObject = fc
  .jsonValue({ maxDepth: 4 })
  .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
  .map((value) =>
    withJsonHeaders('body not an object', ['BODY_NOT_OBJECT'])(JSON.stringify(value)),
  );

const fieldName = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'Numbers',
    'numbers ',
    'nümbers',
    'NUMBERS',
    '',
  ),
);

/** The numbers and an extra field. */
const extraField = fc
  .tuple(
    validBody,
    fieldName.filter((name) => name !== 'numbers'),
    fc.jsonValue({ maxDepth: 3 }),
    fc.boolean(),
  )
  .map(([body, name, value, first]) => {
    const extra = `${JSON.stringify(name)}:${JSON.stringify(value)}`;
    const text = first ? `{${extra},${body.slice(1)}` : `${body.slice(0, -1)},${extra}}`;
    return withJsonHeaders('unknown field', ['UNKNOWN_FIELD'])(text);
  });

/** No numbers, or none in them. */
const missingOrEmpty = fc.oneof(
  fc
    .dictionary(
      fieldName.filter((name) => name !== 'numbers'),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    )
    .map((object) =>
      withJsonHeaders('numbers missing', ['NUMBERS_MISSING', 'UNKNOWN_FIELD'])(
        JSON.stringify(object),
      ),
    ),
  fc
    .constantFrom('{"numbers":[]}', '{ "numbers" : [ ] }', '{"numbers":[]}\n')
    .map(withJsonHeaders('numbers empty', ['NUMBERS_EMPTY'])),
  fc
    .constantFrom('', ' ', '\n\t ', '\uFEFF', '\uFEFF  ')
    .map(withJsonHeaders('empty body', ['EMPTY_BODY'])),
);

/** Text that is not JSON: random text, cut JSON, JSON-like mistakes. */
const malformed = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }).map(withJsonHeaders('not JSON')),
  fc.string({ unit: 'binary', maxLength: 60 }).map(withJsonHeaders('not JSON')),
  fc
    .tuple(validBody, fc.nat())
    .map(([body, cut]) => body.slice(0, 1 + (cut % (body.length - 1))))
    .map(withJsonHeaders('truncated JSON', ['INVALID_JSON'])),
  fc
    .constantFrom(
      '{"numbers":[1,2,],}',
      "{'numbers':[1]}",
      '{numbers:[1]}',
      '{"numbers":[1]} // done',
      '/* c */ {"numbers":[1]}',
      '{"numbers":[1]}{"numbers":[2]}',
      '{"numbers":[1]',
      '{"numbers":[NaN]}',
      '{"numbers":[Infinity]}',
      '{"numbers":[1,,2]}',
      '{"numbers":[01]}',
      '{"numbers":[1]} x',
      '{"numbers":[1e]}',
      '{"numbers":["1\u0000"]}',
      '{"numbers":["\\ud800"]}',
      '{"numbers":["\\u0031\\u0032x"]}',
      '{"numbers" [1]}',
      'numbers=1,2,3',
      '<numbers><n>1</n></numbers>',
      'null',
      '[1,2,3]',
    )
    .map(withJsonHeaders('JSON-like mistakes')),
);

/** Deep nesting: in numbers, beside them, unclosed. */
const deepNesting = fc
  .integer({ min: 2, max: 20_000 })
  .chain((depth) =>
    fc.constantFrom(
      withJsonHeaders('deep nesting', ['INVALID_NUMBERS', 'INVALID_JSON'])(
        `{"numbers":[${'['.repeat(depth)}1${']'.repeat(depth)}]}`,
      ),
      withJsonHeaders('deep nesting', ['NUMBERS_NOT_ARRAY', 'INVALID_JSON'])(
        `{"numbers":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
      ),
      withJsonHeaders('deep nesting', ['UNKNOWN_FIELD', 'INVALID_JSON'])(
        `{"numbers":[1],"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      ),
      withJsonHeaders('deep nesting', ['INVALID_JSON'])(`{"numbers":${'['.repeat(depth)}`),
    ),
  );

/** Long strings: too many digits, long garbage, long field names. */
const hugeStrings = fc.oneof(
  fc
    .tuple(fc.integer({ min: MAX_DIGITS + 1, max: 3 * MAX_DIGITS }), fc.constantFrom('', '-', '+'))
    .map(([digits, sign]) =>
      withJsonHeaders('integer string past 10,000 digits', ['INVALID_NUMBERS'])(
        `{"numbers":[1,"${sign}${'9'.repeat(digits)}",2]}`,
      ),
    ),
  fc
    .tuple(
      fc.integer({ min: 1_000, max: 200_000 }),
      fc.constantFrom('x', 'é', '€', '😀', '\\u0000', '\\"', '\\ud800'),
    )
    .map(([length, unit]) =>
      withJsonHeaders('huge string element', ['INVALID_NUMBERS'])(
        `{"numbers":["${unit.repeat(Math.ceil(length / unit.length))}"]}`,
      ),
    ),
  fc
    .integer({ min: 1_000, max: 200_000 })
    .map((length) =>
      withJsonHeaders('huge field name', ['UNKNOWN_FIELD'])(
        `{"numbers":[1],"${'k'.repeat(length)}":1}`,
      ),
    ),
);

/** Unicode that looks like digits, signs or numbers. */
const unicodeNumbers = fc
  .array(
    fc.oneof(
      fc.constantFrom(...NAN_LIKE.filter((text) => /[^\x20-\x7e]/.test(text))),
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
        .filter((text) => [...text].some((character) => (character.codePointAt(0) ?? 0) > 0x7f)),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((texts) =>
    withJsonHeaders('unicode look-alike numbers', ['INVALID_NUMBERS'])(
      JSON.stringify({ numbers: [1, ...texts] }),
    ),
  );

/** Hostile bytes and encodings: application/gzip bodies that are not what they claim. */
const encodings = fc.oneof(
  // gzip of a hostile body: inflated by the dispatcher, then refused like the body itself
  fc.oneof(badElements, wrongType, malformed).map((inner) => ({
    ...inner,
    category: 'gzip of a hostile body',
    headers: { 'Content-Type': 'application/gzip' },
    body: gzipSync(Buffer.isBuffer(inner.body) ? inner.body : Buffer.from(inner.body)),
  })),
  // starts like gzip, is not
  fc.uint8Array({ minLength: 0, maxLength: 200 }).map(
    (tail): HostileCase => ({
      category: 'corrupt gzip',
      headers: { 'Content-Type': 'application/gzip' },
      body: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(tail)]),
      codes: ['INVALID_GZIP'],
    }),
  ),
  // binary that is not UTF-8
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map(
    (bytes): HostileCase => ({
      category: 'binary body',
      headers: { 'Content-Type': 'application/gzip' },
      body: Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from(bytes)]),
      codes: ['INVALID_ENCODING'],
    }),
  ),
  // a gzip stream cut short
  validBody.map((body): HostileCase => {
    const zipped = gzipSync(Buffer.from(body));
    return {
      category: 'truncated gzip',
      headers: { 'Content-Type': 'application/gzip' },
      body: zipped.subarray(0, Math.max(3, zipped.length - 9)),
      codes: ['INVALID_GZIP'],
    };
  }),
  // other content types with a hostile body: the API reads JSON whatever the label
  fc
    .tuple(
      badElements,
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        '',
      ),
    )
    .map(
      ([inner, type]): HostileCase => ({
        ...inner,
        category: 'odd content type',
        headers: type === '' ? {} : { 'Content-Type': type },
      }),
    ),
);

const hostileKey = fc.oneof(
  fc.constant(''),
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 140 })
    .filter((key) => !IDEMPOTENCY_KEY.test(key)),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{129,200}$/),
  fc.constantFrom(' ', 'key with spaces', 'a/b', 'ключ', '🔑', 'a\tb', '"quoted"', 'x'.repeat(129)),
);

/** A valid body under a malformed Idempotency-Key: refused, and no job is created. */
const badIdempotencyKey = fc.tuple(validBody, hostileKey).map(
  ([body, key]): HostileCase => ({
    category: 'malformed Idempotency-Key',
    headers: { ...JSON_HEADERS, 'Idempotency-Key': key },
    body,
    codes: ['INVALID_IDEMPOTENCY_KEY'],
  }),
);

/** A well-formed Idempotency-Key on a hostile body: refused before the key is stored. */
const keyedHostileBody = fc
  .tuple(
    fc.oneof(badElements, wrongType, malformed, extraField),
    fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/),
  )
  .map(
    ([inner, key]): HostileCase => ({
      ...inner,
      category: 'hostile body with an Idempotency-Key',
      headers: { ...inner.headers, 'Idempotency-Key': key },
    }),
  );

/** Every category and how many of the fuzz cases it gets. */
export const CATEGORIES: readonly {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<HostileCase>;
  readonly runs: number;
}[] = [
  { name: 'elements that cannot be squared', arbitrary: badElements, runs: 3_000 },
  { name: 'numbers of a wrong type', arbitrary: wrongType, runs: 1_000 },
  { name: 'body not an object', arbitrary: notObject, runs: 700 },
  { name: 'unknown fields', arbitrary: extraField, runs: 1_000 },
  { name: 'numbers missing or empty, empty body', arbitrary: missingOrEmpty, runs: 300 },
  { name: 'not JSON', arbitrary: malformed, runs: 1_800 },
  { name: 'deep nesting', arbitrary: deepNesting, runs: 500 },
  { name: 'huge strings', arbitrary: hugeStrings, runs: 300 },
  { name: 'unicode look-alike numbers', arbitrary: unicodeNumbers, runs: 700 },
  { name: 'hostile encodings', arbitrary: encodings, runs: 900 },
  { name: 'malformed Idempotency-Key', arbitrary: badIdempotencyKey, runs: 800 },
  { name: 'hostile body with an Idempotency-Key', arbitrary: keyedHostileBody, runs: 500 },
].map((category) => ({
  ...category,
  // Whatever a generator produced, only requests the contract refuses are kept.
  arbitrary: category.arbitrary.filter((request) => !wouldCreateJob(request)),
}));

/** Every category at once (the HTTP sample). */
export const anyHostileCase: fc.Arbitrary<HostileCase> = fc.oneof(
  ...CATEGORIES.map((category) => category.arbitrary),
);

// ------------------------------------------------------------------------------ limits

function padded(prefix: string, suffix: string, totalBytes: number): string {
  return `${prefix}${' '.repeat(totalBytes - Buffer.byteLength(prefix) - Buffer.byteLength(suffix))}${suffix}`;
}

/** Requests at and just past each limit (built once; some are megabytes). */
export function limitCases(): HostileCase[] {
  const numbersText = (count: number, last: string) =>
    `{"numbers":[${'1,'.repeat(count - 1)}${last}]}`;
  const tooMany = Buffer.from(numbersText(MAX_NUMBERS + 1, '1'));
  return [
    {
      category: 'count at the limit (1,000,000), one element bad',
      headers: JSON_HEADERS,
      body: numbersText(MAX_NUMBERS, '"x"'),
      codes: ['INVALID_NUMBERS'],
    },
    {
      category: 'count past the limit (1,000,001)',
      headers: JSON_HEADERS,
      body: tooMany,
      codes: ['TOO_MANY_NUMBERS'],
    },
    {
      category: 'count far past the limit (2,500,000, gzip)',
      headers: { 'Content-Type': 'application/gzip' },
      body: gzipSync(Buffer.from(numbersText(2_500_000, '1'))),
      codes: ['TOO_MANY_NUMBERS'],
    },
    {
      category: 'digits at the limit (10,000), another element bad',
      headers: JSON_HEADERS,
      body: `{"numbers":["-${'9'.repeat(MAX_DIGITS)}","${'1'.repeat(MAX_DIGITS)}",true]}`,
      codes: ['INVALID_NUMBERS'],
    },
    {
      category: 'digits past the limit (10,001)',
      headers: JSON_HEADERS,
      body: `{"numbers":["${'1'.repeat(MAX_DIGITS + 1)}"]}`,
      codes: ['INVALID_NUMBERS'],
    },
    {
      category: 'signed digits past the limit (+10,001)',
      headers: JSON_HEADERS,
      body: `{"numbers":["+${'1'.repeat(MAX_DIGITS + 1)}"]}`,
      codes: ['INVALID_NUMBERS'],
    },
    {
      category: 'body bytes at the limit (5,500,000), not an array',
      headers: JSON_HEADERS,
      body: padded('{"numbers":', '"x"}', MAX_REQUEST_BODY_BYTES),
      codes: ['NUMBERS_NOT_ARRAY'],
    },
    {
      category: 'body bytes past the limit (5,500,001)',
      headers: JSON_HEADERS,
      body: padded('{"numbers":', '[1]}', MAX_REQUEST_BODY_BYTES + 1),
      codes: ['BODY_TOO_LARGE'],
    },
    {
      category: 'body bytes past the limit in multi-byte UTF-8',
      headers: JSON_HEADERS,
      body: `{"numbers":["${'é'.repeat(2_750_000)}"]}`,
      codes: ['BODY_TOO_LARGE'],
    },
    {
      category: 'gzip inflating to the limit (32 MiB), not an array',
      headers: { 'Content-Type': 'application/gzip' },
      body: gzipSync(Buffer.from(padded('{"numbers":', '"x"}', MAX_DECODED_BODY_BYTES))),
      codes: ['NUMBERS_NOT_ARRAY'],
    },
    {
      category: 'gzip inflating past the limit (32 MiB + 1)',
      headers: { 'Content-Type': 'application/gzip' },
      body: gzipSync(Buffer.from(padded('{"numbers":', '[1]}', MAX_DECODED_BODY_BYTES + 1))),
      codes: ['DECODED_BODY_TOO_LARGE'],
    },
    {
      category: 'gzip bomb (1 GiB of zeros)',
      headers: { 'Content-Type': 'application/gzip' },
      body: gzipBomb(),
      codes: ['DECODED_BODY_TOO_LARGE'],
    },
    {
      category: 'gzip whose base64 passes the body limit',
      headers: { 'Content-Type': 'application/gzip' },
      // Incompressible bytes: 4,200,000 of them are 5,600,000 characters of base64.
      body: Buffer.concat([Buffer.from([0x1f, 0x8b]), pseudoRandomBytes(4_200_000)]),
      codes: ['BODY_TOO_LARGE'],
    },
    {
      category: 'nesting 1,000,000 deep',
      headers: JSON_HEADERS,
      body: `{"numbers":[${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}]}`,
      codes: ['INVALID_NUMBERS', 'INVALID_JSON'],
    },
    {
      category: 'Idempotency-Key past its limit (129), valid body',
      headers: { ...JSON_HEADERS, 'Idempotency-Key': 'k'.repeat(129) },
      body: '{"numbers":[1,2,3]}',
      codes: ['INVALID_IDEMPOTENCY_KEY'],
    },
    {
      category: 'one million bad elements (errors listed up to the limit)',
      headers: JSON_HEADERS,
      body: `{"numbers":[${'"x",'.repeat(MAX_NUMBERS - 1)}"x"]}`,
      codes: ['INVALID_NUMBERS'],
    },
  ];
}

/** Requests the gateway itself refuses (past the REST API's and Lambda's payload limits). */
export function gatewayLimitCases(): HostileCase[] {
  return [
    {
      category: 'event past Lambda 6 MB (body 6,000,000 bytes)',
      headers: JSON_HEADERS,
      body: padded('{"numbers":', '[1]}', 6_300_000),
    },
    {
      category: 'body past API Gateway 10 MB',
      headers: JSON_HEADERS,
      body: padded('{"numbers":', '[1]}', 10 * 1024 * 1024 + 1),
    },
    {
      category: 'Content-Encoding: gzip that is not gzip',
      headers: { ...JSON_HEADERS, 'Content-Encoding': 'gzip' },
      body: '{"numbers":[1,2,3]}',
    },
    {
      category: 'Content-Encoding: br (unsupported)',
      headers: { ...JSON_HEADERS, 'Content-Encoding': 'br' },
      body: '{"numbers":[1,2,3]}',
    },
  ];
}

function pseudoRandomBytes(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = 0x9e3779b9;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/** 1 GiB of zeros gzipped (about 1 MB), built by repeating one compressed member's worth. */
function gzipBomb(): Buffer {
  // Concatenated gzip members inflate to their concatenation: 64 members of 16 MiB each.
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: 64 }, () => member));
}
