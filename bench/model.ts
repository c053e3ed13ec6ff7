/**
 * `npm run model`: a job's time and cost in a real account for 1e6 to 1e9 numbers, from the
 * units one chunk costs (counted with the store's own item builders and AWS's formulas),
 * the table's throughput, Lambda and SQS scaling, and the API's limits. docs/SCALING.md
 * explains every input and its source.
 *
 *   npm run model                          # defaults: a new on-demand table, the stack's defaults
 *   npm run model -- --warm-wcu 12000 --concurrency 200
 *   npm run model -- --bench bench.json    # per-chunk time from a bench:e2e JSON line
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  itemSizeBytes,
  PRICING,
  readUnits,
  SQS_BILLING_CHUNK_BYTES,
  writeUnits,
} from '#commons/cost.ts';
import { RESULT_PAGES_PER_RESPONSE } from '#commons/limits.ts';
import { DEFAULT_CONFIG } from '#infra/config.ts';
import { seededRandom } from '#local/seeded-random.ts';
import { buildPageItem, gzipResults } from '#store/pages.ts';
import { CHUNKS_PER_SHARD, shardCountFor, shardItemBytesBound } from '#store/shards.ts';

const { values } = parseArgs({
  options: {
    numbers: { type: 'string', default: '1e6,1e7,1e8,1e9' },
    chunk: { type: 'string', default: String(DEFAULT_CONFIG.numbersPerChunk) },
    // A new on-demand table: 4,000 WCU/s and 12,000 RCU/s (FACTS.md, warm throughput).
    'warm-wcu': { type: 'string', default: '4000' },
    'warm-rcu': { type: 'string', default: '12000' },
    concurrency: { type: 'string', default: String(DEFAULT_CONFIG.maxConcurrency) },
    // One chunk's worker + aggregator wall time in Lambda, ms (see SCALING.md).
    'chunk-ms': { type: 'string', default: '60' },
    'api-rps': { type: 'string', default: String(DEFAULT_CONFIG.apiRateLimit) },
    bench: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const JOB_ID = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const numbersPerChunk = Number(values.chunk);
const warmWcu = Number(values['warm-wcu']);
const warmRcu = Number(values['warm-rcu']);
const maxConcurrency = Number(values.concurrency);
const apiRps = Number(values['api-rps']);
let chunkMs = Number(values['chunk-ms']);
if (values.bench !== undefined) {
  // The last JSON line of `npm run bench:e2e`: worker busy time per chunk.
  const lines = readFileSync(values.bench, 'utf8').trim().split('\n');
  const bench = JSON.parse(lines.at(-1) ?? '{}') as {
    chunks?: number;
    stages?: { workerBusyMs?: number };
  };
  if (bench.chunks !== undefined && bench.stages?.workerBusyMs !== undefined) {
    chunkMs = bench.stages.workerBusyMs / bench.chunks;
  }
}

/** Lambda: 1,000 execution environments per 10 s per function (FACTS.md, scaling-behavior). */
const LAMBDA_SCALE_PER_SECOND = 100;
/** SQS event source: starts at 5 concurrent invokes, +300 a minute, at most 1,250 (FACTS.md). */
const ESM_START = 5;
const ESM_ADD_PER_SECOND = 300 / 60;
const ESM_MAX = 1_250;
/** A partition: 1,000 WCU/s and 3,000 RCU/s (FACTS.md). */
const PARTITION_WCU = 1_000;
/** The default per-table on-demand quota: 40,000 WCU/s (FACTS.md, raisable). */
const TABLE_QUOTA_WCU = 40_000;
/** The aggregator's and the worker's memory (infra/fanout-stack.ts, infra/config.ts). */
const AGGREGATOR_MB = 1_024;
const WORKER_MB = DEFAULT_CONFIG.workerMemoryMb;
/** The dispatcher takes at most this many numbers in one request (functions/commons/limits.ts). */
const BODY_NUMBERS = 1_000_000;

