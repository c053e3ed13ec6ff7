/**
 * DynamoDB items and errors as the table would return them, for mocked document clients.
 */

import { gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { JobStatus } from '#commons/types.ts';

export const TABLE_NAME = 'fanout-test-table';
export const JOB_ID = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
export const CREATED_AT = '2026-01-01T00:00:00.000Z';
export const EXPIRES_AT = 1_767_830_400;

/** A job item as stored, RUNNING with no shard complete unless overridden. */
/** The principal of the test events (helpers/events.ts), the owner of jobItem()'s job. */
export const OWNER_ARN = 'arn:aws:iam::123456789012:user/tester';

export function jobItem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: `JOB#${JOB_ID}`,
    sk: 'JOB',
    jobId: JOB_ID,
    status: 'RUNNING' satisfies JobStatus,
    numbersCount: 5,
    chunkCount: 3,
    shardCount: 1,
    shards: {},
    numbersDone: 0,
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
    expiresAt: EXPIRES_AT,
    ownerArn: OWNER_ARN,
    ...overrides,
  };
}

/** A result page as stored: the gzip of the results' JSON text. */
export function pageItem(
  chunkIndex: number,
  offset: number,
  results: readonly (number | string)[],
  jobId: string = JOB_ID,
): Record<string, unknown> {
  return {
    pk: `PAGE#${jobId}#${String(chunkIndex).padStart(8, '0')}`,
    sk: 'PAGE',
    offset,
    count: results.length,
    results: gzipSync(JSON.stringify(results)),
    expiresAt: EXPIRES_AT,
  };
}

/**
 * The error TransactWriteItems throws when cancelled: one reason per action, in order; a
 * `jobStatus` becomes the ALL_OLD item of the job action (marshalled: the document client
 * does not unmarshall cancellation reasons).
 */
export function transactionCancelled(
  codes: readonly string[],
  jobStatus?: JobStatus,
): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code, index) => ({
      Code,
      ...(index === 1 && jobStatus !== undefined && Code === 'ConditionalCheckFailed'
        ? { Item: { status: { S: jobStatus } } }
        : {}),
    })),
  });
}

export function conditionalCheckFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
  });
}
