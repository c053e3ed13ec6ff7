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
import { BucketProvisioner, localBuckets } from './s3.ts';
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
  /** fauxqs's S3 (the SQS emulator's own server), and the client settings to create buckets. */
  readonly s3Endpoint: string;
  readonly clientConfig: {
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
}

/** The provisioners of a stack model, by resource type. */
export interface Provisioners {
  readonly queues: QueueProvisioner;
  readonly tables: TableProvisioner;
  readonly buckets: BucketProvisioner;
  readonly all: readonly Provisioner[];
}

export function provisionersFor(model: StackModel, targets: ProvisionTargets): Provisioners {
  const queues = new QueueProvisioner(model.queues, {
    sqs: targets.sqs,
    queueUrl: targets.queueUrl,
    overrideAttributes: targets.overrideQueueAttributes,
  });
  const tables = new TableProvisioner(model.tables, targets.dynamodb);
  const buckets = new BucketProvisioner(
    localBuckets(model.template, model.stackName),
    targets.s3Endpoint,
    targets.clientConfig,
  );
  return { queues, tables, buckets, all: [queues, tables, buckets] };
}

/** Creates every provisioner's resources, the types side by side. */
export async function provision(
  provisioners: readonly Provisioner[],
  resolver: TemplateResolver,
): Promise<void> {
  await Promise.all(provisioners.map((provisioner) => provisioner.create(resolver)));
}