/** Units of one bench chunk: squares of integers in ±1,000,000, as bench/e2e.ts draws them. */
function chunkUnits(count: number) {
  const next = seededRandom(20_260_101);
  const squares = Array.from({ length: count }, () => {
    const root = Math.floor(next() * 2_000_001) - 1_000_000;
    return root * root;
  });
  const page = buildPageItem({
    jobId: JOB_ID,
    chunkIndex: 12_345_678,
    offset: 0,
    count,
    resultsGzip: gzipResults(JSON.stringify(squares)),
    expiresAt: 1_767_830_400,
  });
  const bytes = itemSizeBytes(page);
  // The chunk's SQS message: its numbers as JSON, with the envelope.
  const messageBytes = JSON.stringify({
    jobId: JOB_ID,
    chunkIndex: 0,
    chunkCount: 1,
    offset: 0,
    numbers: squares.map(Math.sqrt),
  }).length;
  return {
    pageBytes: bytes,
    pageWcu: writeUnits(bytes),
    pageRcu: readUnits(bytes, { consistent: false }),
    messageBytes,
  };
}

const unit = chunkUnits(numbersPerChunk);

interface Row {
  numbers: number;
  chunks: number;
  shards: number;
  writeUnits: number;
  readUnits: number;
  computeSeconds: number;
  fetchSeconds: number;
  peakWcuPerSecond: number;
  usd: { dynamodb: number; lambda: number; sqs: number; total: number };
  breaksFirst: string;
}

/** Seconds to process `chunks` when the ESM ramps up to `cap` and each chunk takes chunkMs. */
function processingSeconds(chunks: number, rateCap: number, cap: number): number {
  let done = 0;
  let seconds = 0;
  let concurrency = ESM_START;
  while (done < chunks) {
    const lambdaRate = (concurrency * 1_000) / chunkMs;
    done += Math.min(lambdaRate, rateCap);
    seconds++;
    concurrency = Math.min(
      cap,
      concurrency + Math.min(ESM_ADD_PER_SECOND, LAMBDA_SCALE_PER_SECOND),
    );
    if (seconds > 1e7) break;
  }
  // The last second is partial.
  const last = Math.min((concurrency * 1_000) / chunkMs, rateCap);
  return seconds - 1 + (chunks - (done - last)) / last;
}

