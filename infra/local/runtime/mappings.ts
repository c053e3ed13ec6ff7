/**
 * The template's SQS event source mappings as local pollers: each enabled mapping whose
 * queue and function run locally, with Lambda's batching, concurrency and partial batch
 * response settings from the template.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '../emulators/common.ts';
import { SqsEventSourceMapping } from '../event-source-mapping.ts';
import type { LocalQueue } from '../provision/index.ts';
import type { StackModel } from '../template.ts';
import type { LocalFunction } from './function-host.ts';
import { mappingConcurrency } from './functions.ts';

export interface LocalMappingsOptions {
  readonly sqs: SQSClient;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly queues: ReadonlyMap<string, LocalQueue>;
  /** Local cap on each mapping's concurrency. @default available cores */
  readonly maxConcurrency?: number | undefined;
  readonly onError: (error: unknown) => void;
}

/** The mappings by logical id, not started yet. */
export function localMappings(
  model: StackModel,
  options: LocalMappingsOptions,
): Map<string, SqsEventSourceMapping> {
  const mappings = new Map<string, SqsEventSourceMapping>();
  for (const spec of model.eventSourceMappings) {
    const target = options.functions.get(spec.functionLogicalId);
    const queue = options.queues.get(spec.queueLogicalId);
    if (target === undefined || queue === undefined || !spec.enabled) continue;
    const mapping = new SqsEventSourceMapping({
      sqs: options.sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: LOCAL_REGION,
      batchSize: spec.batchSize,
      maximumBatchingWindowSeconds: spec.maximumBatchingWindowSeconds,
      maximumConcurrency: mappingConcurrency(options.maxConcurrency, spec.maximumConcurrency),
      reportBatchItemFailures: spec.reportBatchItemFailures,
      invoke: (payload) => target.invoke(payload),
      onError: options.onError,
    });
    mappings.set(spec.logicalId, mapping);
  }
  return mappings;
}
