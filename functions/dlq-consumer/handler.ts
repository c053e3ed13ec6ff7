/**
 * The dead-letter queue consumer (SQS event source on the work queue's DLQ, with
 * ReportBatchItemFailures): marks the jobs of chunks that failed on every delivery FAILED
 * and keeps their inputs for a redrive.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createChunkWriterDynamoDbClient, createDocumentClient } from '#commons/clients.ts';
import { loadDlqConsumerConfig } from '#commons/config.ts';
import { withPowertools } from '#commons/middleware.ts';
import { consumeDeadLetters, type DlqConsumerDeps } from './consume-failed-chunk.ts';

const config = loadDlqConsumerConfig();
const deps: DlqConsumerDeps = {
  table: {
    client: createDocumentClient(createChunkWriterDynamoDbClient()),
    tableName: config.tableName,
  },
};

export const handler = withPowertools<SQSEvent, SQSBatchResponse>((event, context) =>
  consumeDeadLetters(event, deps, context),
);
