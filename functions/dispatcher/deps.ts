/**
 * What the dispatcher's routes share: their dependencies, the submitted job's shape, the
 * idempotent submitter's contract, and the accounting of the messages they send. Each route
 * module imports these from here, so no route imports another.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { sqsBilledRequests } from '#commons/cost.ts';
import type { NumberInput } from '#commons/numbers.ts';
import { planMessageBatches, type QueueEntry, type SendMessagesOptions } from '#commons/queue.ts';
import type { RouterDeps } from '#commons/router.ts';
import type { JobTable } from '#store/table.ts';

/** What the dispatcher needs for S3 inputs. */
export interface InputDeps {
  /** Reads objects (HeadObject) and completes multipart uploads. */
  readonly s3: S3Client;
  /** Signs the upload URLs (createPresigningS3Client). */
  readonly presigner: S3Client;
  readonly inputBucketName: string;
  readonly allowedBucketNames: readonly string[];
  /** Bytes per range of a `lines` input. */
  readonly rangeBytes: number;
  /** Most numbers of one S3 input job. */
  readonly maxNumbersPerInputObject: number;
}

export interface DispatcherDeps extends RouterDeps {
  readonly table: JobTable;
  readonly sqs: SQSClient;
  readonly workQueueUrl: string;
  readonly numbersPerChunk: number;
  readonly jobRetentionDays: number;
  /** Seconds a job may run before the sweeper fails it; DEFAULT_JOB_DEADLINE_SECONDS if unset. */
  readonly jobDeadlineSeconds?: number;
  /** Runs a submission once per `Idempotency-Key` (required to accept the header). */
  readonly idempotency?: IdempotentSubmitter;
  readonly now?: () => Date;
  readonly newJobId?: () => string;
  /** Retry policy, concurrency and sleep of the SendMessageBatch calls. */
  readonly send?: SendMessagesOptions;
  /** S3 inputs (input-job.ts); a request with `input` is refused without them. */
  readonly input?: InputDeps;
}

/** The 202 body of `POST /jobs`. */
export interface SubmittedJob {
  readonly jobId: string;
  readonly status: 'RUNNING';
  readonly numbersCount: number;
  readonly chunkCount: number;
  readonly statusUrl: string;
  readonly resultsUrl: string;
}

/** What identifies a submission: the header's key, whose it is, and the decoded body. */
export interface IdempotentSubmitRequest {
  readonly key: string;
  /**
   * The caller's key space: the owner's principal ARN (commons/caller.ts), so two
   * principals sending the same key get each their own job, and a role's sessions share
   * one key space (the owner of an assumed-role session is its role).
   */
  readonly caller: string;
  /** The decoded request body, as JSON text. */
  readonly body: string;
}

export interface IdempotentSubmitter {
  /**
   * Submits `numbers` once per key: the first call creates the job, a repeat with the same
   * key and body answers the same job.
   * @throws UnprocessableEntityError (IDEMPOTENCY_KEY_REUSED) for the same key with another body
   * @throws ConflictError (IDEMPOTENCY_IN_PROGRESS) while the first request is still running
   * @throws ServiceUnavailableError (IDEMPOTENCY_UNAVAILABLE) when the store fails
   */
  submit(
    request: IdempotentSubmitRequest,
    numbers: readonly NumberInput[],
    deps: DispatcherDeps,
    context: Context,
  ): Promise<SubmittedJob>;
}

/**
 * Billed SQS requests of sending `entries` with SendMessageBatch: ceil(bytes / 64 KB) per
 * batch, as planned (retries of failed entries are not counted).
 */
export function sendSqsRequests(entries: readonly QueueEntry[]): number {
  return planMessageBatches(entries).reduce(
    (sum, batch) =>
      sum +
      sqsBilledRequests(batch.reduce((bytes, entry) => bytes + Buffer.byteLength(entry.body), 0)),
    0,
  );
}

/** Epoch milliseconds `seconds` after `now`. */
export function deadlineAfter(now: Date, seconds: number): number {
  return now.getTime() + seconds * 1000;
}
