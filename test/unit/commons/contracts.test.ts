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
  const json = '[1,"81129638414606663681390495662081",0.25]';
  const compressed = {
    jobId: JOB_ID,
    chunkIndex: 0,
    offset: 0,
    resultsGzip: gzipSync(json).toString('base64'),
    count: 3,
    resultsJsonLength: json.length,
    computeMs: 1.5,
    receiveCount: 1,
    durationMs: 2.25,
    memoryMb: 3538,
    messageBytes: 120,
  };
  const inflated = (parsed: { readonly resultsGzip: Uint8Array }) =>
    gunzipSync(parsed.resultsGzip).toString('utf8');

  it('returns a valid result, its squares as given', () => {
    const parsed = parseChunkResult(compressed);
    expect(parsed).toEqual({ ...compressed, resultsGzip: expect.any(Uint8Array) });
    expect(inflated(parsed)).toBe(json);
  });

  it('throws InvalidChunkResultError for squares given as a JSON array instead of compressed', () => {
    const { resultsGzip: _, count: __, resultsJsonLength: ___, ...fields } = compressed;
    const plain = { ...fields, results: [1, '81129638414606663681390495662081', 0.25] };

    expect(() => parseChunkResult(plain)).toThrow(InvalidChunkResultError);
    expect(() => parseChunkResult(plain)).toThrow(
      'invalid chunk result: resultsGzip is not base64 text',
    );
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
    ['a bad job id', { ...compressed, jobId: 'nope' }, 'jobId'],
    ['a fractional index', { ...compressed, chunkIndex: 0.5 }, 'chunkIndex'],
    ['no squares', { ...compressed, count: 0 }, 'count is not an integer from 1 to 10000'],
    ['NaN compute time', { ...compressed, computeMs: Number.NaN }, 'computeMs'],
    ['a missing receive count', { ...compressed, receiveCount: undefined }, 'receiveCount'],
    ['a negative duration', { ...compressed, durationMs: -1 }, 'durationMs'],
    ['a missing duration', { ...compressed, durationMs: undefined }, 'durationMs'],
    ['memory past Lambda maximum', { ...compressed, memoryMb: 10_241 }, 'memoryMb'],
    ['fractional memory', { ...compressed, memoryMb: 1.5 }, 'memoryMb'],
    ['message bytes past 1 MiB', { ...compressed, messageBytes: 1_048_577 }, 'messageBytes'],
    ['a status read that is not a boolean', { ...compressed, statusRead: 0 }, 'statusRead'],
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
