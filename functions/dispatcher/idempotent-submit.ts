/**
 * `POST /jobs` with an `Idempotency-Key` header, on Powertools idempotency: the same key and
 * body create one job, and every repeat answers that job's 202, identical (same jobId).
 *
 * - Records live in the job table, each under its own partition key (store/idempotency.ts:
 *   `pk = IDEMPOTENCY#submit#<sha256 of the owner's principal ARN and the key>`), expiring
 *   through the table's TTL attribute `expiresAt` (IDEMPOTENCY_EXPIRY_SECONDS after the
 *   request).
 * - The record keeps a hash of the decoded body: the same key with another body is refused
 *   (422 IDEMPOTENCY_KEY_REUSED) instead of answering with a job for other numbers.
 * - A repeat that arrives while the first request runs gets 409 IDEMPOTENCY_IN_PROGRESS. The
 *   in-progress lock expires with the Lambda's remaining time (registerLambdaContext), so a
 *   request killed by a timeout never leaves its key locked for the record's whole expiry
 *   (powertools-lambda-python#1038).
 * - Only a created job is stored as the key's answer: the body is validated before this
 *   runs (a 400 never reaches the store), and when submitting throws (503 DISPATCH_FAILED,
 *   a DynamoDB error) Powertools deletes the in-progress record, so the key stays free for a
 *   retry.
 * @see https://docs.aws.amazon.com/powertools/typescript/latest/features/idempotency/
 */
import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ASSUMED_JOB_ITEM_BYTES, addUsage, writeUnits } from '#commons/cost.ts';
import {
  ConflictError,
  errorName,
  ServiceUnavailableError,
  UnprocessableEntityError,
} from '#commons/errors.ts';
import type { NumberInput } from '#commons/numbers.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { createIdempotencyStore, IDEMPOTENCY_KEY_PREFIX } from '#store/idempotency.ts';
import type { DispatcherDeps, IdempotentSubmitter, SubmittedJob } from './deps.ts';
import { submitJob } from './submit-job.ts';

export interface IdempotencyOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Seconds a key keeps answering with its job. */
  readonly expirySeconds: number;
}

/** The payload Powertools hashes: the key (with its caller) and the body's hash. */
interface IdempotencyPayload {
  readonly scopedKey: string;
  readonly bodyHash: string;
}

/** Where the submission leaves its job or error, for the cases Powertools hides them. */
interface ResultSink {
  job?: SubmittedJob;
  error?: unknown;
}

/**
 * The record's two writes (put in progress, update completed), each under 1 KB, counted in
 * the job's write units.
 */
const IDEMPOTENCY_RECORD_USAGE = addUsage({ writeUnits: 2 * writeUnits(ASSUMED_JOB_ITEM_BYTES) });

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The stored answer as a SubmittedJob, its fields in the order the first answer had:
 * DynamoDB does not keep the order of a map's keys, and a repeat must answer the same bytes.
 * Undefined when the record does not hold one.
 */
function toSubmittedJob(value: unknown): SubmittedJob | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { jobId, status, numbersCount, chunkCount, statusUrl, resultsUrl } = value as Record<
    string,
    unknown
  >;
  if (
    typeof jobId !== 'string' ||
    status !== 'RUNNING' ||
    typeof numbersCount !== 'number' ||
    typeof chunkCount !== 'number' ||
    typeof statusUrl !== 'string' ||
    typeof resultsUrl !== 'string'
  ) {
    return undefined;
  }
  return { jobId, status, numbersCount, chunkCount, statusUrl, resultsUrl };
}

/** Maps a Powertools idempotency error to the API's answer. */
function toResponseError(error: unknown): unknown {
  switch (errorName(error)) {
    case 'IdempotencyValidationError':
      return new UnprocessableEntityError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used with another body; send a new key for a new job',
        { cause: error },
      );
    case 'IdempotencyAlreadyInProgressError':
      return new ConflictError(
        'IDEMPOTENCY_IN_PROGRESS',
        'a request with this Idempotency-Key is still in progress; retry it in a few seconds',
        { cause: error },
      );
    case 'IdempotencyPersistenceLayerError':
      return new ServiceUnavailableError(
        'IDEMPOTENCY_UNAVAILABLE',
        'the idempotency store could not be reached; retry the request with the same key',
        { cause: error },
      );
    default:
      if (errorName(error)?.startsWith('Idempotency')) {
        return new ServiceUnavailableError(
          'IDEMPOTENCY_UNAVAILABLE',
          'the idempotency store is in an inconsistent state; retry the request with the same key',
          { cause: error },
        );
      }
      return error;
  }
}

/**
 * Makes the submitter, once per execution environment (its Powertools state is reused by
 * every invocation).
 */
export function createIdempotentSubmitter(options: IdempotencyOptions): IdempotentSubmitter {
  const persistenceStore = createIdempotencyStore(options);
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'scopedKey',
    payloadValidationJmesPath: 'bodyHash',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expirySeconds,
    hashFunction: 'sha256',
    responseHook: (response) => {
      metrics.addMetric('IdempotentReplays', MetricUnit.Count, 1);
      logger.info('idempotent request answered with its earlier job');
      return response;
    },
  });
  const submitOnce = makeIdempotent(
    async (
      _payload: IdempotencyPayload,
      numbers: readonly NumberInput[],
      ownerArn: string,
      deps: DispatcherDeps,
      sink: ResultSink,
    ): Promise<SubmittedJob> => {
      try {
        sink.job = await submitJob(numbers, ownerArn, deps, IDEMPOTENCY_RECORD_USAGE);
        return sink.job;
      } catch (error) {
        sink.error = error;
        throw error;
      }
    },
    { persistenceStore, config, keyPrefix: IDEMPOTENCY_KEY_PREFIX, dataIndexArgument: 0 },
  );

  return {
    async submit(request, numbers, deps, context) {
      // The in-progress lock expires with this invocation's remaining time.
      config.registerLambdaContext(context);
      const payload: IdempotencyPayload = {
        scopedKey: `${request.caller}:${request.key}`,
        bodyHash: sha256(request.body),
      };
      const sink: ResultSink = {};
      try {
        const answer = toSubmittedJob(
          await submitOnce(payload, numbers, request.caller, deps, sink),
        );
        if (answer === undefined) throw new Error('the idempotency record holds no submitted job');
        return answer;
      } catch (error) {
        if (sink.job !== undefined) {
          // The job was created and queued, but its COMPLETED record was not saved: answer
          // the job. Until the in-progress lock expires a repeat gets 409; after it, a repeat
          // would create a second job (a limit of the pattern, logged).
          logger.warn('job submitted, but its idempotency record was not completed', {
            error,
          });
          return sink.job;
        }
        if (sink.error !== undefined) {
          // The submission failed, and Powertools answers it by rethrowing it, or by its own
          // error when the in-progress record could not be deleted either (the key then
          // unlocks with the Lambda's remaining time): answer the submission's error.
          throw sink.error;
        }
        throw toResponseError(error);
      }
    },
  };
}
