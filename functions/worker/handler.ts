/**
 * The worker (SQS event source with ReportBatchItemFailures): squares each chunk and hands
 * it to the aggregator.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient, createLambdaClient, createS3Client } from '#commons/clients.ts';
import { loadPrimingConfig, loadS3ClientConfig, loadWorkerConfig } from '#commons/config.ts';
import { withPowertools } from '#commons/middleware.ts';
import { primeClients, primeInvoke, primeTable } from '#commons/priming.ts';
import { createChunkEngine } from './compute.ts';
import { processChunkBatch, type WorkerDeps } from './process-chunk.ts';

const config = loadWorkerConfig();
// One pool per execution environment, reused by every warm invocation; its children start
// with the first chunk that repays them.
const engine = createChunkEngine(
  config.poolSize === undefined ? {} : { poolSize: config.poolSize },
);
const deps: WorkerDeps = {
  lambda: createLambdaClient(),
  aggregatorFunctionName: config.aggregatorFunctionName,
  table: { client: createDocumentClient(), tableName: config.tableName },
  memoryMb: config.memoryMb,
  computeChunk: engine.compute,
  poolSize: engine.pool.size,
  s3: createS3Client(loadS3ClientConfig()),
};

// Before any request, in an environment of provisioned concurrency (commons/priming.ts).
await primeClients(loadPrimingConfig().prime, [
  primeTable(deps.table),
  primeInvoke(deps.lambda, deps.aggregatorFunctionName),
]);

export const handler = withPowertools<SQSEvent, SQSBatchResponse>((event, context) =>
  processChunkBatch(event, deps, context),
);
