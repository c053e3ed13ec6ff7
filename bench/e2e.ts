/**
 * End-to-end benchmark: 1,000,000 numbers through the whole local pipeline
 *   client → REST API → dispatcher → SQS → workers → aggregator (Invoke) → DynamoDB
 *   → results streamed back while the job runs (as pool.imap and the CLI take them) → exact check (BigInt),
 * next to Python's multiprocessing.Pool.map on the same numbers (when python3 exists).
 *
 *   npm run bench:e2e [-- --count 1000000 --seed 42 --concurrency N --cdk-out DIR]
 *   npm run bench:e2e -- --cloud-limits [--max-wait-seconds 600]
 *   npm run bench:e2e -- --numbers 10000000 [--cloud-limits]   (past a body's 1,000,000:
 *     a file of lines through the CLI and the S3 upload path, bench/e2e-file.ts)
 *
 * Prints the split of time by stage and ends with one JSON line {"bench":"e2e", ...}.
 * Target: 1,000,000 numbers end to end in at most 10 s on a 2-core machine.
 *
 * With --cloud-limits the local stack enforces AWS's quotas (docs/CLOUD-LIMITS.md) and the
 * line gains what the job consumed and hit: "cloudLimits": true, "dynamodb" (units, throttles,
 * conflicts, the hottest partition's peaks, by function), "redeliveries", "deadLetters". A
 * throttled job may not finish: the bench stops waiting after --max-wait-seconds and still
 * prints its line, with the status the job reached.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Job, type SquareResult } from '#client/index.ts';
import { gzipNumbersText } from '#commons/compression.ts';
import { MAX_BINARY_REQUEST_BODY_BYTES, MAX_NUMBERS_PER_JOB } from '#commons/limits.ts';
import { TestStack } from '#local/harness/index.ts';
import type { InvocationRecord } from '#local/runtime/function-host.ts';
import { seededRandom } from '#local/seeded-random.ts';
import { FanoutClient } from '../bin/client.ts';
import { runFileBench } from './e2e-file.ts';
import { poolMapScript } from './python-pool.ts';

const TARGET_SECONDS = 10;

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    /** The same as --count. */
    numbers: { type: 'string' },
    seed: { type: 'string', default: '42' },
    concurrency: { type: 'string' },
    environments: { type: 'string' },
    /** Run an existing cloud assembly instead of synthesizing the app. */
    'cdk-out': { type: 'string' },
    'no-python': { type: 'boolean', default: false },
    'cloud-limits': { type: 'boolean', default: false },
    'max-wait-seconds': { type: 'string', default: '600' },
  },
});
const count = Number(values.numbers ?? values.count);
const seed = Number(values.seed);
const cloudLimits = values['cloud-limits'];
const maxWaitSeconds = Number(values['max-wait-seconds']);
if (!(Number.isFinite(maxWaitSeconds) && maxWaitSeconds > 0)) {
  throw new RangeError(
    `--max-wait-seconds must be a positive number, got ${values['max-wait-seconds']}`,
  );
}

/** Deterministic integers in ±1,000,000. */
function numbersFor(n: number, seedValue: number): number[] {
  const next = seededRandom(seedValue);
  return Array.from({ length: n }, () => Math.floor(next() * 2_000_001) - 1_000_000);
}

const ms = (value: number) => Math.round(value);

const line = (text: string) => process.stdout.write(`${text}\n`);

interface Span {
  readonly count: number;
  readonly busyMs: number;
  readonly firstStart: number;
  readonly lastEnd: number;
}

function span(records: readonly InvocationRecord[]): Span {
  return {
    count: records.length,
    busyMs: records.reduce((sum, record) => sum + (record.endedAt - record.startedAt), 0),
    firstStart: Math.min(...records.map((record) => record.startedAt)),
    lastEnd: Math.max(...records.map((record) => record.endedAt)),
  };
}

