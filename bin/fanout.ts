#!/usr/bin/env node
/**
 * fanout: square numbers on the fanout pipeline, locally (embedded emulators, the same
 * handlers as in AWS) or on a deployed stack.
 *
 *   fanout square 1 2 3 4 5          → Squares: [1, 4, 9, 16, 25]
 *   fanout serve --port 3000         → the local API until Ctrl-C
 *   fanout submit 1 2 3              → a job id; then status, wait, results, cancel, redrive
 *   fanout jobs                      → the caller's jobs
 *
 * Exit codes: 0 done; 1 the job or the stack failed; 2 usage or input error (a 4xx answer).
 */
import { readFileSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { messageOf } from '#client/errors.ts';
import {
  type FanoutApi,
  Job,
  JobCancelledError,
  JobFailedError,
  type StartedInputJob,
  type SubmittedJob,
  uploadSizeOf,
} from '#client/index.ts';
import { MAX_NUMBERS_PER_JOB } from '#commons/limits.ts';
import type { CloudLimitsReport, EmbeddedStack } from '#local/embedded-stack.ts';
import type { LocalPrincipal } from '#local/sigv4/principals.ts';
import {
  ApiError,
  createSigV4Signer,
  FanoutClient,
  type JobStatusBody,
  signingRegionOf,
} from './client.ts';
import {
  parseJsonNumbers,
  parseNumbersText,
  parseNumberToken,
  parseRange,
  UsageError,
} from './input.ts';
import { runJobCommand } from './job-commands.ts';
import { type ProgressBar, progressBar } from './progress.ts';
import {
  formatResults,
  partialFiles,
  type ResultsFormat,
  resultsFormatOf,
  writeResultsThroughPartial,
  writeResultsTo,
} from './results-output.ts';

/** Where the job commands look without --url or --api: `fanout serve`'s default port. */
const DEFAULT_SERVE_URL = 'http://127.0.0.1:3000';

const HELP = `fanout: square numbers on a serverless fan-out pipeline

Usage:
  fanout square [NUMBER...] [options]   square numbers and print "Squares: [...]"
  fanout serve [--port 3000] [--json] [--cloud-limits] [--principal NAME=KEY_ID:SECRET]...
               [--no-auth]              run the local stack and its API until Ctrl-C
  fanout submit [NUMBER...] [options]   submit a job to a running API, print its id
  fanout status JOB_ID                  print a job's status (JSON)
  fanout wait JOB_ID [--timeout S]      wait for a job to end; exit 0 if it SUCCEEDED
  fanout results JOB_ID [-o FILE] [--timeout S]
                                        a job's squares, streamed as they are computed
                                        (--output writes them to FILE, --format as below)
  fanout cancel JOB_ID                  cancel a running job (terminate())
  fanout redrive JOB_ID                 re-send a FAILED job's failed chunks
  fanout jobs                           list your jobs, newest first
  The job commands talk to --url URL or --api URL, by default a fanout serve at
  http://127.0.0.1:3000; each prints the API's JSON with --json.

Input (square), one of:
  NUMBER...               numbers as arguments: 1 2.5 -3 123456789012345678901234567890
  --file FILE, -f FILE    a JSON array, or one number per line; "-" reads stdin. A file of
                          lines over 1 MiB is uploaded to the stack's input bucket (streamed
                          from disk) and read there, up to 100,000,000 numbers
  -                       read stdin (same as --file -)
  --range A..B            the integers from A to B inclusive

Output (square, results):
  --output FILE, -o FILE  write the squares to FILE (as they are fetched: constant memory)
  --format lines|json     one square per line, or a JSON array (the default into a file);
                          without either, square prints "Squares: [...]"

Options:
  --json                  square: print the whole job result as JSON instead of "Squares: [...]";
                          serve: print one JSON line with the API, the endpoints, tables, queues
  --cloud-limits          enforce AWS's quotas in the local stack (DynamoDB capacity units,
                          partitions and transaction conflicts, API Gateway's 29 s timeout) and
                          report what the job consumed and where it throttled
  --api URL               use a deployed stack (the ApiUrl output of cdk deploy); requests
                          are SigV4-signed with the default AWS credential chain
  --region REGION         region for signing (default: from the URL, then AWS_REGION)
  --url URL               use a running API (e.g. a "fanout serve"); a local one is signed
                          with the local default principal's keys
  --port PORT             serve: port on 127.0.0.1 (default 3000; 0 picks a free one)
  --principal N=KEY:SECRET  serve: accept SigV4 signatures of one more local principal
                          (repeatable); the default principal is always accepted
  --no-auth               serve: do not check SigV4 signatures (unsigned curl works)
  --log-level LEVEL       log level of the local functions (default WARN), logs go to stderr
  --timeout SECONDS       give up waiting for the job (default 600)
  --no-progress           no progress bar on stderr
  -h, --help              this help

Without --api or --url, "square" starts the whole stack on this machine (SQS and DynamoDB
emulators on 127.0.0.1, the functions from their bundles in cdk.out, synthesized first if
needed) and stops it when done. The local API listens on 127.0.0.1 only and checks SigV4
signatures as API Gateway does (the CLI signs with the local default principal's keys);
Java 17 is needed for DynamoDB Local.

Exit codes: 0 done, 1 the job or the stack failed, 2 a usage or input error.
`;

/** Options that take a value: their value is never mistaken for a number to square. */
const VALUE_OPTIONS = new Set([
  '--file',
  '-f',
  '--range',
  '--api',
  '--url',
  '--port',
  '--log-level',
  '--timeout',
  '--region',
  '--principal',
  '--output',
  '-o',
  '--format',
]);
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * parseArgs takes `-5` for an option: move numbers (and a lone `-`) behind `--`, keeping
 * their order, so that negative numbers can be squared.
 */
export function separateArguments(argv: readonly string[]): string[] {
  const options: string[] = [];
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    if (token === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (VALUE_OPTIONS.has(token)) {
      options.push(token);
      const value = argv[index + 1];
      if (value !== undefined) options.push(value);
      index++;
    } else if (token === '-' || NEGATIVE_NUMBER.test(token) || !token.startsWith('-')) {
      positionals.push(token);
    } else {
      options.push(token);
    }
  }
  return [...options, '--', ...positionals];
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({
      args: separateArguments(argv),
      allowPositionals: true,
      strict: true,
      options: {
        file: { type: 'string', short: 'f' },
        range: { type: 'string' },
        json: { type: 'boolean', default: false },
        api: { type: 'string' },
        url: { type: 'string' },
        region: { type: 'string' },
        port: { type: 'string' },
        'log-level': { type: 'string' },
        timeout: { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
        'cloud-limits': { type: 'boolean', default: false },
        principal: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
        format: { type: 'string' },
        'no-auth': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
}

type Values = ReturnType<typeof parseCommandLine>['values'];

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read stdin: ${messageOf(error)}`);
  }
}

function readNumbers(values: Values, args: readonly string[]): unknown[] {
  const stdinDash = args.includes('-');
  const numberArgs = args.filter((arg) => arg !== '-');
  const sources = [
    numberArgs.length > 0,
    values.file !== undefined,
    values.range !== undefined,
    stdinDash,
  ];
  const given = sources.filter(Boolean).length;
  if (given === 0)
    throw new UsageError('nothing to square: give numbers, --file FILE, --range A..B or - (stdin)');
  if (given > 1)
    throw new UsageError('give numbers in one way only: arguments, --file, --range or - (stdin)');
  if (values.range !== undefined) return parseRange(values.range, MAX_NUMBERS_PER_JOB);
  if (values.file !== undefined || stdinDash) {
    const path = values.file ?? '-';
    let text: string;
    if (path === '-') text = readStdin();
    else {
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${path}: ${messageOf(error)}`);
      }
    }
    const source = path === '-' ? 'stdin' : path;
    return path.endsWith('.json') ? parseJsonNumbers(text, source) : parseNumbersText(text, source);
  }
  return numberArgs.map(parseNumberToken);
}

