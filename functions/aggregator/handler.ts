/**
 * The aggregator (invoked by the worker, RequestResponse): payload ChunkResult, answer
 * AggregateOutcome. A thrown error reaches the worker as a FunctionError.
 */
import { createChunkWriterDynamoDbClient, createDocumentClient } from '#commons/clients.ts';
import { loadAggregatorConfig, loadPrimingConfig } from '#commons/config.ts';
import { loggableError } from '#commons/errors.ts';
import { withPowertools } from '#commons/middleware.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { primeClients, primeTable } from '#commons/priming.ts';
import type { AggregateOutcome } from '#commons/types.ts';
import { type AggregatorDeps, aggregateChunk } from './aggregate-chunk.ts';

const config = loadAggregatorConfig();
const deps: AggregatorDeps = {
  table: {
    client: createDocumentClient(createChunkWriterDynamoDbClient()),
    tableName: config.tableName,
  },
  memoryMb: config.memoryMb,
};

// Before any request, in an environment of provisioned concurrency (commons/priming.ts).
await primeClients(loadPrimingConfig().prime, [primeTable(deps.table)]);

export const handler = withPowertools<unknown, AggregateOutcome>(async (event) => {
  try {
    return await aggregateChunk(event, deps);
  } catch (error) {
    // Rethrown: the worker sees a FunctionError and lets SQS redeliver the chunk.
    logger.error('chunk not aggregated', { error: loggableError(error) });
    metrics.addMetric('AggregationErrors', MetricUnit.Count, 1);
    throw error;
  }
});
