/**
 * The end-to-end bench of a job too large for a request body (`npm run bench:e2e --
 * --numbers 10000000 [--cloud-limits]`): a file of one number per line, squared by the CLI as
 * a user runs it,
 *   fanout square --url <local API> --file n.txt --format lines --output sq.txt
 * (upload to the presigned URLs, ranges read by the workers, results streamed to the file),
 * against a local stack started here. The results file is checked line by line against BigInt;
 * the CLI's peak RSS is its own (getrusage in the CLI process). Python's Pool.map squares the
 * same file in the same run, for the ratio.
 *
 * Prints a few lines, then one JSON line {"bench":"e2e","input":"file", ...} with
 * endToEndMs, status, exact, cliPeakRssMb and, under --cloud-limits, what DynamoDB took.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_DIR } from '#local/embedded-stack.ts';
import { TestStack } from '#local/harness/index.ts';
import { seededRandom } from '#local/seeded-random.ts';
import { FanoutClient } from '../bin/client.ts';
import { poolMapScript } from './python-pool.ts';
import { RSS_REPORT_FILE_ENV } from './report-rss.ts';

/** The bounds of issue-level targets this bench is judged by. */
const TARGET_END_TO_END_MS = 30_000;
const TARGET_CLI_PEAK_RSS_MB = 300;

export interface FileBenchOptions {
  readonly count: number;
  readonly seed: number;
  readonly cloudLimits: boolean;
  readonly maxWaitSeconds: number;
  readonly python: boolean;
  readonly cdkOut?: string | undefined;
  /** The local caps of the stack (`--concurrency`, `--environments`), as in the body bench. */
  readonly maxConcurrency?: number | undefined;
  readonly maxEnvironmentsPerFunction?: number | undefined;
}

const line = (text: string) => process.stdout.write(`${text}\n`);
const ms = (value: number) => Math.round(value);

/** Writes `count` seeded integers in ±1,000,000, one a line; streamed, never held whole. */
async function writeInput(path: string, count: number, seed: number): Promise<number> {
  const next = seededRandom(seed);
  const file = createWriteStream(path);
  const batch = 100_000;
  for (let done = 0; done < count; done += batch) {
    const lines: string[] = [];
    for (let index = done; index < Math.min(count, done + batch); index++) {
      lines.push(String(Math.floor(next() * 2_000_001) - 1_000_000));
    }
    if (!file.write(`${lines.join('\n')}\n`)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'close');
  return file.bytesWritten;
}

/** Compares the results file with the squares of the input, line by line, with BigInt. */
async function checkResults(inputPath: string, outputPath: string): Promise<number> {
  const inputs = createInterface({ input: createReadStream(inputPath), crlfDelay: Infinity });
  const outputs = createInterface({ input: createReadStream(outputPath), crlfDelay: Infinity })[
    Symbol.asyncIterator
  ]();
  let wrong = 0;
  for await (const number of inputs) {
    const got = await outputs.next();
    const root = BigInt(number);
    if (got.done === true || got.value !== (root * root).toString()) wrong++;
  }
  // Lines beyond the input's are wrong too.
  for (let extra = await outputs.next(); extra.done !== true; extra = await outputs.next()) wrong++;
  return wrong;
}

function runPython(inputPath: string): Record<string, unknown> {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return { available: false };
  const script = poolMapScript('lines');
  const run = spawnSync('python3', ['-c', script, inputPath], { encoding: 'utf8' });
  if (run.status !== 0) return { available: true, error: run.stderr.slice(-500) };
  return { available: true, ...(JSON.parse(run.stdout) as Record<string, unknown>) };
}

interface CliRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly wallMs: number;
  readonly peakRssMb: number | undefined;
}

/** Runs the CLI as a user would (its own Node process), with the RSS report preloaded. */
async function runCli(args: readonly string[], rssFile: string): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      join(PROJECT_DIR, 'bench', 'report-rss.ts'),
      join(PROJECT_DIR, 'bin', 'fanout.ts'),
      ...args,
    ],
    {
      cwd: PROJECT_DIR,
      env: { ...process.env, [RSS_REPORT_FILE_ENV]: rssFile },
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const wallMs = performance.now() - started;
  let peakRssMb: number | undefined;
  try {
    peakRssMb = Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024);
  } catch {
    peakRssMb = undefined;
  }
  return { code, stderr, wallMs, peakRssMb };
}

