/** How the CLI writes squares page by page: the tutorial's line, a JSON array, or lines. */
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ResultChunk } from '#client/index.ts';
import { UsageError } from '../../../bin/input.ts';
import {
  formatResults,
  resultsFormatOf,
  writeResults,
  writeResultsTo,
} from '../../../bin/results-output.ts';

async function* pagesOf(...pages: (readonly (number | string)[])[]): AsyncGenerator<ResultChunk> {
  let offset = 0;
  for (const results of pages) {
    yield { offset, results };
    offset += results.length;
  }
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('Function: writeResults', () => {
  const big = '15241578753238836750495351562536198787501905199875019052100';

  it.each([
    ['squares', `Squares: [1, 4, 9, 6.25, ${big}]\n`],
    ['json', `[1,4,9,6.25,"${big}"]\n`],
    ['lines', `1\n4\n9\n6.25\n${big}\n`],
  ] as const)('writes %s across pages, empty pages skipped', async (format, expected) => {
    const out = sink();
    const seen: number[] = [];

    const count = await writeResults(
      pagesOf([1, 4], [], [9, 6.25], [big]),
      out.stream,
      format,
      (n) => seen.push(n),
    );

    expect(out.text()).toBe(expected);
    expect(count).toBe(5);
    expect(seen).toEqual([2, 4, 5]);
  });

  it('writes an empty job as an empty array, and as an empty file of lines', async () => {
    const json = sink();
    const lines = sink();
    await writeResults(pagesOf(), json.stream, 'json');
    await writeResults(pagesOf(), lines.stream, 'lines');
    expect(json.text()).toBe('[]\n');
    expect(lines.text()).toBe('');
  });
});

describe('Function: formatResults', () => {
  const big = '15241578753238836750495351562536198787501905199875019052100';

  it('frames inline squares as the tutorial line, big integers as their digits', () => {
    expect(formatResults([1, 4, 9, 6.25, big], 'squares')).toBe(
      `Squares: [1, 4, 9, 6.25, ${big}]\n`,
    );
    expect(formatResults([], 'squares')).toBe('Squares: []\n');
  });

  it.each(['squares', 'json', 'lines'] as const)(
    'gives in %s what writeResults writes of the same squares',
    async (format) => {
      for (const results of [[1, 4, big], []]) {
        const out = sink();
        await writeResults(pagesOf(results), out.stream, format);
        expect(formatResults(results, format)).toBe(out.text());
      }
    },
  );
});

describe('Function: writeResultsTo', () => {
  it.runIf(existsSync('/dev/full'))(
    'rejects, never hangs, when the file cannot take the squares',
    async () => {
      const many = Array.from({ length: 50_000 }, (_, index) => index);
      await expect(writeResultsTo('/dev/full', pagesOf(many, many, many), 'lines')).rejects.toThrow(
        /ENOSPC/,
      );
    },
  );
});

describe('Function: resultsFormatOf', () => {
  it('defaults to JSON into a file and to the Squares line on stdout', () => {
    expect(resultsFormatOf(undefined, true)).toBe('json');
    expect(resultsFormatOf(undefined, false)).toBe('squares');
    expect(resultsFormatOf('lines', false)).toBe('lines');
  });

  it('refuses a format it does not know as a usage error', () => {
    expect(() => resultsFormatOf('csv', true)).toThrow(UsageError);
    expect(() => resultsFormatOf('csv', true)).toThrow('--format must be lines or json, got "csv"');
  });
});
