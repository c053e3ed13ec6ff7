import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  isJobId,
  parseAggregateOutcome,
  parseChunkMessage,
  parseChunkResult,
} from '#commons/contracts.ts';
import { InvalidChunkMessageError, InvalidChunkResultError } from '#commons/errors.ts';
import { JOB_ID } from '#test/helpers/dynamodb.ts';

const message = {
  jobId: JOB_ID,
  chunkIndex: 1,
  chunkCount: 2,
  offset: 3,
  numbers: [1, '-12', 0.5],
};

describe('Function: isJobId', () => {
  it('accepts a lowercase UUID and nothing else', () => {
    expect(isJobId(crypto.randomUUID())).toBe(true);
    expect(isJobId(JOB_ID.toUpperCase())).toBe(false);
    expect(isJobId(`${JOB_ID}x`)).toBe(false);
    expect(isJobId(42)).toBe(false);
  });
});

describe('Function: parseChunkMessage', () => {
  it('returns a valid message', () => {
    expect(parseChunkMessage(JSON.stringify(message))).toEqual(message);
  });

  it('accepts the canonical exponent text of a big integral double', () => {
    const withDouble = { ...message, numbers: ['3e+100', '-1.5e+9', 2.5] };
    expect(parseChunkMessage(JSON.stringify(withDouble))).toEqual(withDouble);
  });

  it.each([
    ['not JSON', '{', 'chunk message is not JSON'],
    ['an array', '[]', 'invalid chunk message: not an object'],
    ['a bad job id', JSON.stringify({ ...message, jobId: 'x' }), 'jobId is not a job id'],
    ['a zero chunk count', JSON.stringify({ ...message, chunkCount: 0 }), 'chunkCount'],
    ['an index past the count', JSON.stringify({ ...message, chunkIndex: 2 }), 'chunkIndex'],
    ['a negative offset', JSON.stringify({ ...message, offset: -1 }), 'offset'],
    ['no numbers', JSON.stringify({ ...message, numbers: [] }), 'numbers is not an array'],
    [
      'a bad number',
      JSON.stringify({ ...message, numbers: [1, 'x'] }),
      'numbers[1]: INVALID_INTEGER_STRING',
    ],
    [
      'a big integral double as a JSON number (not canonical)',
      JSON.stringify({ ...message, numbers: [3e100] }),
      'numbers[0]: UNSAFE_INTEGER',
    ],
  ])('throws InvalidChunkMessageError for %s', (_, body, text) => {
    expect(() => parseChunkMessage(body)).toThrow(InvalidChunkMessageError);
    expect(() => parseChunkMessage(body)).toThrow(text);
  });
});

describe('Function: parseChunkResult', () => {
  const result = {
    jobId: JOB_ID,
    chunkIndex: 0,
    offset: 0,
    results: [1, '81129638414606663681390495662081', 0.25],
    computeMs: 1.5,
    receiveCount: 1,
    durationMs: 2.25,
    memoryMb: 3538,
    messageBytes: 120,
  };

  const json = '[1,"81129638414606663681390495662081",0.25]';
  const { results: _, ...fields } = result;
  const compressed = {
    ...fields,
    resultsGzip: gzipSync(json).toString('base64'),
    count: 3,
    resultsJsonLength: json.length,
  };
  const inflated = (parsed: { readonly resultsGzip: Uint8Array }) =>
    gunzipSync(parsed.resultsGzip).toString('utf8');

  it('returns a valid result, its squares as given', () => {
    const parsed = parseChunkResult(compressed);
    expect(parsed).toEqual({ ...compressed, resultsGzip: expect.any(Uint8Array) });
    expect(inflated(parsed)).toBe(json);
  });

  it("compresses an earlier worker's squares, given as a JSON array", () => {
    const parsed = parseChunkResult(result);
    expect(parsed).toEqual({ ...compressed, resultsGzip: expect.any(Uint8Array) });
    expect(inflated(parsed)).toBe(json);
  });

  it('keeps statusRead when the worker shared its status read', () => {
    expect(parseChunkResult({ ...compressed, statusRead: false })).toMatchObject({
      statusRead: false,
    });
  });

  it.each([
    ['squares that are not base64', { ...compressed, resultsGzip: 'not base64!' }, 'resultsGzip'],
    [
      'squares with a character base64 decoding would skip',
      {
        ...compressed,
        resultsGzip: `${compressed.resultsGzip.slice(0, 8)}!${compressed.resultsGzip.slice(8)}`,
      },
      'resultsGzip is not base64',
    ],
    [
      'squares with a line break inside',
      {
        ...compressed,
        resultsGzip: `${compressed.resultsGzip.slice(0, 8)}\n${compressed.resultsGzip.slice(8)}`,
      },
      'resultsGzip is not base64',
    ],
    [
      'squares that are not gzip',
      { ...compressed, resultsGzip: 'AAAAAAAAAAAAAAAAAAAAAAAA' },
      'gzip',
    ],
    ['no count', { ...compressed, count: undefined }, 'count'],
    ['a count past a chunk', { ...compressed, count: 10_001 }, 'count'],
    [
      'a JSON length too short for the count',
      { ...compressed, resultsJsonLength: 5 },
      'resultsJsonLength',
    ],
  ])('throws InvalidChunkResultError for compressed %s', (_, value, text) => {
    expect(() => parseChunkResult(value)).toThrow(InvalidChunkResultError);
    expect(() => parseChunkResult(value)).toThrow(text);
  });

  it.each([
    ['null', null, 'not an object'],
    ['a bad job id', { ...result, jobId: 'nope' }, 'jobId'],
    ['a fractional index', { ...result, chunkIndex: 0.5 }, 'chunkIndex'],
    ['empty results', { ...result, results: [] }, 'results is not an array'],
    ['a negative square', { ...result, results: [-1] }, 'results[0] is not a square'],
    ['a signed square string', { ...result, results: ['-4'] }, 'results[0] is not a square'],
    ['NaN compute time', { ...result, computeMs: Number.NaN }, 'computeMs'],
    ['a missing receive count', { ...result, receiveCount: undefined }, 'receiveCount'],
    ['a negative duration', { ...result, durationMs: -1 }, 'durationMs'],
    ['a missing duration', { ...result, durationMs: undefined }, 'durationMs'],
    ['memory past Lambda maximum', { ...result, memoryMb: 10_241 }, 'memoryMb'],
    ['fractional memory', { ...result, memoryMb: 1.5 }, 'memoryMb'],
    ['message bytes past 1 MiB', { ...result, messageBytes: 1_048_577 }, 'messageBytes'],
    ['a status read that is not a boolean', { ...result, statusRead: 0 }, 'statusRead'],
  ])('throws InvalidChunkResultError for %s', (_, value, text) => {
    expect(() => parseChunkResult(value)).toThrow(InvalidChunkResultError);
    expect(() => parseChunkResult(value)).toThrow(text);
  });
});

describe('Function: parseAggregateOutcome', () => {
  it('returns a valid outcome and undefined for anything else', () => {
    expect(parseAggregateOutcome({ outcome: 'DUPLICATE', jobStatus: 'RUNNING' })).toEqual({
      outcome: 'DUPLICATE',
      jobStatus: 'RUNNING',
    });
    expect(parseAggregateOutcome({ outcome: 'OK', jobStatus: 'RUNNING' })).toBeUndefined();
    expect(parseAggregateOutcome({ outcome: 'STORED', jobStatus: 'DONE' })).toBeUndefined();
    expect(parseAggregateOutcome(null)).toBeUndefined();
  });
});