function seconds(text: string | undefined, fallback: number, option: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`${option} must be a positive number of seconds`);
  return value;
}

/** How long a command waits for its job when --timeout does not say. */
const DEFAULT_TIMEOUT_SECONDS = 600;

/** --timeout, in ms. */
function timeoutMsOf(values: Values): number {
  return seconds(values.timeout, DEFAULT_TIMEOUT_SECONDS, '--timeout') * 1000;
}

/** Prints an API error the way a user can act on it. */
function describeApiError(error: ApiError): string {
  const lines = [`fanout: ${error.message}`];
  const details = (
    error.body as { error?: { details?: { errors?: unknown; invalidCount?: unknown } } } | null
  )?.error?.details;
  if (Array.isArray(details?.errors)) {
    for (const item of details.errors.slice(0, 10) as Array<{
      index?: number;
      code?: string;
      message?: string;
    }>) {
      lines.push(`  numbers[${item.index}]: ${item.code}: ${item.message}`);
    }
    const total =
      typeof details.invalidCount === 'number' ? details.invalidCount : details.errors.length;
    if (total > 10) lines.push(`  … ${total - 10} more`);
  }
  return lines.join('\n');
}

async function clientFor(values: Values): Promise<FanoutClient | undefined> {
  if (values.api !== undefined && values.url !== undefined)
    throw new UsageError('give --api or --url, not both');
  if (values.url !== undefined) return new FanoutClient(values.url);
  if (values.api === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(values.api);
  } catch {
    throw new UsageError(`--api must be a URL, got "${values.api}"`);
  }
  const region = signingRegionOf(parsed, values.region);
  if (region === undefined) throw new UsageError('cannot tell the region of --api: give --region');
  return new FanoutClient(values.api, await createSigV4Signer(region));
}

