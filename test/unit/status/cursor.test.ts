import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../functions/status/cursor.ts';

describe('Function: encodeCursor and decodeCursor', () => {
  it('round-trips a chunk index through an opaque base64url string', () => {
    const cursor = encodeCursor(42);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ chunk: 42, offset: undefined });
  });

  it('round-trips a chunk index with the offset where its numbers start', () => {
    expect(decodeCursor(encodeCursor(42, 420_000))).toEqual({ chunk: 42, offset: 420_000 });
  });

  it.each([
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['a wrong version', Buffer.from('{"v":2,"c":1}').toString('base64url')],
    ['a negative index', Buffer.from('{"v":1,"c":-1}').toString('base64url')],
    ['a fractional index', Buffer.from('{"v":1,"c":1.5}').toString('base64url')],
    ['a negative offset', Buffer.from('{"v":1,"c":1,"o":-2}').toString('base64url')],
    ['an offset that is not a number', Buffer.from('{"v":1,"c":1,"o":"2"}').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
    ['an overlong string', 'A'.repeat(129)],
  ])('rejects %s with INVALID_CURSOR', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'INVALID_CURSOR' }),
    );
  });
});
