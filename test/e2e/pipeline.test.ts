/**
 * The real pipeline on one machine: the synthesized stack's handlers (bundled, from cdk.out)
 * behind the local REST API, SQS (fauxqs) and DynamoDB Local, with nothing mocked. Every
 * square is checked against an independent computation (BigInt for integers, the IEEE
 * product for fractions), never against the app's own squareNumber.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '#local/seeded-random.ts';
import { signedFetch } from '#test/helpers/signed-fetch.ts';
import { ApiError, FanoutClient } from '../../bin/client.ts';
import { appStack, exactIntegerSquare } from './helpers.ts';

/** The square the API must answer for one accepted element. */
function expectedSquare(value: number | string): number | string {
  if (typeof value === 'string' || Number.isInteger(value)) return exactIntegerSquare(value);
  return value * value + 0;
}

function digits(next: () => number, count: number): string {
  let text = String(1 + Math.floor(next() * 9));
  while (text.length < count) text += String(Math.floor(next() * 10)).repeat(1);
  return text;
}

/** 100,000 mixed elements: small and large safe integers, negatives, fractions, big strings. */
function mixedNumbers(count: number, seed: number): Array<number | string> {
  const next = seededRandom(seed);
  const numbers: Array<number | string> = [];
  for (let index = 0; index < count; index++) {
    const kind = next();
    const sign = next() < 0.5 ? -1 : 1;
    if (kind < 0.4) numbers.push(sign * Math.floor(next() * 100_000));
    else if (kind < 0.6) numbers.push(sign * Math.floor(next() * Number.MAX_SAFE_INTEGER));
    else if (kind < 0.85) numbers.push(sign * next() * 10 ** Math.floor(next() * 12 - 4));
    else if (kind < 0.9995) {
      numbers.push(`${sign < 0 ? '-' : ''}${digits(next, 17 + Math.floor(next() * 60))}`);
    } else {
      // A few giants, up to the 10,000-digit limit.
      numbers.push(`${sign < 0 ? '-' : ''}${digits(next, 1_000 + Math.floor(next() * 9_000))}`);
    }
  }
  numbers.push(`-${digits(next, 10_000)}`, Number.MAX_SAFE_INTEGER, -0, 0.1, 1e-300);
  return numbers;
}

