/**
 * The CLI's progress bars, on stderr, drawn only when stderr is a terminal (never in a pipe or
 * a log): what is done of what, the rate, elapsed time and ETA. A command may draw several in
 * turn (upload, compute, download); each finished one stays on its own line.
 */
import type { JobStatusBody } from '#client/index.ts';

/** What a bar counts. */
type ProgressUnit = 'numbers' | 'bytes';

export interface ProgressBar {
  /** Redraws the bar from a job's status: numbers done, or bytes of an S3 input done. */
  readonly update: (job: Pick<JobStatusBody, 'numbersCount' | 'progress'>) => void;
  /** Redraws the bar: `done` of `total` `unit`. */
  readonly step: (done: number, total: number, unit: ProgressUnit) => void;
  /** Ends the bar: a drawn one stays on its line, the next one starts on a new line. */
  readonly finish: () => void;
  /** Takes the bar off the terminal. */
  readonly clear: () => void;
}

const WIDTH = 30;
const grouped = new Intl.NumberFormat('en-US');

function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const whole = Math.round(ms / 1000);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * One line of a bar, e.g.
 * `[######----] 400,000/1,000,000 numbers  200,000/s  2.0s  ETA 3.0s`, or in bytes
 * `[######----] 31.6/78.9 MB  15.8 MB/s  2.0s  ETA 3.0s`, after `label` when there is one.
 */
export function formatProgress(
  done: number,
  total: number,
  elapsedMs: number,
  unit: ProgressUnit = 'numbers',
  label = '',
): string {
  const filled = total === 0 ? WIDTH : Math.min(WIDTH, Math.round((done / total) * WIDTH));
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = done >= total ? '0.0s' : rate > 0 ? seconds(((total - done) / rate) * 1000) : '?';
  const amount =
    unit === 'bytes'
      ? `${megabytes(done)}/${megabytes(total)} MB  ${megabytes(rate)} MB/s`
      : `${grouped.format(done)}/${grouped.format(total)} numbers  ${grouped.format(Math.round(rate))}/s`;
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]`;
  return `${label === '' ? '' : `${label.padEnd(9)}`}${bar} ${amount}  ${seconds(elapsedMs)}  ETA ${eta}`;
}

/** What a job's status says is done: its numbers, or the bytes of an S3 input. */
export function jobProgress(job: Pick<JobStatusBody, 'numbersCount' | 'progress'>): {
  readonly done: number;
  readonly total: number;
  readonly unit: ProgressUnit;
} {
  const { bytesDone, bytesTotal, numbersDone } = job.progress;
  // A job from S3 learns its count of numbers as its ranges report, so its bytes tell more.
  if (bytesTotal !== undefined && bytesDone !== undefined) {
    return { done: bytesDone, total: bytesTotal, unit: 'bytes' };
  }
  return { done: numbersDone, total: job.numbersCount, unit: 'numbers' };
}

export function progressBar(
  enabled: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
  label = '',
): ProgressBar {
  if (!enabled || !stream.isTTY) {
    const none = () => undefined;
    return { update: none, step: none, finish: none, clear: none };
  }
  let drawn = false;
  let startedAt = now();
  const step = (done: number, total: number, unit: ProgressUnit) => {
    const elapsed = now() - startedAt;
    // What finishes in a moment gets no bar at all.
    if (elapsed < 300 && done < total) return;
    stream.write(`\r\x1b[K${formatProgress(done, total, elapsed, unit, label)}`);
    drawn = true;
  };
  return {
    update(job) {
      const { done, total, unit } = jobProgress(job);
      step(done, total, unit);
    },
    step,
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
      startedAt = now();
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
