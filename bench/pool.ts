/**
 * npm run bench:pool: the worker's compute engine against the inline loop and against the
 * tutorial's one-process-per-number pattern, on the same inputs, in one run.
 *
 * Methods:
 *   inline     the single-thread loop (the physical floor for plain squares)
 *   pool       every chunk through the child-process pool (ProcessPool.run)
 *   adaptive   the worker's path (compute.ts): inline or pool, by the measured cost model
 *   tutorial   the tutorial's pattern in Node: one process per number, start, join, queue
 *   python     the tutorial's own script under python3 (when python3 exists)
 * Each timed method is warmed up first; samples are interleaved and the median is reported.
 * It ends with one JSON line, {"bench":"pool", ...}, with the ratios and the targets.
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NumberInput, SquareResult } from '#commons/numbers.ts';
import { seededRandom } from '#local/seeded-random.ts';
import {
  createChunkEngine,
  POOL_ROUND_TRIP_NS,
  POOL_TRANSPORT_NS_PER_ELEMENT,
} from '../functions/worker/compute.ts';
import { applyInline, workerKernel } from '../functions/worker/kernel.ts';

type Method = () => unknown;

/** Plain numbers: integers and fractions, both signs, all with squares exact as doubles. */
function plainNumbers(count: number, seed: number): number[] {
  const next = seededRandom(seed);
  const numbers: number[] = [];
  for (let index = 0; index < count; index++) {
    const magnitude = next() * 10_000_000;
    const value = index % 2 === 0 ? Math.floor(magnitude) : magnitude / 1_000;
    numbers.push(next() < 0.5 ? -value : value);
  }
  return numbers;
}

/** Integer strings of exactly `digits` digits, some negative. */
function bigIntegers(count: number, digits: number, seed: number): string[] {
  const next = seededRandom(seed);
  const strings: string[] = [];
  for (let index = 0; index < count; index++) {
    const characters = [String(1 + Math.floor(next() * 9))];
    for (let digit = 1; digit < digits; digit++) characters.push(String(Math.floor(next() * 10)));
    strings.push((index % 3 === 0 ? '-' : '') + characters.join(''));
  }
  return strings;
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Milliseconds per call of `method`, timed over `batch` calls. */
async function timeBatch(method: Method, batch: number): Promise<number> {
  const start = performance.now();
  for (let call = 0; call < batch; call++) await method();
  return (performance.now() - start) / batch;
}

/**
 * Makes timeBatch's call site megamorphic before anything is measured. Otherwise V8 inlines
 * the first method it meets there, deoptimizes on the next ("wrong call target"), and the
 * method measured first then ran ~3× slower than the same code measured alone (1,000 plain
 * squares: 6 µs against 1.7 µs). Megamorphic, it inlines no method and favours none.
 */
async function primeTimer(): Promise<void> {
  const targets: Method[] = [() => 1, () => 2, () => 3, () => 4, () => 5, () => 6];
  for (let call = 0; call < 3_000; call++)
    await timeBatch(targets[call % targets.length] as Method, 1);
}

/**
 * Median milliseconds per call of each method: each is warmed up for `warmupMs` (JIT tiers,
 * the children's buffers), then `reps` samples of `batch` calls are taken, interleaved so
 * that a burst of load elsewhere hits every method alike.
 */
async function measure(
  methods: Record<string, Method>,
  { batch, reps, warmupMs }: { batch: number; reps: number; warmupMs: number },
): Promise<Record<string, number>> {
  for (const method of Object.values(methods)) {
    const until = performance.now() + warmupMs;
    do await timeBatch(method, batch);
    while (performance.now() < until);
  }
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(methods).map((name) => [name, []]),
  );
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, method] of Object.entries(methods)) {
      samples[name]?.push(await timeBatch(method, batch));
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, median(ms)]));
}

