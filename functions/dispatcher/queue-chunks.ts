/**
 * Queueing a job's chunk messages (numbers or byte ranges), shared by the routes that start a
 * job. When some cannot be queued after the retries of sendMessagesInBatches, the job is marked
 * FAILED (DISPATCH_FAILED, with the chunks that failed) and the caller gets a 503: a job is
 * never left RUNNING with chunks that will never come.
 */
import { ServiceUnavailableError } from '#commons/errors.ts';
import { MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { type QueueEntry, sendMessagesInBatches } from '#commons/queue.ts';
import type { JobFailure } from '#commons/types.ts';
import { markJobFailed } from '#store/jobs.ts';
import type { DispatcherDeps } from './deps.ts';

/**
 * Sends `entries` (entry id = chunk index) to the work queue.
 * @param what the chunks' name in messages: `chunks` or `ranges`
 * @throws ServiceUnavailableError (DISPATCH_FAILED) when some could not be queued
 */
export async function queueChunks(
  jobId: string,
  entries: readonly QueueEntry[],
  deps: DispatcherDeps,
  what: 'chunks' | 'ranges',
): Promise<void> {
  const failed = await sendMessagesInBatches(deps.sqs, deps.workQueueUrl, entries, deps.send);
  if (failed.length === 0) {
    metrics.addMetric('ChunksQueued', MetricUnit.Count, entries.length);
    return;
  }
  failed.sort((a, b) => Number(a.id) - Number(b.id));
  const failure: JobFailure = {
    code: 'DISPATCH_FAILED',
    message: `${failed.length} of ${entries.length} ${what} could not be queued`,
    failedChunks: failed.slice(0, MAX_RECORDED_FAILED_CHUNKS).map((entry) => ({
      chunkIndex: Number(entry.id),
      reason: `${entry.code}: ${entry.message}`,
    })),
    failedChunkCount: failed.length,
  };
  logger.error(`${what} could not be queued`, { failure });
  metrics.addMetric('ChunksNotQueued', MetricUnit.Count, failed.length);
  metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
  try {
    await markJobFailed(deps.table, jobId, failure, deps.now?.() ?? new Date());
  } catch (error) {
    // The job stays RUNNING until its deadline; the client is told it failed either way.
    logger.error('job could not be marked FAILED', { error });
  }
  throw new ServiceUnavailableError(
    'DISPATCH_FAILED',
    'the job could not be queued and was marked FAILED; submit it again later',
    { details: { jobId, failedChunkCount: failed.length, chunkCount: entries.length } },
  );
}