function runPython(numbers: readonly number[]): Record<string, unknown> {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return { available: false };
  const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-'));
  try {
    const input = join(dir, 'numbers.json');
    writeFileSync(input, JSON.stringify(numbers));
    const script = poolMapScript('json');
    const started = performance.now();
    const run = spawnSync('python3', ['-c', script, input], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    const wallMs = performance.now() - started;
    if (run.status !== 0) return { available: true, error: run.stderr.slice(-500) };
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    return {
      available: true,
      version: probe.stdout.trim() || probe.stderr.trim(),
      wallMs,
      ...report,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  line(
    `fanout e2e bench: ${count.toLocaleString('en-US')} numbers, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'})`,
  );
  const numbers = numbersFor(count, seed);

  const startAt = performance.now();
  const stack = new TestStack({
    logSink: null,
    logLevel: 'ERROR',
    // Every execution environment started with the stack, as provisioned concurrency would.
    warm: 'all',
    ...(process.env.FANOUT_BENCH_JVM === undefined
      ? {}
      : { dynamoDbJvmFlags: process.env.FANOUT_BENCH_JVM.split(' ').filter(Boolean) }),
    ...(values['cdk-out'] === undefined ? {} : { cdkOutDir: values['cdk-out'], synth: false }),
    ...(cloudLimits ? { cloudLimits: true } : {}),
    ...(values.concurrency === undefined ? {} : { maxConcurrency: Number(values.concurrency) }),
    ...(values.environments === undefined
      ? {}
      : { maxEnvironmentsPerFunction: Number(values.environments) }),
  });
  await stack.start();
  const startupMs = performance.now() - startAt;
  const records = new Map<string, InvocationRecord[]>();
  for (const [logicalId, fn] of stack.functions) {
    records.set(logicalId, []);
    fn.observe((record) => records.get(logicalId)?.push(record));
  }
  const roleOf = (selector: string) => {
    const fn = stack.fn(selector);
    return [...stack.functions].find(([, candidate]) => candidate === fn)?.[0] ?? selector;
  };

  try {
    const client = new FanoutClient(stack.apiUrl);
    // What the client will send (client/fanout-api.ts: JSON, gzipNumbersText), measured apart.
    const e0 = performance.now();
    const json = JSON.stringify({ numbers });
    const gzipped = gzipNumbersText(json, MAX_BINARY_REQUEST_BODY_BYTES);
    const encodeMs = performance.now() - e0;
    // What the environments' init consumed (they prime their clients as provisioned
    // concurrency does) is not the job's: the instrument's counts are taken from here on.
    const baseline = cloudLimits ? await stack.cloudLimitsReport() : undefined;
    const t0 = performance.now();
    const submitted = await client.submit(numbers);
    const t1 = performance.now();
    // The squares are streamed while the job runs, as `pool.imap` and the CLI's --output take
    // them; under cloud limits a job may never finish: give up after --max-wait-seconds.
    const streamed = new Job(client, submitted.jobId);
    const results: SquareResult[] = [];
    try {
      const signal = AbortSignal.timeout(maxWaitSeconds * 1000);
      for await (const page of streamed.pages({ signal })) {
        for (const value of page.results) results.push(value);
      }
    } catch (error) {
      line(`job not finished: ${error instanceof Error ? error.message : String(error)}`);
    }
    const t3 = performance.now();
    const job = await client.status(submitted.jobId);
    if (job.status !== 'SUCCEEDED') {
      line(`job ended ${job.status}: ${JSON.stringify(job.failure ?? null)}`);
    }
    const endToEndMs = t3 - t0;

    // Exact check against BigInt, outside the timed path.
    let wrong = 0;
    let sum = 0n;
    for (let index = 0; index < numbers.length; index++) {
      const root = BigInt(numbers[index] as number);
      const square = root * root;
      sum += square;
      if (index >= results.length) continue;
      const got = results[index];
      if (typeof got === 'number' ? BigInt(got) !== square : String(got) !== square.toString())
        wrong++;
    }
    // Results missing (a job that did not finish) or extra count as wrong, once each.
    wrong += Math.abs(results.length - numbers.length);
    const report = cloudLimits ? await stack.cloudLimitsReport({ since: baseline }) : undefined;

    const dispatcher = span(records.get(roleOf('dispatcher')) ?? []);
    const worker = span(records.get(roleOf('worker')) ?? []);
    const aggregator = span(records.get(roleOf('aggregator')) ?? []);
    const status = span(records.get(roleOf('status')) ?? []);
    const mapping = stack.mappingFor('worker');
    const stages = {
      clientEncodeMs: ms(encodeMs),
      submitMs: ms(t1 - t0),
      dispatcherMs: ms(dispatcher.busyMs),
      dispatcherStartToFirstWorkerMs: ms(worker.firstStart - dispatcher.firstStart),
      workersWallMs: ms(worker.lastEnd - worker.firstStart),
      workerBusyMs: ms(worker.busyMs),
      aggregatorBusyMs: ms(aggregator.busyMs),
      // The squares come while the job runs: what is left once its last chunk is stored.
      lastChunkToLastResultMs: ms(t3 - worker.lastEnd),
      processingWallMs: ms(t3 - t1),
    };

    line('');
    line(`local stack start        ${ms(startupMs)} ms (not in the end-to-end time)`);
    line(
      `client JSON+gzip          ${stages.clientEncodeMs} ms (${(json.length / 1e6).toFixed(1)} MB → ${(gzipped.length / 1e6).toFixed(1)} MB)`,
    );
    line(
      `POST /jobs → 202          ${stages.submitMs} ms (dispatcher busy ${stages.dispatcherMs} ms: inflate, validate, chunk, SendMessageBatch)`,
    );
    line(
      `chunks                    ${submitted.chunkCount} (worker batches ${mapping.stats.batches}, concurrency ${mapping.options.maximumConcurrency}, batch size ${mapping.options.batchSize})`,
    );
    line(
      `dispatcher → 1st worker   ${stages.dispatcherStartToFirstWorkerMs} ms after the dispatcher started (chunks flow while it still sends)`,
    );
    line(
      `workers, first→last       ${stages.workersWallMs} ms wall; busy ${stages.workerBusyMs} ms in ${worker.count} invocations (includes waiting on the aggregator)`,
    );
    line(
      `aggregator                ${stages.aggregatorBusyMs} ms busy in ${aggregator.count} invocations (DynamoDB transactions)`,
    );
    line(
      `last worker → last square ${stages.lastChunkToLastResultMs} ms (streamed while the job ran; status polls: ${status.count})`,
    );
    line(
      `end to end                ${ms(endToEndMs)} ms → ${Math.round(count / (endToEndMs / 1000)).toLocaleString('en-US')} numbers/s; wrong results: ${wrong}`,
    );

    // The DynamoDB units of the job's own cost estimate (`GET /jobs/{jobId}` `cost`).
    const estimate = {
      dynamodbReadUnits: job.cost.dynamodbReadUnits,
      dynamodbWriteUnits: job.cost.dynamodbWriteUnits,
    };
    if (report !== undefined) {
      const { dynamodb } = report;
      line(
        `cloud limits              DynamoDB ${dynamodb.writeUnits} WCU, ${dynamodb.readUnits} RCU; ${dynamodb.throttledRequests} throttled, ${dynamodb.transactionConflicts} conflicts; hottest partition ${dynamodb.hottestPartitionPeakWcuPerSecond} WCU/s, ${dynamodb.hottestPartitionPeakRcuPerSecond} RCU/s; ${report.redeliveries} redeliveries, ${report.deadLetters} dead letters`,
      );
      // The job's own estimate leaves out status polls and result fetches (the client's).
      const statusReads = dynamodb.byFunction.Status?.readUnits ?? 0;
      line(
        `job cost estimate         ${estimate.dynamodbWriteUnits} WCU (instrument ${dynamodb.writeUnits}), ${estimate.dynamodbReadUnits} RCU (instrument, without the status function's ${statusReads}: ${dynamodb.readUnits - statusReads})`,
      );
    }
    const python = values['no-python'] ? { available: false, skipped: true } : runPython(numbers);
    if (python.available === true && typeof python.mapMs === 'number') {
      const pythonSumMatches = python.sum === sum.toString();
      line(
        `python3 Pool.map          ${ms(python.mapMs as number)} ms map, ${ms(python.totalMs as number)} ms with load+pool start (${python.processes} processes); same sum: ${pythonSumMatches}`,
      );
      Object.assign(python, { sumMatches: pythonSumMatches });
    } else {
      line(
        `python3 Pool.map          not measured (${python.available === false ? 'no python3' : String(python.error)})`,
      );
    }
    const summary = {
      bench: 'e2e',
      numbers: count,
      chunks: submitted.chunkCount,
      cores: availableParallelism(),
      endToEndMs: ms(endToEndMs),
      numbersPerSecond: Math.round(count / (endToEndMs / 1000)),
      targetMs: TARGET_SECONDS * 1000,
      metTarget: endToEndMs <= TARGET_SECONDS * 1000 && wrong === 0,
      status: job.status,
      progress: job.progress,
      exact: wrong === 0,
      cloudLimits,
      ...(report === undefined
        ? {}
        : {
            dynamodb: report.dynamodb,
            redeliveries: report.redeliveries,
            deadLetters: report.deadLetters,
          }),
      costEstimate: estimate,
      stages,
      workerInvocations: worker.count,
      aggregatorInvocations: aggregator.count,
      eventSourceConcurrency: mapping.options.maximumConcurrency,
      stackStartMs: ms(startupMs),
      python: {
        available: python.available,
        ...(typeof python.mapMs === 'number'
          ? {
              mapMs: ms(python.mapMs as number),
              totalMs: ms(python.totalMs as number),
              processes: python.processes,
              numbersPerSecond: Math.round(count / ((python.mapMs as number) / 1000)),
              sumMatches: python.sumMatches,
            }
          : {}),
      },
    };
    line(JSON.stringify(summary));
    // A wrong answer always fails; under cloud limits a job that did not finish is a finding.
    const succeeded = job.status === 'SUCCEEDED';
    process.exitCode = wrong === 0 || (cloudLimits && !succeeded) ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

if (count > MAX_NUMBERS_PER_JOB) {
  await runFileBench({
    count,
    seed,
    cloudLimits,
    maxWaitSeconds,
    python: !values['no-python'],
    cdkOut: values['cdk-out'],
    maxConcurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
    maxEnvironmentsPerFunction:
      values.environments === undefined ? undefined : Number(values.environments),
  });
} else {
  await main();
}
