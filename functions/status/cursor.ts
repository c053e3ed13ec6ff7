/**
 * The cursor of `GET /jobs/{jobId}/results`: base64url of `{"v":1,"c":<chunkIndex>}`, the
 * index of the first chunk page of the response, and for a partial answer of a job from a
 * body `"o":<offset>`, where that chunk's numbers start (so that an answer with nothing new
 * yet needs no read of the page before; a page that is read says its own offset, and a
 * cursor that disagrees with it is refused). A job's responses hold a fixed count of
 * pages each (pagesPerResponseOf: 8 for a body, 1 for an S3 input), so response p starts at
 * chunk p times that, which `?page=p` also addresses; the version lets the format change
 * without breaking cursors in flight.
 */
import { BadRequestError } from '#commons/errors.ts';

const CURSOR_VERSION = 1;
const MAX_CURSOR_LENGTH = 128;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(chunkIndex: number, offset?: number): string {
  const fields = offset === undefined ? { c: chunkIndex } : { c: chunkIndex, o: offset };
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, ...fields })).toString('base64url');
}

/** What a cursor points at: a chunk, and where its numbers start when the cursor says. */
export interface CursorPosition {
  readonly chunk: number;
  readonly offset: number | undefined;
}

export function invalidCursorError(): BadRequestError {
  return new BadRequestError(
    'INVALID_CURSOR',
    'the cursor is not one returned as nextCursor by this endpoint',
  );
}

/**
 * The object a base64url JSON cursor holds, or `invalid()` thrown when the cursor is longer
 * than `maxLength`, not base64url, not JSON or not an object. Each cursor checks its fields.
 */
export function readCursorObject(
  cursor: string,
  maxLength: number,
  invalid: () => BadRequestError,
): Readonly<Record<string, unknown>> {
  if (cursor.length > maxLength || !BASE64URL.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null) throw invalid();
  return value as Readonly<Record<string, unknown>>;
}

const isIndex = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * The chunk index a cursor points at (range-checked later against the job), and its offset.
 * @throws BadRequestError (INVALID_CURSOR)
 */
export function decodeCursor(cursor: string): CursorPosition {
  const { v, c, o } = readCursorObject(cursor, MAX_CURSOR_LENGTH, invalidCursorError);
  if (v !== CURSOR_VERSION || !isIndex(c) || (o !== undefined && !isIndex(o)))
    throw invalidCursorError();
  return { chunk: c, offset: o };
}