describe('Feature: the whole pipeline, locally', () => {
  const stack = appStack();
  let client: FanoutClient;

  beforeAll(async () => {
    await stack.start();
    client = new FanoutClient(stack.apiUrl);
  }, 120_000);

  afterAll(async () => {
    await stack.stop();
  });

  async function runJob(numbers: readonly unknown[]) {
    const submitted = await client.submit(numbers);
    const job = await client.waitForJob(submitted.jobId, { timeoutMs: 90_000 });
    return { submitted, job };
  }

  it("squares the tutorial's 1 to 5", async () => {
    const { job } = await runJob([1, 2, 3, 4, 5]);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.results).toEqual([1, 4, 9, 16, 25]);
  });

  it('squares 100,000 mixed numbers exactly', { timeout: 120_000 }, async () => {
    const numbers = mixedNumbers(100_000, 20_260_401);
    const { submitted, job } = await runJob(numbers);
    expect(job.status).toBe('SUCCEEDED');
    expect(submitted.chunkCount).toBeGreaterThan(10);
    const results = await client.resultsOf(job);
    expect(results).toHaveLength(numbers.length);
    const wrong: number[] = [];
    numbers.forEach((value, index) => {
      if (!Object.is(results[index], expectedSquare(value))) wrong.push(index);
    });
    expect(
      wrong.slice(0, 5).map((index) => ({ index, input: numbers[index], got: results[index] })),
    ).toEqual([]);
    // The 10,000-digit negative integer: 19,999 or 20,000 digits, exact.
    const giantIndex = numbers.length - 5;
    expect(results[giantIndex]).toBe(exactIntegerSquare(numbers[giantIndex] as string));
  });

  it('spans many chunks and result pages, and pages through them in order', {
    timeout: 120_000,
  }, async () => {
    // 300,000 numbers: over 30 chunks (cut by count and by estimated result bytes), and
    // several 1 MB result pages.
    const numbers = Array.from({ length: 300_000 }, (_, index) => index * 31 - 4_000_000);
    const { submitted, job } = await runJob(numbers);
    expect(job.status).toBe('SUCCEEDED');
    expect(submitted.chunkCount).toBeGreaterThanOrEqual(30);
    expect(job.progress).toEqual({
      chunksDone: submitted.chunkCount,
      chunkCount: submitted.chunkCount,
      numbersDone: 300_000,
    });
    expect(job.results).toBeUndefined();

    const pages: Array<{ offset: number; count: number }> = [];
    const results: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.resultsPage(job.jobId, cursor);
      pages.push({ offset: page.offset, count: page.count });
      expect(page.results).toHaveLength(page.count);
      results.push(...page.results);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(pages.length).toBeGreaterThan(2);
    expect(pages[0]?.offset).toBe(0);
    for (let index = 1; index < pages.length; index++) {
      const previous = pages[index - 1] as { offset: number; count: number };
      expect(pages[index]?.offset).toBe(previous.offset + previous.count);
    }
    expect(results).toHaveLength(numbers.length);
    expect(
      results.every((value, index) => value === exactIntegerSquare(numbers[index] as number)),
    ).toBe(true);
  });

  describe('bad input', () => {
    async function rejection(body: string, headers: Record<string, string> = {}) {
      const response = await signedFetch(`${stack.apiUrl}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      return {
        status: response.status,
        body: (await response.json()) as { error?: { code?: string } },
      };
    }

    it.each([
      [
        'an integer literal of more than 10,000 digits',
        `{"numbers":[1, 1${'0'.repeat(10_000)}]}`,
        'INVALID_NUMBERS',
      ],
      ['a float whose square overflows', '{"numbers":[1e200]}', 'INVALID_NUMBERS'],
      ['a non-numeric string', '{"numbers":["12a"]}', 'INVALID_NUMBERS'],
      ['a nested array', '{"numbers":[[1]]}', 'INVALID_NUMBERS'],
      ['null', '{"numbers":[null]}', 'INVALID_NUMBERS'],
      ['no numbers field', '{"values":[1]}', undefined],
      ['an empty list', '{"numbers":[]}', 'NUMBERS_EMPTY'],
      ['malformed JSON', '{"numbers":[1,', 'INVALID_JSON'],
      ['an array body', '[1,2,3]', 'BODY_NOT_OBJECT'],
    ])('answers 400 to %s', async (_name, body, code) => {
      const { status, body: answer } = await rejection(body);
      expect(status).toBe(400);
      if (code !== undefined) expect(answer.error?.code).toBe(code);
    });

    it('answers 400 to an empty body', async () => {
      const response = await signedFetch(`${stack.apiUrl}/jobs`, { method: 'POST' });
      expect(response.status).toBe(400);
    });

    it('names the index of every bad element', async () => {
      const { status, body } = await rejection('{"numbers":[1, "x", 3, NaN]}');
      expect(status).toBe(400);
      const attempt = await client.submit([1, 'x', 3, 'y']).catch((error: unknown) => error);
      expect(attempt).toBeInstanceOf(ApiError);
      expect((attempt as ApiError).status).toBe(400);
      const details = (
        (attempt as ApiError).body as { error: { details: { errors: Array<{ index: number }> } } }
      ).error.details;
      expect(details.errors.map((error) => error.index)).toEqual([1, 3]);
      expect(body.error?.code).toBe('INVALID_JSON');
    });

    it('answers 413 to more than 1,000,000 numbers, and 404 to an unknown job', async () => {
      const tooMany = await client
        .submit(new Array(1_000_001).fill(0))
        .catch((error: unknown) => error);
      expect((tooMany as ApiError).status).toBe(413);
      const unknown = await client
        .status('00000000-0000-4000-8000-000000000000')
        .catch((error: unknown) => error);
      expect((unknown as ApiError).status).toBe(404);
      const malformedId = await client.status('not-a-job').catch((error: unknown) => error);
      expect((malformedId as ApiError).status).toBe(400);
    });

    it('is still up and correct after all of them', async () => {
      const { job } = await runJob([-3, '123456789012345678901234567890', 0.5]);
      expect(job.results).toEqual([
        9,
        '15241578753238836750495351562536198787501905199875019052100',
        0.25,
      ]);
    });
  });
});
