/**
 * Shared by the CDK tests: an App configured like `cdk synth` (cdk.json's context, with its
 * feature flags) but without bundling, and helpers that read a synthesized template.
 */
import { readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { App, type AppProps, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { FanoutConfig } from '#infra/config.ts';
import { FanoutStack } from '#infra/fanout-stack.ts';

type Json = Record<string, unknown>;

/** cdk.json's context: `new App()` does not read cdk.json, so the tests pass it in. */
export const CDK_JSON_CONTEXT: Json = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Json;
  }
).context;

export interface TestAppOptions {
  /** Extra context (e.g. `fanout:*` settings). */
  readonly context?: Json;
  /** Keep CloudFormation's built-in property validation on (about 1 s per synth). */
  readonly cfnValidation?: boolean;
  readonly props?: Omit<AppProps, 'context'>;
}

/** An App with cdk.json's context that skips esbuild bundling of every stack. */
export function testApp({
  context = {},
  cfnValidation = false,
  props = {},
}: TestAppOptions = {}): App {
  return new App({
    stackTraces: false,
    builtinCloudFormationValidation: cfnValidation,
    ...props,
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

export function testStack(
  options: TestAppOptions & { readonly config?: Partial<FanoutConfig> } = {},
): { app: App; stack: FanoutStack } {
  const app = testApp(options);
  const stack = new FanoutStack(app, 'Fanout', { config: options.config });
  return { app, stack };
}

/** The logical ID a construct's CloudFormation resource has in its stack's template. */
export function logicalId(element: { readonly node: { readonly defaultChild?: unknown } }): string {
  const child = element.node.defaultChild as CfnElement | undefined;
  if (child === undefined) throw new Error('construct has no default CloudFormation resource');
  return Stack.of(child).getLogicalId(child);
}

/** `{ "Fn::GetAtt": [id, "Arn"] }` / `{ Ref: id }` / a literal, as a short readable string. */
export function describeRef(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const ref = (value as Json).Ref;
    if (typeof ref === 'string') return `Ref:${ref}`;
    const getAtt = (value as Json)['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `GetAtt:${getAtt.join('.')}`;
  }
  return JSON.stringify(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Every Allow of every policy attached to a role, as `action -> sorted resources`. A Deny,
 * a condition or a NotAction would make the comparison meaningless, so they fail here.
 */
export function grantsOfRole(template: Template, roleId: string): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  const policies = template.findResources('AWS::IAM::Policy');
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as Json;
    const roles = asArray(props.Roles).map(describeRef);
    if (!roles.includes(`Ref:${roleId}`)) continue;
    const document = props.PolicyDocument as { Statement: Json[] };
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow' || statement.Condition || statement.NotAction) {
        throw new Error(`unexpected statement on ${roleId}: ${JSON.stringify(statement)}`);
      }
      for (const action of asArray(statement.Action)) {
        const set = grants[String(action)] ?? new Set<string>();
        for (const resource of asArray(statement.Resource)) set.add(describeRef(resource));
        grants[String(action)] = set;
      }
    }
  }
  return Object.fromEntries(
    Object.entries(grants)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, resources]) => [action, [...resources].sort()]),
  );
}

/**
 * A dashboard's body as JSON. CloudFormation gets it as an Fn::Join of text and tokens
 * (Refs to functions and queues); each token becomes a string such as `Ref:WorkQueue…` or
 * `GetAtt:WorkQueue….QueueName`, which is valid JSON because tokens sit inside strings.
 */
export function dashboardBody(dashboard: { readonly Properties?: unknown }): Json {
  const body = (dashboard.Properties as { DashboardBody?: unknown } | undefined)?.DashboardBody;
  if (typeof body === 'string') return JSON.parse(body) as Json;
  const join = (body as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (join === undefined) throw new Error(`unexpected dashboard body: ${JSON.stringify(body)}`);
  const [separator, parts] = join;
  return JSON.parse(
    parts.map((part) => (typeof part === 'string' ? part : describeRef(part))).join(separator),
  ) as Json;
}
