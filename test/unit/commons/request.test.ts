import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError } from '#commons/errors.ts';
import {
  decodeRequestBody,
  headerValue,
  parseIdempotencyKey,
  parseJobIdParameter,
  parseJsonObject,
} from '#commons/request.ts';

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('Function: decodeRequestBody', () => {
  it('returns a plain text body as it is', () => {
    expect(decodeRequestBody({ body: '{"numbers":[1]}', isBase64Encoded: false })).toBe(
      '{"numbers":[1]}',
    );
  });

  it('decodes a base64 body and drops a byte order mark', () => {
    const body = Buffer.from('\uFEFF{"numbers":[2]}').toString('base64');
    expect(decodeRequestBody({ body, isBase64Encoded: true })).toBe('{"numbers":[2]}');
  });

  it('gunzips a base64 body that starts with the gzip magic number', () => {
    const body = gzipSync(Buffer.from('{"numbers":["123"]}')).toString('base64');
    expect(decodeRequestBody({ body, isBase64Encoded: true })).toBe('{"numbers":["123"]}');
  });

  it.each([[null], [''], ['   \n ']])('throws EMPTY_BODY for %o', (body) => {
    const error = caught(() => decodeRequestBody({ body, isBase64Encoded: false }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'EMPTY_BODY' });
  });

  it('throws BODY_TOO_LARGE (413) when the body as received is over the limit', () => {
    const error = caught(() =>
      decodeRequestBody(
        { body: 'x'.repeat(101), isBase64Encoded: false },
        { maxRequestBytes: 100, maxDecodedBytes: 1_000 },
      ),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({
      statusCode: 413,
      code: 'BODY_TOO_LARGE',
      details: { receivedBytes: 101, maxRequestBytes: 100 },
    });
  });

  it('counts UTF-8 bytes, not characters, of a text body', () => {
    const error = caught(() =>
      decodeRequestBody(
        { body: 'é'.repeat(60), isBase64Encoded: false },
        { maxRequestBytes: 100, maxDecodedBytes: 1_000 },
      ),
    );
    expect(error).toMatchObject({ code: 'BODY_TOO_LARGE', details: { receivedBytes: 120 } });
  });

  it('throws DECODED_BODY_TOO_LARGE (413) for a gzip bomb, without inflating it whole', () => {
    const bomb = gzipSync(Buffer.alloc(50_000_000, 0x20)).toString('base64');
    expect(bomb.length).toBeLessThan(100_000);
    const error = caught(() =>
      decodeRequestBody(
        { body: bomb, isBase64Encoded: true },
        { maxRequestBytes: 1_000_000, maxDecodedBytes: 1_000_000 },
      ),
    );
    expect(error).toMatchObject({ statusCode: 413, code: 'DECODED_BODY_TOO_LARGE' });
  });

  it('throws INVALID_GZIP for a truncated gzip body', () => {
    const body = gzipSync(Buffer.from('{"numbers":[1,2,3]}')).subarray(0, 12).toString('base64');
    expect(caught(() => decodeRequestBody({ body, isBase64Encoded: true }))).toMatchObject({
      statusCode: 400,
      code: 'INVALID_GZIP',
    });
  });

  it('throws INVALID_ENCODING for bytes that are not UTF-8', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64');
    expect(caught(() => decodeRequestBody({ body, isBase64Encoded: true }))).toMatchObject({
      statusCode: 400,
      code: 'INVALID_ENCODING',
    });
  });
});

describe('Function: parseJsonObject', () => {
  it('returns the object', () => {
    expect(parseJsonObject('{"numbers":[1,"2"]}')).toEqual({ numbers: [1, '2'] });
  });

  it('throws INVALID_JSON with the parser reason', () => {
    expect(caught(() => parseJsonObject('{"numbers":[1,}'))).toMatchObject({
      code: 'INVALID_JSON',
      message: 'the body is not valid JSON',
      details: { reason: expect.stringContaining('JSON') },
    });
  });

  it.each([
    ['[1,2]', 'an array'],
    ['null', 'null'],
    ['42', 'a number'],
    ['"numbers"', 'a string'],
  ])('throws BODY_NOT_OBJECT for %s, saying it got %s', (text, got) => {
    const error = caught(() => parseJsonObject(text));
    expect(error).toMatchObject({ code: 'BODY_NOT_OBJECT' });
    expect((error as Error).message).toContain(`got ${got}`);
  });
});

describe('Function: parseJobIdParameter', () => {
  it('returns a UUID lowercased', () => {
    expect(parseJobIdParameter({ jobId: '0F8E2C1A-3B4D-4E5F-8A9B-0C1D2E3F4A5B' })).toBe(
      '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    );
  });

  it.each([[null], [{}], [{ jobId: 'abc' }], [{ jobId: '../etc/passwd' }]])(
    'throws INVALID_JOB_ID for %o',
    (pathParameters) => {
      expect(caught(() => parseJobIdParameter(pathParameters))).toMatchObject({
        statusCode: 400,
        code: 'INVALID_JOB_ID',
      });
    },
  );
});

describe('Function: headerValue', () => {
  it('finds a header whatever its case, and nothing in null headers', () => {
    expect(headerValue({ 'IDEMPOTENCY-KEY': 'a' }, 'Idempotency-Key')).toBe('a');
    expect(headerValue({ other: 'b' }, 'Idempotency-Key')).toBeUndefined();
    expect(headerValue(null, 'Idempotency-Key')).toBeUndefined();
  });
});

describe('Function: parseIdempotencyKey', () => {
  it.each(['a', 'order-1', 'A_b.c:d-9', '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b', 'k'.repeat(128)])(
    'accepts %s',
    (key) => {
      expect(parseIdempotencyKey({ 'Idempotency-Key': key })).toBe(key);
    },
  );

  it('is undefined without the header', () => {
    expect(parseIdempotencyKey({})).toBeUndefined();
    expect(parseIdempotencyKey(null)).toBeUndefined();
  });

  it.each(['', 'k'.repeat(129), 'a b', 'a/b', 'é', 'a\n'])('rejects %j with 400', (key) => {
    expect(() => parseIdempotencyKey({ 'idempotency-key': key })).toThrow(BadRequestError);
    expect(() => parseIdempotencyKey({ 'idempotency-key': key })).toThrow(
      'the Idempotency-Key header must be 1 to 128 characters',
    );
  });
});
