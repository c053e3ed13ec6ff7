/**
 * The worker (SQS event source with ReportBatchItemFailures): squares each chunk and hands
 * it to the aggregator.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient, createLambdaClient } from '../commons/clients.ts';
import { loadWorkerConfig } from '../commons/config.ts';
import { withPowertools } from '../commons/middleware.ts';
import { computeChunkInline } from './inline-compute.ts';
import { processChunkBatch, type WorkerDeps } from './process-chunk.ts';

const config = loadWorkerConfig();
const deps: WorkerDeps = {
  lambda: createLambdaClient(),
  aggregatorFunctionName: config.aggregatorFunctionName,
  table: { client: createDocumentClient(), tableName: config.tableName },
  memoryMb: config.memoryMb,
  // The child-process pool (compute.ts) replaces this in-process loop when it lands; then
  // poolSize is the pool's size.
  computeChunk: computeChunkInline,
  poolSize: 1,
};

export const handler = withPowertools<SQSEvent, SQSBatchResponse>((event, context) =>
  processChunkBatch(event, deps, context),
);
