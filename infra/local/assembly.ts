/**
 * Reads one stack of a cloud assembly (cdk.out) with the CDK's own reader,
 * `aws-cdk-lib/cx-api`'s `CloudAssembly`: its name, its template file and the template.
 * The reader is loaded on first use, so that it loads while DynamoDB Local's JVM starts
 * rather than before (the `fanout` CLI's start-up).
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.cx_api.CloudAssembly.html
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface StackArtifact {
  readonly stackName: string;
  readonly templatePath: string;
  /** The template as JSON, not yet checked (template.ts parses it). */
  readonly template: unknown;
}

/** The stack `stackName` names (its id, stack name or display name), or the only one. */
export async function readStackArtifact(
  cdkOutDir: string,
  stackName?: string,
): Promise<StackArtifact> {
  const manifestPath = join(cdkOutDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`${manifestPath} not found: synthesize the CDK app first (npx cdk synth)`);
  }
  const { CloudAssembly } = await import('aws-cdk-lib/cx-api');
  const stacks = new CloudAssembly(cdkOutDir).stacksRecursively;
  const chosen =
    stackName === undefined
      ? stacks
      : stacks.filter((stack) =>
          [stack.id, stack.stackName, stack.displayName].includes(stackName),
        );
  const stack = chosen.length === 1 ? chosen[0] : undefined;
  if (stack === undefined) {
    const names = stacks.map((candidate) => candidate.id).join(', ') || 'none';
    throw new Error(
      stackName === undefined
        ? `${cdkOutDir} holds ${stacks.length} stacks (${names}); name the one to run`
        : `stack '${stackName}' is not in ${cdkOutDir} (stacks: ${names})`,
    );
  }
  const template: unknown = stack.template;
  return { stackName: stack.stackName, templatePath: stack.templateFullPath, template };
}
