/** The CLI's progress line: numbers done, numbers/s, elapsed time and ETA. */
import { describe, expect, it } from 'vitest';
import { formatProgress, progressBar } from '../../../bin/progress.ts';

describe('Function: formatProgress', () => {
  it('shows numbers done, the rate, the elapsed time and the time left', () => {
    expect(formatProgress(400_000, 1_000_000, 2_000)).toBe(
      '[############------------------] 400,000/1,000,000 numbers  200,000/s  2.0s  ETA 3.0s',
    );
  });

  it('shows an unknown ETA before anything is done, and none once all is done', () => {
    expect(formatProgress(0, 10, 1_000)).toContain('0/10 numbers  0/s  1.0s  ETA ?');
    expect(formatProgress(10, 10, 90_000)).toContain('10/10 numbers  0/s  1m30s  ETA 0.0s');
  });
});

describe('Function: progressBar', () => {
  it('draws nothing when the stream is not a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) };
    const bar = progressBar(true, stream as unknown as NodeJS.WriteStream);
    bar.update({ numbersCount: 10, progress: { chunksDone: 1, chunkCount: 2, numbersDone: 5 } });
    bar.clear();
    expect(written).toEqual([]);
  });

  it('draws on a terminal once the job has run a moment, and clears its line', () => {
    const written: string[] = [];
    const stream = { isTTY: true, write: (text: string) => written.push(text) };
    let now = 0;
    const bar = progressBar(true, stream as unknown as NodeJS.WriteStream, () => now);
    const job = { numbersCount: 10, progress: { chunksDone: 1, chunkCount: 2, numbersDone: 5 } };
    bar.update(job);
    now = 1_000;
    bar.update(job);
    bar.clear();
    expect(written).toEqual([`\r\x1b[K${formatProgress(5, 10, 1_000)}`, '\r\x1b[K']);
  });
});
