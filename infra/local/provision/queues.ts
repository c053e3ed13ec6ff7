/** The template's SQS queues (AWS::SQS::Queue), created on fauxqs with their attributes. */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PhysicalResource, QueueSpec, TemplateResolver } from '../template.ts';
import { localArn } from './physical.ts';
import type { Provisioner } from './provisioner.ts';

/** SQS attributes that CloudFormation's AWS::SQS::Queue properties map to one for one. */
const QUEUE_ATTRIBUTES = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
] as const;

export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/**
 * Changes a queue's attributes after they are read from the template (e.g. a short
 * VisibilityTimeout for a test); returns the attributes to override.
 */
export type QueueAttributesOverride = (queue: {
  readonly logicalId: string;
  readonly attributes: Readonly<Record<string, string>>;
}) => Readonly<Record<string, string>>;

/** Queues in an order where every dead-letter queue comes before the queues that use it. */
export function dlqFirst(queues: readonly QueueSpec[]): QueueSpec[] {
  const ordered: QueueSpec[] = [];
  const placed = new Set<string>();
  const visit = (queue: QueueSpec, depth: number) => {
    if (placed.has(queue.logicalId) || depth > queues.length) return;
    const dlq = queues.find((candidate) => candidate.logicalId === queue.deadLetterQueueLogicalId);
    if (dlq !== undefined) visit(dlq, depth + 1);
    placed.add(queue.logicalId);
    ordered.push(queue);
  };
  for (const queue of queues) visit(queue, 0);
  return ordered;
}

/** The SQS attributes of a queue's CloudFormation properties, intrinsics resolved. */
export function queueAttributes(
  spec: QueueSpec,
  resolver: TemplateResolver,
): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    const value = spec.properties[name];
    if (value === undefined) continue;
    const resolved = resolver.resolve(value);
    attributes[name] = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
  }
  return attributes;
}

export interface QueueProvisionerOptions {
  readonly sqs: SQSClient;
  /** The emulator's URL of a queue name. */
  readonly queueUrl: (name: string) => string;
  readonly overrideAttributes?: QueueAttributesOverride | undefined;
}

export class QueueProvisioner implements Provisioner {
  readonly resourceTypes = ['AWS::SQS::Queue'] as const;
  /** The local queues by logical id. */
  readonly queues: ReadonlyMap<string, LocalQueue>;
  readonly #specs: readonly QueueSpec[];
  readonly #options: QueueProvisionerOptions;

  constructor(specs: readonly QueueSpec[], options: QueueProvisionerOptions) {
    this.#specs = specs;
    this.#options = options;
    this.queues = new Map(
      specs.map((spec) => [
        spec.logicalId,
        {
          logicalId: spec.logicalId,
          name: spec.name,
          url: options.queueUrl(spec.name),
          arn: localArn('sqs', spec.name),
        },
      ]),
    );
  }

  *physicalResources(): Iterable<readonly [string, PhysicalResource]> {
    for (const queue of this.queues.values()) {
      yield [
        queue.logicalId,
        {
          ref: queue.url,
          attributes: { Arn: queue.arn, QueueName: queue.name, QueueUrl: queue.url },
        },
      ];
    }
  }

  /** One queue at a time, dead-letter queues first: a RedrivePolicy names an existing queue. */
  async create(resolver: TemplateResolver): Promise<void> {
    for (const spec of dlqFirst(this.#specs)) {
      const attributes = queueAttributes(spec, resolver);
      Object.assign(
        attributes,
        this.#options.overrideAttributes?.({ logicalId: spec.logicalId, attributes }) ?? {},
      );
      await this.#options.sqs.send(
        new CreateQueueCommand({ QueueName: spec.name, Attributes: attributes }),
      );
    }
  }
}

/**
 * The work queue of a template: consumed by an event source mapping, with a dead-letter
 * queue, and not itself another queue's dead-letter queue (a DLQ may have a consumer and a
 * DLQ of its own).
 */
export function workQueueSpec(model: {
  readonly queues: readonly QueueSpec[];
  readonly eventSourceMappings: readonly { readonly queueLogicalId: string }[];
}): QueueSpec {
  const deadLetterQueues = new Set(model.queues.map((queue) => queue.deadLetterQueueLogicalId));
  for (const mapping of model.eventSourceMappings) {
    const queue = model.queues.find((candidate) => candidate.logicalId === mapping.queueLogicalId);
    if (queue?.deadLetterQueueLogicalId !== undefined && !deadLetterQueues.has(queue.logicalId)) {
      return queue;
    }
  }
  throw new Error('the template has no event source mapping on a queue with a dead-letter queue');
}

/** A queue's dead-letter queue, that queue's own, and so on down the chain (each once). */
export function redriveChain(queues: readonly QueueSpec[], logicalId: string): QueueSpec[] {
  const chain: QueueSpec[] = [];
  const seen = new Set<string>([logicalId]);
  let next = queues.find((queue) => queue.logicalId === logicalId)?.deadLetterQueueLogicalId;
  while (next !== undefined && !seen.has(next)) {
    seen.add(next);
    const queue = queues.find((candidate) => candidate.logicalId === next);
    if (queue === undefined) break;
    chain.push(queue);
    next = queue.deadLetterQueueLogicalId;
  }
  return chain;
}
