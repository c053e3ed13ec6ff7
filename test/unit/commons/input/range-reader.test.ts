import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '#commons/input/lines.ts';
import { type InputObject, RangeReadError, readRangeLines } from '#commons/input/range-reader.ts';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({});

/** A GetObject body of these bytes, as the SDK gives it (a stream with the SDK's helpers). */
function body(bytes: Uint8Array): NonNullable<GetObjectCommandOutput['Body']> {
  const stream = Readable.from([Buffer.from(bytes)]);
  return Object.assign(stream, {
    transformToByteArray: async () => bytes,
    transformToString: async (encoding?: string) =>
      Buffer.from(bytes).toString((encoding ?? 'utf8') as BufferEncoding),
    transformToWebStream: () => Readable.toWeb(Readable.from([Buffer.from(bytes)])),
  });
}

/** Answers each ranged GET of `text` with its bytes, as S3 would. */
function serve(text: string): void {
  s3Mock.on(GetObjectCommand).callsFake((input: { Range?: string }) => {
    const match = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    if (match === null) throw new Error(`unexpected Range ${input.Range}`);
    const bytes = Buffer.from(text.slice(Number(match[1]), Number(match[2]) + 1), 'latin1');
    return { Body: body(bytes), ContentLength: bytes.length };
  });
}

const TEXT = `1\n22\n333\n${'4'.repeat(50)}\nx\n`;
const OBJECT: InputObject = {
  bucket: 'inputs',
  key: 'jobs/a/input.txt',
  size: TEXT.length,
  etag: '"abc"',
};

describe('Function: readRangeLines', () => {
  beforeEach(() => {
    s3Mock.reset();
  });

  it('reads its range with one ranged GET from one byte before it, pinned to the ETag', async () => {
    // Prepare
    serve(TEXT);

    // Act
    const parsed = await readRangeLines(s3, OBJECT, { start: 2, end: 7 });

    // Assess
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'inputs',
      Key: 'jobs/a/input.txt',
      Range: `bytes=1-${TEXT.length - 1}`,
      IfMatch: '"abc"',
    });
    expect(parsed).toEqual({ numbers: [22, 333], lineCount: 2, badLines: [], badLineCount: 0 });
  });

  it('reads MAX_LINE_BYTES past its end when the object is larger', async () => {
    // Prepare
    const text = `${'1\n'.repeat(10)}${'7'.repeat(MAX_LINE_BYTES * 2)}`;
    serve(text);

    // Act
    await readRangeLines(s3, { bucket: 'b', key: 'k', size: text.length }, { start: 0, end: 8 });

    // Assess
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Range: `bytes=0-${8 + MAX_LINE_BYTES - 1}`,
    });
    const [call] = s3Mock.commandCalls(GetObjectCommand);
    expect(call?.args[0].input.IfMatch).toBeUndefined();
  });

  it('reports bad lines with line numbers local to its range', async () => {
    serve(TEXT);
    const start = TEXT.indexOf('4');
    const parsed = await readRangeLines(s3, OBJECT, { start, end: TEXT.length });
    expect(parsed.lineCount).toBe(2);
    expect(parsed.badLines).toEqual([
      { line: 2, code: 'INVALID_LITERAL', message: expect.any(String) },
    ]);
  });

  it('sends no request for an empty range', async () => {
    const parsed = await readRangeLines(s3, OBJECT, { start: 5, end: 5 });
    expect(parsed.lineCount).toBe(0);
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('fails when S3 answers other bytes than the window', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(Buffer.from('1\n')) });
    await expect(readRangeLines(s3, OBJECT, { start: 0, end: 4 })).rejects.toThrow(
      new RangeReadError(
        `the ranged GET of bytes=0-${TEXT.length - 1} returned 2 bytes, expected ${TEXT.length}`,
      ),
    );
  });

  it('fails when S3 answers no body', async () => {
    s3Mock.on(GetObjectCommand).resolves({});
    await expect(readRangeLines(s3, OBJECT, { start: 0, end: 4 })).rejects.toThrow(RangeReadError);
  });

  it('lets an S3 error (a changed object: 412) reach the caller', async () => {
    const changed = Object.assign(
      new Error('At least one of the pre-conditions you specified did not hold'),
      {
        name: 'PreconditionFailed',
      },
    );
    s3Mock.on(GetObjectCommand).rejects(changed);
    await expect(readRangeLines(s3, OBJECT, { start: 0, end: 4 })).rejects.toThrow(changed);
  });
});
