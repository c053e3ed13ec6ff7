/**
 * The local physical resources that the template's intrinsics resolve to: the provisioners'
 * resources, the functions and REST APIs that run in-process, and a recognisable placeholder
 * for everything else (roles, keys, log groups…).
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../emulators/common.ts';
import type { CfnTemplate, FunctionSpec, PhysicalResource, RestApiSpec } from '../template.ts';
import type { Provisioner } from './provisioner.ts';

/** The local ARN of a resource, e.g. `localArn('sqs', 'WorkQueue')`. */
export function localArn(service: string, resource: string): string {
  return `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
}

/** A resource that is not created locally: its `Ref` is its logical id, any attribute a placeholder ARN. */
function placeholder(logicalId: string, type: string): PhysicalResource {
  const arn = localArn(type.split('::')[1]?.toLowerCase() ?? 'local', logicalId);
  return {
    ref: logicalId,
    attributes: new Proxy<Record<string, string>>(
      {},
      {
        get: (_target, attribute) =>
          typeof attribute === 'string' ? `${arn}/${attribute}` : undefined,
      },
    ),
  };
}

/** Every logical id of the template with what it stands for locally. */
export function physicalResources(
  model: {
    readonly template: CfnTemplate;
    readonly functions: readonly Pick<FunctionSpec, 'logicalId' | 'name'>[];
    readonly restApis: readonly Pick<RestApiSpec, 'logicalId'>[];
  },
  provisioners: readonly Provisioner[],
): Map<string, PhysicalResource> {
  const physical = new Map<string, PhysicalResource>();
  for (const provisioner of provisioners) {
    for (const [logicalId, resource] of provisioner.physicalResources()) {
      physical.set(logicalId, resource);
    }
  }
  for (const fn of model.functions) {
    physical.set(fn.logicalId, {
      ref: fn.name,
      attributes: { Arn: localArn('lambda', `function:${fn.name}`) },
    });
  }
  for (const api of model.restApis) {
    physical.set(api.logicalId, {
      ref: api.logicalId.toLowerCase().slice(0, 10),
      attributes: { RootResourceId: 'root' },
    });
  }
  for (const [logicalId, resource] of Object.entries(model.template.Resources)) {
    if (!physical.has(logicalId)) physical.set(logicalId, placeholder(logicalId, resource.Type));
  }
  return physical;
}
