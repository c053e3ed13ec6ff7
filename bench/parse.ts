/**
 * npm run bench:parse: reading 1,000,000 numbers by the grammar, against the reader it replaced,
 * in one run (the machine may be shared: compare the ratios, not the milliseconds).
 *
 * Methods, on each body:
 *   before    JSON.parse, then the per-element check the dispatcher used to run (which could
 *             not keep integers past 2^53 or tell 3e100 from an integer)
 *   reader    parseJobRequest: JSON.parse, then the grammar's pass of json-numbers.ts (which
 *             scans the text only when a value may read differently from its literal)
 *   reviver   JSON.parse with the `context.source` reviver, then validateNumbers (the fallback)
 * and on the same numbers as `lines` text (one per line, as `seq` prints them):
 *   lines     parseLines
 * Samples are interleaved, after a warm-up; the median is reported. It ends with one JSON line,
 * {"bench":"parse", ...}.
 */

import { parseLines } from '#commons/input/lines.ts';
import { literalReviver } from '#commons/json-numbers.ts';
import { validateNumbers } from '#commons/numbers.ts';
import { parseJsonObject } from '#commons/request.ts';
import { seededRandom } from '#local/seeded-random.ts';
import { parseJobRequest } from '../functions/dispatcher/job-request.ts';

const COUNT = 1_000_000;
const REPS = 7;

/** The element check of the previous reader, for a JSON.parse result. */
function previousCheck(values: readonly unknown[]): number {
  let bad = 0;
  for (const value of values) {
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || !Number.isFinite(value * value)) bad++;
      else if (Number.isInteger(value) && !Number.isSafeInteger(value)) bad++;
    } else if (typeof value === 'string') {
      if (!/^[+-]?[0-9]+$/.test(value)) bad++;
    } else {
      bad++;
    }
  }
  return bad;
}

function before(text: string): number {
  const body = JSON.parse(text) as { numbers: unknown[] };
  return previousCheck(body.numbers);
}

function reviver(text: string): number {
  const body = parseJsonObject(text, literalReviver);
  const numbers = body.numbers as unknown[];
  const validation = validateNumbers(numbers);
  return validation.ok ? validation.numbers.length : -1;
}

function datasets(): Record<string, number[]> {
  const next = seededRandom(20_261_201);
  const mixed: number[] = [];
  const large: number[] = [];
  for (let index = 0; index < COUNT; index++) {
    const magnitude = next() * 10_000_000;
    mixed.push(index % 2 === 0 ? Math.floor(magnitude) : magnitude / 1_000);
    large.push(Math.floor(next() * Number.MAX_SAFE_INTEGER));
  }
  return { seq: Array.from({ length: COUNT }, (_, index) => index + 1), mixed, large };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function time(method: () => unknown): number {
  const start = performance.now();
  method();
  return performance.now() - start;
}

const report: Record<string, Record<string, number>> = {};
for (const [name, numbers] of Object.entries(datasets())) {
  const body = JSON.stringify({ numbers });
  const lines = `${numbers.join('\n')}\n`;
  const methods: Record<string, () => unknown> = {
    before: () => before(body),
    reader: () => parseJobRequest(body),
    reviver: () => reviver(body),
    lines: () => parseLines(lines),
  };
  // The readers agree on these numbers (all plain) before anything is timed.
  const read = parseJobRequest(body);
  if (read.length !== COUNT || parseLines(lines).numbers.length !== COUNT) {
    throw new Error(`${name}: a reader lost numbers`);
  }
  for (const method of Object.values(methods)) for (let warm = 0; warm < 2; warm++) time(method);
  const samples: Record<string, number[]> = { before: [], reader: [], reviver: [], lines: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const [method, run] of Object.entries(methods)) samples[method]?.push(time(run));
  }
  const ms = Object.fromEntries(Object.entries(samples).map(([method, s]) => [method, median(s)]));
  const readerMs = ms.reader ?? Number.NaN;
  report[name] = {
    bodyBytes: body.length,
    beforeMs: Math.round(ms.before ?? 0),
    readerMs: Math.round(readerMs),
    reviverMs: Math.round(ms.reviver ?? 0),
    linesMs: Math.round(ms.lines ?? 0),
    readerOverBefore: Number((readerMs / (ms.before ?? 1)).toFixed(2)),
    reviverOverBefore: Number(((ms.reviver ?? 0) / (ms.before ?? 1)).toFixed(2)),
  };
  console.log(
    `${name.padEnd(6)} ${body.length} bytes: before ${ms.before?.toFixed(0)} ms, reader ${readerMs.toFixed(0)} ms (${report[name]?.readerOverBefore}x), reviver ${ms.reviver?.toFixed(0)} ms (${report[name]?.reviverOverBefore}x), lines ${ms.lines?.toFixed(0)} ms`,
  );
}
console.log(JSON.stringify({ bench: 'parse', numbers: COUNT, node: process.version, ...report }));