function model(numbers: number): Row {
  const chunks = Math.ceil(numbers / numbersPerChunk);
  const shards = shardCountFor(chunks);
  const markerWcu = writeUnits(
    shardItemBytesBound(JOB_ID, { chunkCount: chunks, shardCount: shards }),
  );
  // The job item: ~700 bytes plus ~8 bytes per recorded shard.
  const jobItemBytes = 700 + 8 * shards;
  const jobWcu = writeUnits(jobItemBytes);
  const perChunkWcu = unit.pageWcu + markerWcu;
  const writes = chunks * perChunkWcu + 2 + shards * jobWcu + (jobWcu + 1);
  const jobReadRcu = readUnits(jobItemBytes, { consistent: true });
  // The worker's status read (one a batch of its records), the aggregator's read per chunk;
  // the finalize's shard read; one fetch.
  const reads =
    chunks * (1 + 1 / DEFAULT_CONFIG.batchSize) * jobReadRcu +
    shards * 0.5 +
    chunks * unit.pageRcu +
    Math.ceil(chunks / RESULT_PAGES_PER_RESPONSE) * readUnits(jobItemBytes, { consistent: false });
  const cap = Math.min(maxConcurrency, ESM_MAX);
  const tableRate = warmWcu / perChunkWcu;
  const computeSeconds = processingSeconds(chunks, tableRate, cap);
  const fetchSeconds = Math.ceil(chunks / RESULT_PAGES_PER_RESPONSE) / apiRps;
  const lambdaRate = (cap * 1_000) / chunkMs;
  const chunkRate = Math.min(lambdaRate, tableRate);
  const peakWcuPerSecond = chunkRate * perChunkWcu;
  // Lambda: the worker's time per chunk at its memory, the aggregator's (a third of it,
  // measured: 16 ms of ~60), one request each.
  const gbSeconds = chunks * (chunkMs / 1_000) * (WORKER_MB / 1_024 + AGGREGATOR_MB / 1_024 / 3);
  const lambda =
    gbSeconds * PRICING.lambdaUsdPerGbSecond +
    ((chunks * 2) / 1e6) * PRICING.lambdaUsdPerMillionRequests;
  // SQS: sent in batches (billed per 64 KB), received (per 64 KB) and deleted.
  const per64 = Math.ceil(unit.messageBytes / SQS_BILLING_CHUNK_BYTES);
  const sqs = ((chunks * (2 * per64 + 1)) / 1e6) * PRICING.sqsUsdPerMillionRequests;
  const dynamodb =
    (writes / 1e6) * PRICING.dynamodbUsdPerMillionWriteUnits +
    (reads / 1e6) * PRICING.dynamodbUsdPerMillionReadUnits;
  const limits: [string, boolean][] = [
    [
      `the request body (${BODY_NUMBERS.toLocaleString('en-US')} numbers a job in a body; larger ones are uploaded or read from S3)`,
      numbers > BODY_NUMBERS,
    ],
    [
      `table write throughput (${warmWcu.toLocaleString('en-US')} WCU/s warm)`,
      tableRate < lambdaRate,
    ],
    [`worker concurrency (${cap})`, lambdaRate <= tableRate],
  ];
  const breaks = limits.filter(([, hit]) => hit).map(([what]) => what);
  if (shards * jobWcu > PARTITION_WCU)
    breaks.push('the job item (shard records past 1,000 WCU in the last second)');
  if (warmWcu > TABLE_QUOTA_WCU) breaks.push('the per-table quota (40,000 WCU/s; raise it)');
  return {
    numbers,
    chunks,
    shards,
    writeUnits: writes,
    readUnits: reads,
    computeSeconds,
    fetchSeconds,
    peakWcuPerSecond,
    usd: { dynamodb, lambda, sqs, total: dynamodb + lambda + sqs },
    breaksFirst: breaks.join('; then ') || 'nothing modelled',
  };
}

const rows = String(values.numbers)
  .split(',')
  .map((text) => model(Number(text)));

if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ unit, chunkMs, warmWcu, warmRcu, maxConcurrency, rows })}\n`,
  );
} else {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  out(
    `per chunk of ${numbersPerChunk.toLocaleString('en-US')} bench numbers: page ${unit.pageBytes.toLocaleString('en-US')} B = ${unit.pageWcu} WCU (+1 marker), fetch ${unit.pageRcu} RCU; ${CHUNKS_PER_SHARD} chunks a shard; ${chunkMs.toFixed(0)} ms a chunk in Lambda`,
  );
  out(
    `table ${warmWcu.toLocaleString('en-US')} WCU/s, ${warmRcu.toLocaleString('en-US')} RCU/s warm; worker concurrency ${Math.min(maxConcurrency, ESM_MAX)}; API ${apiRps} requests/s`,
  );
  out('');
  out(
    '| numbers | chunks | shards | WCU | RCU | compute s | fetch s | peak WCU/s | $ DynamoDB | $ Lambda | $ SQS | $ total | breaks first |',
  );
  out(
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const row of rows) {
    out(
      `| ${row.numbers.toExponential(0)} | ${row.chunks.toLocaleString('en-US')} | ${row.shards.toLocaleString('en-US')} | ${Math.round(row.writeUnits).toLocaleString('en-US')} | ${Math.round(row.readUnits).toLocaleString('en-US')} | ${row.computeSeconds.toFixed(1)} | ${row.fetchSeconds.toFixed(1)} | ${Math.round(row.peakWcuPerSecond).toLocaleString('en-US')} | ${row.usd.dynamodb.toFixed(4)} | ${row.usd.lambda.toFixed(4)} | ${row.usd.sqs.toFixed(4)} | ${row.usd.total.toFixed(4)} | ${row.breaksFirst} |`,
    );
  }
}
