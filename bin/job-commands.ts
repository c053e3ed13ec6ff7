/**
 * The CLI's job commands, on the client library: submit, status, wait, results, cancel,
 * redrive and jobs. Each prints a short line for people, or with `--json` the API's JSON.
 * Exit codes follow the CLI's rule: 0 done, 1 the job failed (or was cancelled, or the wait
 * timed out), 2 a usage or input error (a 4xx answer).
 */

import {
  type FanoutApi,
  Job,
  JobCancelledError,
  JobFailedError,
  type JobStatusBody,
  type StartedInputJob,
  type SubmittedJob,
  TimeoutError,
} from '#client/index.ts';
import { UsageError } from './input.ts';
import { progressBar } from './progress.ts';
import { resultsFormatOf, writeResultsThroughPartial, writeResultsTo } from './results-output.ts';

interface JobCommandOptions {
  readonly json: boolean;
  readonly progress: boolean;
  readonly timeoutMs: number;
  /** `results --output FILE`. */
  readonly output?: string;
  /** `results --format lines|json`. */
  readonly format?: string;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function oneJobId(command: string, args: readonly string[]): string {
  const [jobId, ...extra] = args;
  if (jobId === undefined || extra.length > 0)
    throw new UsageError(`usage: fanout ${command} JOB_ID`);
  return jobId;
}

function describeEnd(job: JobStatusBody): string {
  const failure = job.failure;
  return `${job.jobId} ${job.status}${failure === undefined ? '' : `: ${failure.code} ${failure.message}`}`;
}

/** Runs one job command against `api`; `submit` starts submit's job. */
export async function runJobCommand(
  command: string,
  args: readonly string[],
  api: FanoutApi,
  options: JobCommandOptions,
  submit: () => Promise<SubmittedJob | StartedInputJob>,
): Promise<number> {
  switch (command) {
    case 'submit': {
      const submitted = await submit();
      print(options.json ? JSON.stringify(submitted) : submitted.jobId);
      return 0;
    }
    case 'status': {
      const job = await api.status(oneJobId(command, args));
      print(JSON.stringify(job, null, options.json ? undefined : 2));
      return 0;
    }
    case 'wait': {
      const bar = progressBar(options.progress);
      try {
        const job = await api.waitForJob(oneJobId(command, args), {
          onStatus: bar.update,
          timeoutMs: options.timeoutMs,
        });
        bar.clear();
        print(options.json ? JSON.stringify(job) : describeEnd(job));
        return job.status === 'SUCCEEDED' ? 0 : 1;
      } finally {
        bar.clear();
      }
    }
    case 'results': {
      const job = new Job(api, oneJobId(command, args));
      const format = resultsFormatOf(options.format, options.output !== undefined);
      // --timeout bounds the stream as it bounds `wait`: a job that does not end in time is a
      // TimeoutError (exit 1), and goes on running.
      const signal = AbortSignal.timeout(options.timeoutMs);
      let count: number;
      try {
        const pages = job.pages({ signal });
        const chosen = options.json && options.format === undefined ? 'json' : format;
        // Into FILE.partial first, as `square --output` does: FILE only ever holds every result.
        count =
          options.output === undefined
            ? await writeResultsTo(undefined, pages, chosen)
            : await writeResultsThroughPartial(options.output, pages, chosen);
      } catch (error) {
        const ended = error instanceof JobFailedError || error instanceof JobCancelledError;
        if (signal.aborted && !ended) {
          throw new TimeoutError(job.id, options.timeoutMs, job.lastStatus?.status);
        }
        throw error;
      }
      if (options.output !== undefined) {
        process.stderr.write(`fanout: wrote ${count} results of ${job.id} to ${options.output}\n`);
      }
      return 0;
    }
    case 'cancel': {
      const cancelled = await api.cancel(oneJobId(command, args));
      print(options.json ? JSON.stringify(cancelled) : `${cancelled.jobId} ${cancelled.status}`);
      return 0;
    }
    case 'redrive': {
      const redriven = await api.redrive(oneJobId(command, args));
      print(
        options.json
          ? JSON.stringify(redriven)
          : `${redriven.jobId} ${redriven.status}: ${redriven.redrivenChunks} chunks sent again`,
      );
      return 0;
    }
    case 'jobs': {
      if (args.length > 0) throw new UsageError('usage: fanout jobs');
      const jobs = [];
      let cursor: string | undefined;
      do {
        const page = await api.listJobs(cursor);
        jobs.push(...page.jobs);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      if (options.json) print(JSON.stringify(jobs));
      else {
        for (const job of jobs) {
          print(
            `${job.jobId}  ${job.status.padEnd(9)}  ${job.progress.numbersDone}/${job.numbersCount} numbers  ${job.createdAt}`,
          );
        }
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"; try fanout --help`);
  }
}
