/**
 * The grammar against Python: every case of test/fixtures/grammar/grammar-table.json (written
 * by generate.py with Python's json.loads, int(), float() and `*`) is read and squared here, and
 * must give Python's square, or the error code the table names where fanout differs on purpose.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpError } from '#commons/errors.ts';
import { parseLines } from '#commons/input/lines.ts';
import { type SquareResult, squareNumber } from '#commons/numbers.ts';
import { parseJobRequest } from '../../../functions/dispatcher/job-request.ts';

interface PythonResult {
  readonly kind: 'int' | 'float' | 'error';
  readonly square?: number | string;
}

interface GrammarCase {
  readonly format: 'json' | 'lines' | 'string';
  readonly input: string;
  readonly python: PythonResult;
  readonly expected: {
    readonly kind?: 'int' | 'float';
    readonly square?: number | string;
    readonly error?: string;
  };
  readonly note?: string;
}

const table = JSON.parse(
  readFileSync(new URL('../../fixtures/grammar/grammar-table.json', import.meta.url), 'utf8'),
) as { cases: GrammarCase[] };

type Outcome = { square: SquareResult } | { error: string };

function outcomeOf(format: GrammarCase['format'], input: string): Outcome {
  if (format === 'lines') {
    const parsed = parseLines(`${input}\n`);
    expect(parsed.lineCount).toBe(1);
    const [bad] = parsed.badLines;
    if (bad !== undefined) return { error: bad.code };
    const [value] = parsed.numbers;
    if (value === undefined) throw new Error('a good line gave no number');
    return { square: squareNumber(value) };
  }
  const element = format === 'string' ? JSON.stringify(input) : input;
  try {
    const [value] = parseJobRequest(`{"numbers":[${element}]}`);
    if (value === undefined) throw new Error('a valid body gave no number');
    return { square: squareNumber(value) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    if (error.code !== 'INVALID_NUMBERS') return { error: error.code };
    const details = error.details as { errors: { index: number; code: string }[] };
    expect(details.errors[0]?.index).toBe(0);
    return { error: details.errors[0]?.code ?? 'none' };
  }
}

/** The table's square in the API's form: an int as given, a float's repr as its double. */
function expectedSquare(expected: GrammarCase['expected']): SquareResult {
  if (expected.kind === 'float') return Number(expected.square);
  if (expected.square === undefined) throw new Error('a square case has no square');
  return expected.square;
}

const label = (entry: GrammarCase) =>
  `${entry.format} ${JSON.stringify(entry.input.length > 40 ? `${entry.input.slice(0, 40)}…(${entry.input.length})` : entry.input)}`;

describe('Grammar: Python table', () => {
  it('has hundreds of cases in every format', () => {
    const formats = new Set(table.cases.map((entry) => entry.format));
    expect(table.cases.length).toBeGreaterThanOrEqual(500);
    expect([...formats].sort()).toEqual(['json', 'lines', 'string']);
  });

  it.each(table.cases.map((entry) => [label(entry), entry] as const))(
    'reads %s as the table says',
    (_, entry) => {
      // Act
      const outcome = outcomeOf(entry.format, entry.input);

      // Assess
      if (entry.expected.error !== undefined) {
        expect(outcome).toEqual({ error: entry.expected.error });
        return;
      }
      const square = expectedSquare(entry.expected);
      expect(outcome).toEqual({ square });
      // Where fanout answers a square, it is Python's own square.
      expect(entry.note).toBeUndefined();
      expect(entry.python.kind).toBe(entry.expected.kind);
      expect(square).toEqual(
        expectedSquare({
          kind: entry.python.kind === 'float' ? 'float' : 'int',
          square: entry.python.square,
        }),
      );
    },
  );
});