function assertSameResults(label: string, actual: SquareResult[], expected: SquareResult[]): void {
  if (actual.length !== expected.length) throw new Error(`${label}: wrong result count`);
  for (let index = 0; index < expected.length; index++) {
    if (!Object.is(actual[index], expected[index])) {
      throw new Error(
        `${label}: results[${index}] is ${actual[index]}, expected ${expected[index]}`,
      );
    }
  }
}

/** The tutorial's child: square one number, print it, put it on the queue (IPC), exit. */
const TUTORIAL_CHILD = `
const number = Number(process.argv[1]);
const result = number * number;
console.log(\`Square of \${number}: \${result}\`);
process.send(result, () => process.disconnect());
`;

/**
 * The tutorial's pattern in Node: one process per number, start them, join them, then read
 * the queue. The tutorial starts all processes before joining any; 1,000 Node processes at
 * once would need ~20 GB here, so they are started and joined in waves of 16, which costs
 * the same per process.
 */
async function tutorialPatternInNode(numbers: readonly number[], wave = 16): Promise<number[]> {
  const queue: number[] = [];
  for (let first = 0; first < numbers.length; first += wave) {
    const processes = numbers.slice(first, first + wave).map((number) => {
      const child = spawn(process.execPath, ['-e', TUTORIAL_CHILD, String(number)], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.on('message', (result) => queue.push(result as number));
      return child;
    });
    await Promise.all(
      processes.map((child) => new Promise((resolve) => child.once('close', resolve))),
    );
  }
  return queue;
}

/**
 * The tutorial's script, verbatim except for one line: `numbers = [1, 2, 3, 4, 5]` becomes
 * `numbers = list(range(1, N + 1))`.
 */
function tutorialPythonScript(count: number): string {
  return `import multiprocessing
import time

def square(number, queue):
    """Calculate the square of a number and store it in a queue."""
    result = number * number
    print(f"Square of {number}: {result}")
    queue.put(result)

if __name__ == "__main__":
    # List of numbers to square
    numbers = list(range(1, ${count} + 1))

    # Queue to store results
    queue = multiprocessing.Queue()

    # Process pool
    processes = []

    # Start each process
    for number in numbers:
        process = multiprocessing.Process(target=square, args=(number, queue))
        processes.append(process)
        process.start()

    # Wait for all processes to complete
    for process in processes:
        process.join()

    # Retrieve results from the queue
    results = [queue.get() for _ in numbers]
    print("Squares:", results)
`;
}

/** Wall milliseconds of the whole tutorial script under python3 (prints to /dev/null). */
async function tutorialPython(count: number): Promise<number | undefined> {
  const version = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return undefined;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-'));
  try {
    const script = path.join(directory, 'multiprocessing_script.py');
    writeFileSync(script, tutorialPythonScript(count));
    const start = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('python3', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`the tutorial's script exited with code ${code}`);
    return performance.now() - start;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const format = (value: number, digits = 2) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** Elements per second, in M/s, k/s or /s. */
function perSecond(count: number, ms: number): string {
  const rate = (count / ms) * 1_000;
  if (rate >= 1e6) return `${format(rate / 1e6, 1)} M/s`;
  if (rate >= 1e3) return `${format(rate / 1e3, 1)} k/s`;
  return `${format(rate, 0)} /s`;
}

async function main(): Promise<void> {
  const engine = createChunkEngine();
  const { pool } = engine;
  const kernel = workerKernel;
  const cores = os.availableParallelism();
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    poolSize: pool.size,
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
  };
  console.log(
    `machine: ${machine.cpu}, ${cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );
  console.log(
    `pool: ${pool.size} children; load average at start ${machine.loadAverage.join(' ')}`,
  );
  await primeTimer();
  const startMs = performance.now();
  await pool.start();
  console.log(`pool started in ${format(performance.now() - startMs, 1)} ms\n`);

  interface Case {
    readonly label: string;
    readonly numbers: NumberInput[];
    readonly batch: number;
    readonly reps: number;
    readonly warmupMs: number;
  }
  const cases: Case[] = [
    { label: 'plain 1,000', numbers: plainNumbers(1_000, 1), batch: 400, reps: 15, warmupMs: 600 },
    {
      label: 'plain 100,000',
      numbers: plainNumbers(100_000, 2),
      batch: 8,
      reps: 15,
      warmupMs: 500,
    },
    {
      label: 'plain 1,000,000',
      numbers: plainNumbers(1_000_000, 3),
      batch: 1,
      reps: 21,
      warmupMs: 800,
    },
    {
      label: '200 × 10,000-digit',
      numbers: bigIntegers(200, 10_000, 4),
      batch: 1,
      reps: 9,
      warmupMs: 1,
    },
  ];

  const timings: Record<string, Record<string, number>> = {};
  console.log(
    `${'case'.padEnd(20)}${'inline'.padStart(22)}${'pool'.padStart(22)}${'adaptive'.padStart(30)}${'pool/inline'.padStart(13)}${'adaptive/inline'.padStart(17)}`,
  );
  for (const { label, numbers, batch, reps, warmupMs } of cases) {
    const expected = applyInline(kernel, numbers);
    assertSameResults(`${label} (pool)`, await pool.run(numbers), expected);
    assertSameResults(`${label} (adaptive)`, await engine.compute(numbers), expected);
    const ms = await measure(
      {
        inline: () => applyInline(kernel, numbers),
        pool: () => pool.run(numbers),
        adaptive: () => engine.compute(numbers),
      },
      { batch, reps, warmupMs },
    );
    timings[label] = ms;
    const inline = ms.inline as number;
    const onPool = ms.pool as number;
    const adaptive = ms.adaptive as number;
    const path = engine.usesPool(numbers) ? 'pool' : 'inline';
    const cell = (value: number) => `${format(value, 3)} ms ${perSecond(numbers.length, value)}`;
    console.log(
      `${label.padEnd(20)}${cell(inline).padStart(22)}${cell(onPool).padStart(22)}${`${cell(adaptive)} (${path})`.padStart(30)}${`${format(inline / onPool)}×`.padStart(13)}${`${format(inline / adaptive)}×`.padStart(17)}`,
    );
  }

  // The cost model behind compute.ts's adaptive rule, as measured now.
  const roundTripMs = (
    await measure({ pool: () => pool.run([1.5]) }, { batch: 200, reps: 9, warmupMs: 300 })
  ).pool as number;
  const million = timings['plain 1,000,000'] as Record<string, number>;
  const transportNs =
    (((million.pool as number) - (million.inline as number) / pool.size) * 1e6) / 1_000_000;
  const big = timings['200 × 10,000-digit'] as Record<string, number>;
  const bigNumbers = (cases[3] as Case).numbers;
  const estimatedBigMs = kernel.estimateCostNs(bigNumbers, 0, bigNumbers.length) / 1e6;
  const plainNs = ((million.inline as number) * 1e6) / 1_000_000;
  console.log('\npool cost model (compute.ts constants in brackets):');
  console.log(
    `  round trip of a 1-element run: ${format(roundTripMs * 1000, 0)} µs [${POOL_ROUND_TRIP_NS / 1000} µs]`,
  );
  console.log(
    `  transport per plain number:    ${format(transportNs, 1)} ns [${POOL_TRANSPORT_NS_PER_ELEMENT} ns]`,
  );
  console.log('kernel model (kernel.ts estimates in brackets):');
  console.log(
    `  plain square inline:           ${format(plainNs, 1)} ns [${format(kernel.estimateCostNs([1.5], 0, 1), 0)} ns]`,
  );
  console.log(
    `  200 × 10,000-digit inline:     ${format(big.inline as number, 0)} ms [${format(estimatedBigMs, 0)} ms]`,
  );

  // Where the pool starts to pay: chunks of k integers of 10,000 digits.
  console.log('\ncrossover, k integers of 10,000 digits (median ms):');
  console.log(`${'k'.padStart(4)}${'inline'.padStart(10)}${'pool'.padStart(10)}  adaptive takes`);
  for (const count of [1, 2, 4, 8, 16]) {
    const numbers = bigIntegers(count, 10_000, 10 + count);
    const ms = await measure(
      { inline: () => applyInline(kernel, numbers), pool: () => pool.run(numbers) },
      { batch: 1, reps: 7, warmupMs: 1 },
    );
    console.log(
      `${String(count).padStart(4)}${format(ms.inline as number, 2).padStart(10)}${format(ms.pool as number, 2).padStart(10)}  ${engine.usesPool(numbers) ? 'pool' : 'inline'}`,
    );
  }

  // The tutorial, at n = 1,000.
  const tutorialNumbers = Array.from({ length: 1_000 }, (_, index) => index + 1);
  const tutorialStart = performance.now();
  const tutorialResults = await tutorialPatternInNode(tutorialNumbers);
  const tutorialNodeMs = performance.now() - tutorialStart;
  const expectedSum = tutorialNumbers.reduce((sum, number) => sum + number * number, 0);
  if (
    tutorialResults.length !== tutorialNumbers.length ||
    tutorialResults.reduce((sum, result) => sum + result, 0) !== expectedSum
  ) {
    throw new Error('the tutorial pattern lost results');
  }
  const pythonMs = await tutorialPython(1_000);
  const plainThousand = timings['plain 1,000'] as Record<string, number>;
  console.log('\nthe tutorial at n = 1,000 (one process per number):');
  console.log(
    `  Node, child_process per number:   ${format(tutorialNodeMs, 0)} ms (${format(tutorialNodeMs / (plainThousand.pool as number), 0)}× the pool's time, ${format(tutorialNodeMs / (plainThousand.adaptive as number), 0)}× the adaptive path's)`,
  );
  console.log(
    pythonMs === undefined
      ? '  python3: not found, skipped'
      : `  python3, the tutorial's script:  ${format(pythonMs, 0)} ms (${format(pythonMs / (plainThousand.pool as number), 0)}× the pool's time)`,
  );

  await engine.destroy();

  const round = (value: number) => Number(value.toFixed(3));
  const ratios = {
    plain1kPoolVsInline: round((plainThousand.inline as number) / (plainThousand.pool as number)),
    plain1kAdaptiveVsInline: round(
      (plainThousand.inline as number) / (plainThousand.adaptive as number),
    ),
    plain100kPoolVsInline: round(
      (timings['plain 100,000']?.inline as number) / (timings['plain 100,000']?.pool as number),
    ),
    plain1mPoolVsInline: round((million.inline as number) / (million.pool as number)),
    plain1mAdaptiveVsInline: round((million.inline as number) / (million.adaptive as number)),
    bigintPoolSpeedup: round((big.inline as number) / (big.pool as number)),
    bigintAdaptiveSpeedup: round((big.inline as number) / (big.adaptive as number)),
    tutorialNode1kVsPool: round(tutorialNodeMs / (plainThousand.pool as number)),
    tutorialPython1kVsPool:
      pythonMs === undefined ? null : round(pythonMs / (plainThousand.pool as number)),
  };
  const targets = {
    plain1mPoolVsInline: { target: 0.4, met: ratios.plain1mPoolVsInline >= 0.4 },
    plain1kAdaptiveVsInline: { target: 0.9, met: ratios.plain1kAdaptiveVsInline >= 0.9 },
    bigintPoolSpeedup: { target: 1.8, met: ratios.bigintPoolSpeedup >= 1.8 },
    tutorialNode1kVsPool: { target: 100, met: ratios.tutorialNode1kVsPool >= 100 },
  };
  const allMet = Object.values(targets).every((target) => target.met);
  console.log(
    JSON.stringify({
      bench: 'pool',
      machine,
      medianMs: timings,
      tutorialMs: {
        node: round(tutorialNodeMs),
        python: pythonMs === undefined ? null : round(pythonMs),
      },
      ratios,
      targets,
      allMet,
    }),
  );
}

await main();
