/**
 * Provisioning the template's resources on the emulators, one module per resource type.
 * A new type (e.g. S3 buckets on fauxqs) is a new `Provisioner` in this folder, added to
 * `provisionersFor` and given what it needs in `ProvisionTargets`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { StackModel, TemplateResolver } from '../template.ts';
import type { Provisioner } from './provisioner.ts';
import { type QueueAttributesOverride, QueueProvisioner } from './queues.ts';
import { TableProvisioner } from './tables.ts';

export { physicalResources } from './physical.ts';
export type { Provisioner } from './provisioner.ts';
export type { LocalQueue, QueueAttributesOverride } from './queues.ts';

/** The emulators' clients and addresses the provisioners create resources with. */
export interface ProvisionTargets {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  /** The SQS emulator's URL of a queue name. */
  readonly queueUrl: (name: string) => string;
  readonly overrideQueueAttributes?: QueueAttributesOverride | undefined;
}

/** The provisioners of a stack model, by resource type. */
export interface Provisioners {
  readonly queues: QueueProvisioner;
  readonly tables: TableProvisioner;
  readonly all: readonly Provisioner[];
}

export function provisionersFor(model: StackModel, targets: ProvisionTargets): Provisioners {
  const queues = new QueueProvisioner(model.queues, {
    sqs: targets.sqs,
    queueUrl: targets.queueUrl,
    overrideAttributes: targets.overrideQueueAttributes,
  });
  const tables = new TableProvisioner(model.tables, targets.dynamodb);
  return { queues, tables, all: [queues, tables] };
}

/** Creates every provisioner's resources, the types side by side. */
export async function provision(
  provisioners: readonly Provisioner[],
  resolver: TemplateResolver,
): Promise<void> {
  await Promise.all(provisioners.map((provisioner) => provisioner.create(resolver)));
}
