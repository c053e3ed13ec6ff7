/** The CLI's progress line: numbers done, numbers/s, elapsed time and ETA. */
import { describe, expect, it } from 'vitest';
import { formatProgress, jobProgress, progressBar } from '../../../bin/progress.ts';

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

describe('Function: formatProgress (bytes, labelled)', () => {
  it('shows megabytes and MB/s after its label', () => {
    expect(formatProgress(31_600_000, 78_900_000, 2_000, 'bytes', 'upload')).toBe(
      'upload   [############------------------] 31.6/78.9 MB  15.8 MB/s  2.0s  ETA 3.0s',
    );
  });
});

describe('Function: jobProgress', () => {
  it('counts the bytes of a job from S3, whose count of numbers comes at its end', () => {
    const progress = {
      chunksDone: 1,
      chunkCount: 4,
      numbersDone: 10,
      bytesDone: 50,
      bytesTotal: 200,
    };
    expect(jobProgress({ numbersCount: 0, progress })).toEqual({
      done: 50,
      total: 200,
      unit: 'bytes',
    });
    expect(
      jobProgress({
        numbersCount: 40,
        progress: { chunksDone: 1, chunkCount: 4, numbersDone: 10 },
      }),
    ).toEqual({ done: 10, total: 40, unit: 'numbers' });
  });
});

describe('Function: progressBar', () => {
  it('keeps a finished bar on its line, and times the next one from its finish', () => {
    const written: string[] = [];
    const stream = { isTTY: true, write: (text: string) => written.push(text) };
    let now = 0;
    const bar = progressBar(true, stream as unknown as NodeJS.WriteStream, () => now, 'upload');
    now = 1_000;
    bar.step(5, 10, 'bytes');
    bar.finish();
    now = 3_000;
    bar.step(10, 10, 'bytes');
    expect(written).toEqual([
      `\r\x1b[K${formatProgress(5, 10, 1_000, 'bytes', 'upload')}`,
      '\n',
      `\r\x1b[K${formatProgress(10, 10, 2_000, 'bytes', 'upload')}`,
    ]);
  });

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