export async function runFileBench(options: FileBenchOptions): Promise<void> {
  const { count, cloudLimits } = options;
  const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-file-'));
  const inputPath = join(dir, 'n.txt');
  const outputPath = join(dir, 'sq.txt');
  try {
    line(
      `fanout e2e bench (file): ${count.toLocaleString('en-US')} numbers through the CLI, ${availableParallelism()} cores${cloudLimits ? ', cloud limits' : ''}`,
    );
    const inputBytes = await writeInput(inputPath, count, options.seed);
    const stack = new TestStack({
      logSink: null,
      logLevel: 'ERROR',
      ...(options.cdkOut === undefined ? {} : { cdkOutDir: options.cdkOut, synth: false }),
      ...(cloudLimits ? { cloudLimits: true } : {}),
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      ...(options.maxEnvironmentsPerFunction === undefined
        ? {}
        : { maxEnvironmentsPerFunction: options.maxEnvironmentsPerFunction }),
    });
    await stack.start();
    try {
      const cli = await runCli(
        [
          'square',
          '--url',
          stack.apiUrl,
          '--file',
          inputPath,
          '--format',
          'lines',
          '--output',
          outputPath,
          '--no-progress',
          '--timeout',
          String(options.maxWaitSeconds),
        ],
        join(dir, 'rss'),
      );
      const jobId = /job ([0-9a-f-]{36})/.exec(cli.stderr)?.[1];
      const client = new FanoutClient(stack.apiUrl);
      const job = jobId === undefined ? undefined : await client.status(jobId);
      const wrong = cli.code === 0 ? await checkResults(inputPath, outputPath) : count;
      const report = cloudLimits ? await stack.cloudLimitsReport() : undefined;
      const python = options.python ? runPython(inputPath) : { available: false, skipped: true };

      line(`input                     ${(inputBytes / 1e6).toFixed(1)} MB of lines`);
      line(
        `CLI square → file         ${ms(cli.wallMs)} ms, exit ${cli.code}, peak RSS ${cli.peakRssMb ?? '?'} MB; wrong results: ${wrong}`,
      );
      if (cli.code !== 0) line(cli.stderr.trim().split('\n').slice(-5).join('\n'));
      if (report !== undefined) {
        const { dynamodb } = report;
        line(
          `cloud limits              DynamoDB ${dynamodb.writeUnits} WCU, ${dynamodb.readUnits} RCU; ${dynamodb.throttledRequests} throttled; hottest partition ${dynamodb.hottestPartitionPeakWcuPerSecond} WCU/s; ${report.redeliveries} redeliveries, ${report.deadLetters} dead letters`,
        );
      }
      if (typeof python.totalMs === 'number') {
        line(
          `python3 Pool.map          ${ms(python.totalMs)} ms with load (${python.processes} processes): fanout/python ${(cli.wallMs / python.totalMs).toFixed(1)}x`,
        );
      }
      const summary = {
        bench: 'e2e',
        input: 'file',
        numbers: count,
        inputBytes,
        chunks: job?.progress.chunkCount,
        cores: availableParallelism(),
        endToEndMs: ms(cli.wallMs),
        targetMs: TARGET_END_TO_END_MS,
        metTarget:
          cli.wallMs <= TARGET_END_TO_END_MS &&
          wrong === 0 &&
          (cli.peakRssMb ?? Number.POSITIVE_INFINITY) < TARGET_CLI_PEAK_RSS_MB,
        status: job?.status ?? 'UNKNOWN',
        failure: job?.failure,
        exact: wrong === 0,
        cliExitCode: cli.code,
        cliPeakRssMb: cli.peakRssMb,
        // From the job's creation (before its upload) to its completion.
        jobDurationMs: job?.timing.durationMs,
        cloudLimits,
        ...(report === undefined
          ? {}
          : {
              dynamodb: report.dynamodb,
              redeliveries: report.redeliveries,
              deadLetters: report.deadLetters,
            }),
        ...(job === undefined ? {} : { costEstimate: job.cost }),
        python:
          typeof python.totalMs === 'number'
            ? { available: true, totalMs: ms(python.totalMs), mapMs: ms(Number(python.mapMs)) }
            : { available: python.available },
      };
      line(JSON.stringify(summary));
      process.exitCode = wrong === 0 ? 0 : 1;
    } finally {
      await stack.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
