/**
 * What provisions one kind of template resource on the emulators. Each kind (queues,
 * tables, and later buckets…) is a module of this folder with a class of this shape; the
 * embedded stack lists them in provision/index.ts and never names a resource type itself.
 */
import type { PhysicalResource, TemplateResolver } from '../template.ts';

export interface Provisioner {
  /** The CloudFormation resource types it creates, e.g. `AWS::SQS::Queue`. */
  readonly resourceTypes: readonly string[];
  /**
   * What each of its resources is locally (its `Ref` and `Fn::GetAtt` values), known before
   * anything is created so that every intrinsic in the template can be resolved.
   */
  physicalResources(): Iterable<readonly [logicalId: string, resource: PhysicalResource]>;
  /** Creates its resources on the emulators, with the template's intrinsics resolved. */
  create(resolver: TemplateResolver): Promise<void>;
}
