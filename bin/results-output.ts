/**
 * How the CLI writes a job's squares, page by page as they are fetched, so that memory holds a
 * few pages whatever the job's size:
 * - `squares`: the tutorial's `Squares: [1, 4, 9]` line;
 * - `json`: one JSON array, big integers as decimal strings (the API's own form);
 * - `lines`: one square per line, big integers as their digits, as `seq` would print them.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ResultChunk, SquareResult } from '#client/index.ts';
import { UsageError } from './input.ts';

export type ResultsFormat = 'squares' | 'json' | 'lines';

const FORMATS: readonly ResultsFormat[] = ['lines', 'json'];

/**
 * `--format`: `lines` or `json`; without it, `json` into a file and the `Squares: [...]` line
 * on stdout.
 */
export function resultsFormatOf(format: string | undefined, toFile: boolean): ResultsFormat {
  if (format === undefined) return toFile ? 'json' : 'squares';
  const known = FORMATS.find((candidate) => candidate === format);
  if (known === undefined) throw new UsageError(`--format must be lines or json, got "${format}"`);
  return known;
}

interface Framing {
  readonly open: string;
  readonly separator: string;
  readonly close: string;
  /** Squares as text, between separators (natively: join and stringify, no string per item). */
  readonly join: (values: readonly SquareResult[]) => string;
}

const FRAMINGS: Readonly<Record<ResultsFormat, Framing>> = {
  // join writes a number as String does and a big integer's digits as they are.
  squares: { open: 'Squares: [', separator: ', ', close: ']\n', join: (v) => v.join(', ') },
  json: {
    open: '[',
    separator: ',',
    close: ']\n',
    join: (values) => JSON.stringify(values).slice(1, -1),
  },
  lines: { open: '', separator: '\n', close: '\n', join: (v) => v.join('\n') },
};

/** All of `results` in `format`, as one text: what `writeResults` writes of one page. */
export function formatResults(results: readonly SquareResult[], format: ResultsFormat): string {
  const framing = FRAMINGS[format];
  // An empty `lines` output is an empty file, not one blank line.
  if (format === 'lines' && results.length === 0) return '';
  return `${framing.open}${framing.join(results)}${framing.close}`;
}

/** Squares joined into one write. */
const WRITE_BATCH = 4_096;

async function write(stream: Writable, text: string): Promise<void> {
  if (text !== '' && !stream.write(text)) await once(stream, 'drain');
}

/**
 * Writes every page of `pages` to `stream` in `format`, calling `onPage` with the count written
 * so far.
 * @returns how many squares were written
 */
export async function writeResults(
  pages: AsyncIterable<ResultChunk>,
  stream: Writable,
  format: ResultsFormat,
  onPage: (written: number) => void = () => undefined,
): Promise<number> {
  const framing = FRAMINGS[format];
  let count = 0;
  await write(stream, framing.open);
  for await (const page of pages) {
    const { results } = page;
    // A few thousand squares a write: short strings, which V8 frees young, instead of one
    // string of the whole page (up to megabytes), which waits for a full collection.
    for (let start = 0; start < results.length; start += WRITE_BATCH) {
      const batch = results.slice(start, start + WRITE_BATCH);
      await write(stream, `${count > 0 ? framing.separator : ''}${framing.join(batch)}`);
      count += batch.length;
    }
    if (results.length > 0) onPage(count);
  }
  // An empty `lines` output is an empty file, not one blank line.
  await write(stream, format === 'lines' && count === 0 ? '' : framing.close);
  return count;
}

/** Writes the results to `path` (or stdout without one), the file closed before returning. */
export async function writeResultsTo(
  path: string | undefined,
  pages: AsyncIterable<ResultChunk>,
  format: ResultsFormat,
  onPage?: (written: number) => void,
): Promise<number> {
  if (path === undefined) return writeResults(pages, process.stdout, format, onPage);
  const file = createWriteStream(path);
  const opened = once(file, 'open');
  const failed = once(file, 'error').then(([error]: unknown[]) => {
    throw new UsageError(`cannot write ${path}: ${error instanceof Error ? error.message : ''}`);
  });
  failed.catch(() => undefined);
  await Promise.race([opened, failed]);
  try {
    return await writeResults(pages, file, format, onPage);
  } finally {
    file.end();
    // A failed write has closed the file already: waiting for 'close' would wait for ever.
    await finished(file).catch(() => undefined);
  }
}

/** Results files being written (FILE.partial): what a stopped CLI removes. */
export const partialFiles = new Set<string>();

/**
 * Writes the results into `path`.partial, renamed to `path` once every page is written, and
 * removed if the stream fails: a file named `path` always holds every result.
 */
export async function writeResultsThroughPartial(
  path: string,
  pages: AsyncIterable<ResultChunk>,
  format: ResultsFormat,
  onPage?: (written: number) => void,
): Promise<number> {
  const partial = `${path}.partial`;
  partialFiles.add(partial);
  try {
    const written = await writeResultsTo(partial, pages, format, onPage);
    await rename(partial, path);
    return written;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    partialFiles.delete(partial);
  }
}