/**
 * The functions' log lines, to stderr. Powertools Metrics warns "No application metrics to
 * publish" on every invocation of a function that emits none (status), whatever the log
 * level; that line is dropped here so that the CLI stays readable.
 */
function functionLogs(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const line = chunk.toString('utf8');
      if (!line.includes('No application metrics to publish')) process.stderr.write(line);
      callback();
    },
  });
}

async function startLocalStack(
  values: Values,
  apiPort: number | undefined,
): Promise<EmbeddedStack> {
  const { EmbeddedStack } = await import('#local/embedded-stack.ts');
  const stack = new EmbeddedStack({
    auth: await localAuth(values),
    logSink: functionLogs(),
    ...(values['cloud-limits'] ? { cloudLimits: true } : {}),
    ...(apiPort === undefined ? {} : { apiPort }),
    ...(values['log-level'] === undefined ? {} : { logLevel: values['log-level'].toUpperCase() }),
  });
  await stack.start();
  return stack;
}

/** Stops the local stack on Ctrl-C / SIGTERM before exiting (no emulator outlives us). */
function stopOnSignals(stack: EmbeddedStack, exitCode: number): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nfanout: ${signal}, stopping the local stack…\n`);
    for (const file of partialFiles) rmSync(file, { force: true });
    stack
      .stop()
      .catch((error: unknown) => process.stderr.write(`fanout: ${messageOf(error)}\n`))
      .finally(() => process.exit(exitCode));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** What a job is made of: numbers for the request body, or a file to upload. */
type JobSource =
  | { readonly numbers: unknown[] }
  | { readonly upload: string; readonly sizeBytes: number };

/**
 * The input of `square` or `submit`, read before anything starts so that a mistake in it
 * costs no stack start: a file of lines too large for a request body goes through an upload.
 */
async function jobSourceOf(values: Values, args: readonly string[]): Promise<JobSource> {
  const path = values.file;
  const onlyFile = path !== undefined && path !== '-' && args.length === 0;
  const sizeBytes = onlyFile && values.range === undefined ? await uploadSizeOf(path) : undefined;
  if (path !== undefined && sizeBytes !== undefined) return { upload: path, sizeBytes };
  return { numbers: readNumbers(values, args) };
}

/** Starts the job of `source`: an upload (with its progress bar), or a request body. */
async function startJob(
  client: FanoutApi,
  source: JobSource,
  showProgress: boolean,
  timeoutMs: number,
): Promise<SubmittedJob | StartedInputJob> {
  if ('numbers' in source) return client.submit(source.numbers);
  const bar = progressBar(showProgress, process.stderr, Date.now, 'upload');
  try {
    return await client.submitFile(source.upload, {
      format: 'lines',
      sizeBytes: source.sizeBytes,
      onProgress: (sent, total) => bar.step(sent, total, 'bytes'),
      // --timeout bounds the upload too: a stalled one is not waited for without end.
      signal: AbortSignal.timeout(timeoutMs),
    });
  } finally {
    bar.finish();
  }
}

async function square(values: Values, args: readonly string[]): Promise<number> {
  const timeoutMs = timeoutMsOf(values);
  const format = resultsFormatOf(values.format, values.output !== undefined);
  if (values.json && (values.format !== undefined || values.output !== undefined))
    throw new UsageError('give --json or --format/--output, not both');
  const source = await jobSourceOf(values, args);
  let client = await clientFor(values);
  if (client !== undefined && values['cloud-limits'])
    throw new UsageError('--cloud-limits applies to the local stack, not to --url or --api');
  let stack: EmbeddedStack | undefined;
  if (client === undefined) {
    stack = await startLocalStack(values, undefined);
    stopOnSignals(stack, 130);
    client = new FanoutClient(stack.apiUrl);
  }
  const showProgress = !values['no-progress'];
  const bar = progressBar(showProgress, process.stderr, Date.now, 'compute');
  try {
    const submitted = await startJob(client, source, showProgress, timeoutMs);
    if (values.output !== undefined && !values.json) {
      const code = await squareIntoFile(client, submitted.jobId, values.output, format, {
        timeoutMs,
        showProgress,
        bar,
      });
      const limits = values['cloud-limits'] ? await stack?.cloudLimitsReport() : undefined;
      if (limits !== undefined) process.stderr.write(describeLimits(limits));
      return code;
    }
    const job = await client.waitForJob(submitted.jobId, { onStatus: bar.update, timeoutMs });
    bar.finish();
    const report = values['cloud-limits'] ? await stack?.cloudLimitsReport() : undefined;
    if (report !== undefined && !values.json) process.stderr.write(describeLimits(report));
    if (job.status !== 'SUCCEEDED') {
      process.stderr.write(`fanout: job ${job.jobId} ended ${job.status}${describeFailure(job)}\n`);
      if (values.json) process.stdout.write(`${JSON.stringify({ ...job, ...report })}\n`);
      return 1;
    }
    if (values.json) {
      const results = await client.resultsOf(job);
      const { results: _inline, ...rest } = job;
      process.stdout.write(`${JSON.stringify({ ...rest, results, ...report })}\n`);
      return 0;
    }
    if (Array.isArray(job.results) && format === 'squares') {
      process.stdout.write(formatResults(job.results, format));
      return 0;
    }
    // To stdout only once the job has SUCCEEDED: what is printed cannot be taken back.
    const download = progressBar(showProgress, process.stderr, Date.now, 'download');
    await writeResultsTo(undefined, new Job(client, job.jobId).pages(), format, (count) =>
      download.step(count, job.numbersCount, 'numbers'),
    );
    download.finish();
    return 0;
  } finally {
    bar.clear();
    await stack?.stop();
  }
}

/**
 * Streams a job's squares into `output` while it runs (its first pages are written while
 * later chunks compute), through `output.partial`, renamed to `output` once the job has
 * SUCCEEDED and removed otherwise: `output` is never a part of the results.
 * @returns the exit code: 0, or 1 when the job failed, was cancelled or outlasted the timeout
 */
async function squareIntoFile(
  client: FanoutApi,
  jobId: string,
  output: string,
  format: ResultsFormat,
  options: {
    readonly timeoutMs: number;
    readonly showProgress: boolean;
    readonly bar: ProgressBar;
  },
): Promise<number> {
  const job = new Job(client, jobId);
  const { bar } = options;
  // Only a bar on show listens: a stream reads the job's status between asks for its listeners.
  if (options.showProgress) {
    job.on('progress', () => {
      if (job.lastStatus !== undefined) bar.update(job.lastStatus);
    });
  }
  const download = progressBar(options.showProgress, process.stderr, Date.now, 'download');
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const written = await writeResultsThroughPartial(
      output,
      job.pages({ signal }),
      format,
      (count) => {
        const seen = job.lastStatus;
        if (seen?.status === 'SUCCEEDED') download.step(count, seen.numbersCount, 'numbers');
      },
    );
    bar.finish();
    download.finish();
    process.stderr.write(`fanout: wrote ${written} squares of job ${jobId} to ${output}\n`);
    return 0;
  } catch (error) {
    bar.clear();
    download.clear();
    if (error instanceof JobFailedError || error instanceof JobCancelledError) {
      process.stderr.write(
        `fanout: job ${jobId} ended ${error.job.status}${describeFailure(error.job)}\n`,
      );
      return 1;
    }
    if (signal.aborted) {
      process.stderr.write(
        `fanout: job ${jobId} did not end within ${options.timeoutMs / 1000} s; it goes on (fanout status ${jobId})\n`,
      );
      return 1;
    }
    throw error;
  }
}

/** The cloud-limits report in a few lines, for stderr. */
function describeLimits(report: CloudLimitsReport): string {
  const { dynamodb } = report;
  return [
    `fanout: cloud limits: DynamoDB ${dynamodb.writeUnits} write units, ${dynamodb.readUnits} read units; ${dynamodb.throttledRequests} throttled requests, ${dynamodb.transactionConflicts} transaction conflicts`,
    `  hottest partition: ${dynamodb.hottestPartitionPeakWcuPerSecond} WCU/s, ${dynamodb.hottestPartitionPeakRcuPerSecond} RCU/s at peak (1 s windows); ${report.redeliveries} redeliveries, ${report.deadLetters} dead letters`,
    '',
  ].join('\n');
}

/** Bad lines a failure lists, this many at most on the terminal. */
const SHOWN_BAD_LINES = 10;

/** Why a job failed: its code and message, and the first bad lines of an INVALID_INPUT. */
function describeFailure(job: Pick<JobStatusBody, 'failure'>): string {
  const failure = job.failure;
  if (failure === undefined) return '';
  const lines = [
    `: ${failure.code ?? ''}${failure.message === undefined ? '' : ` ${failure.message}`}`,
  ];
  const bad = failure.badLines ?? [];
  for (const line of bad.slice(0, SHOWN_BAD_LINES)) {
    lines.push(`  line ${line.line}: ${line.code}: ${line.message}`);
  }
  const total = failure.badLineCount ?? bad.length;
  if (total > SHOWN_BAD_LINES) lines.push(`  … ${total - SHOWN_BAD_LINES} more bad lines`);
  return lines.join('\n');
}

/** `--no-auth` and `--principal`: the local API's SigV4 checks. */
async function localAuth(values: Values): Promise<false | { principals: LocalPrincipal[] }> {
  const given = values.principal ?? [];
  if (values['no-auth']) {
    if (given.length > 0) throw new UsageError('give --principal or --no-auth, not both');
    return false;
  }
  const { parsePrincipal } = await import('#local/sigv4/principals.ts');
  try {
    return { principals: given.map(parsePrincipal) };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function serve(values: Values): Promise<number> {
  const port = values.port === undefined ? 3000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError('--port must be 0 to 65535');
  const stack = await startLocalStack(values, port);
  stopOnSignals(stack, 0);
  const described = stack.describe();
  const { cloudLimits: _, ...where } = described;
  const { principalsJson } = await import('#local/sigv4/principals.ts');
  const principals = principalsJson(stack.principals);
  // With --json, stdout is that one line; otherwise the API's URL, the rest on stderr.
  process.stdout.write(
    values.json ? `${JSON.stringify({ ...where, principals })}\n` : `${stack.apiUrl}\n`,
  );
  const { endpointsBanner, serveBanner } = await import('./serve-banner.ts');
  process.stderr.write(
    serveBanner(stack.apiUrl, stack.authEnabled, stack.principals) + endpointsBanner(described),
  );
  // Runs until a signal: the HTTP server keeps the event loop alive.
  await new Promise<never>(() => undefined);
  return 0;
}

/** The job commands: against --url, --api, or a `fanout serve` on its default port. */
async function jobCommand(
  command: string,
  values: Values,
  args: readonly string[],
): Promise<number> {
  const client = (await clientFor(values)) ?? new FanoutClient(DEFAULT_SERVE_URL);
  return runJobCommand(
    command,
    args,
    client,
    {
      json: values.json,
      progress: !values['no-progress'],
      timeoutMs: timeoutMsOf(values),
      ...(values.output === undefined ? {} : { output: values.output }),
      ...(values.format === undefined ? {} : { format: values.format }),
    },
    async () =>
      startJob(
        client,
        await jobSourceOf(values, args),
        !values['no-progress'],
        timeoutMsOf(values),
      ),
  );
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    }
    const { values, positionals } = parseCommandLine(rest);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    switch (command) {
      case 'square':
        return await square(values, positionals);
      case 'serve':
        return await serve(values);
      case 'status':
      case 'submit':
      case 'wait':
      case 'results':
      case 'cancel':
      case 'redrive':
      case 'jobs':
        return await jobCommand(command, values, positionals);
      default:
        throw new UsageError(`unknown command "${command}"; try fanout --help`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`fanout: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ApiError) {
      process.stderr.write(`${describeApiError(error)}\n`);
      return error.status >= 400 && error.status < 500 ? 2 : 1;
    }
    process.stderr.write(`fanout: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

// Run when executed (npx fanout, node bin/fanout.ts), not when imported by tests.
if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Whatever might still hold the event loop (a keep-alive socket), do not hang on it.
  setTimeout(() => process.exit(code), 2_000).unref();
}
