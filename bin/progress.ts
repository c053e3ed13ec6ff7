/**
 * The CLI's progress bar: numbers done, numbers/s, elapsed time and ETA, on stderr, drawn
 * only when stderr is a terminal (never in a pipe or a log).
 */
import type { JobStatusBody } from '#client/index.ts';

export interface ProgressBar {
  /** Redraws the bar from a job's status. */
  readonly update: (job: Pick<JobStatusBody, 'numbersCount' | 'progress'>) => void;
  readonly clear: () => void;
}

const WIDTH = 30;
const grouped = new Intl.NumberFormat('en-US');

function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const whole = Math.round(ms / 1000);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

/** One line of the bar, e.g. `[######----] 400,000/1,000,000 numbers  200,000/s  2.0s  ETA 3.0s`. */
export function formatProgress(done: number, total: number, elapsedMs: number): string {
  const filled = total === 0 ? WIDTH : Math.min(WIDTH, Math.round((done / total) * WIDTH));
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = done >= total ? '0.0s' : rate > 0 ? seconds(((total - done) / rate) * 1000) : '?';
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${grouped.format(done)}/${grouped.format(total)} numbers  ${grouped.format(Math.round(rate))}/s  ${seconds(elapsedMs)}  ETA ${eta}`;
}

export function progressBar(
  enabled: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressBar {
  if (!enabled || !stream.isTTY) return { update: () => undefined, clear: () => undefined };
  let drawn = false;
  const startedAt = now();
  return {
    update(job) {
      const elapsed = now() - startedAt;
      const done = job.progress.numbersDone;
      // Jobs that finish in a moment get no bar at all.
      if (elapsed < 300 && done < job.numbersCount) return;
      stream.write(`\r\x1b[K${formatProgress(done, job.numbersCount, elapsed)}`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
