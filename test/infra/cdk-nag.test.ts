/**
 * cdk-nag's AWS Solutions rules on the whole app, registered the way infra/app.ts does it
 * (a policy-validation plugin), with CloudFormation's own property validation on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutStack } from '#infra/fanout-stack.ts';
import { logicalId, testApp } from './support.ts';

interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly summary?: { readonly pluginName?: string };
    readonly violations: ReadonlyArray<{ readonly ruleName: string }>;
  }>;
}

let app: App;
let stack: FanoutStack;
let report: ValidationReport;

beforeAll(() => {
  app = testApp({ cfnValidation: true });
  stack = new FanoutStack(app, 'Fanout');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Synthesis throws when a plugin reports an unacknowledged error.
  const assembly = app.synth();
  report = JSON.parse(
    readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
});

/** Every acknowledgement recorded in the tree: construct path -> rule id -> reason. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const found: Array<{ path: string; id: string; reason: string }> = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

describe('cdk-nag: AwsSolutionsChecks on the fanout app', () => {
  it('reports no unacknowledged finding, error or warning', () => {
    const violations = report.pluginReports.flatMap((plugin) => plugin.violations);
    expect(violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('leaves no unacknowledged warning or error annotation on the stack', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('acknowledges only the expected rules, each with a real reason', () => {
    const inputBucketId = logicalId(stack.inputBucket);
    const acks = acknowledgements(app);
    expect(acks.map(({ path, id }) => `${id} @ ${path}`).sort()).toEqual(
      [
        'AwsSolutions-APIG3 @ Fanout/Api/DeploymentStage.v1',
        'AwsSolutions-APIG6 @ Fanout/Api/DeploymentStage.v1',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/GET',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/POST',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/{jobId}/DELETE',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/{jobId}/GET',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/{jobId}/redrive/POST',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/{jobId}/results/GET',
        'AwsSolutions-COG4 @ Fanout/Api/Default/jobs/{jobId}/start/POST',
        'AwsSolutions-IAM5[Resource::*] @ Fanout/Aggregator/Role',
        'AwsSolutions-IAM5[Resource::*] @ Fanout/Dispatcher/Role',
        'AwsSolutions-IAM5[Resource::*] @ Fanout/DlqConsumer/Role',
        'AwsSolutions-IAM5[Resource::*] @ Fanout/Status/Role',
        'AwsSolutions-IAM5[Resource::*] @ Fanout/Sweeper/Role',
        'AwsSolutions-IAM5[Resource::*] @ Fanout/Worker/Role',
        `AwsSolutions-IAM5[Resource::<${inputBucketId}.Arn>/uploads/*] @ Fanout/Dispatcher/Role`,
        `AwsSolutions-IAM5[Resource::<${inputBucketId}.Arn>/uploads/*] @ Fanout/Worker/Role`,
        'AwsSolutions-S1 @ Fanout/AccessLogBucket',
        'AwsSolutions-SQS3 @ Fanout/SweeperDeadLetterQueue',
      ].sort(),
    );
    for (const { reason } of acks) {
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});

describe('cdk-nag: AwsSolutionsChecks with operator-allowed input buckets', () => {
  it('reports no unacknowledged finding, and acknowledges each allowed bucket on the readers', () => {
    const bucketsApp = testApp({
      context: { 'fanout:inputBucketArns': 'arn:aws:s3:::lab-inputs,arn:aws:s3:::archive' },
    });
    new FanoutStack(bucketsApp, 'Fanout');
    expect(new AwsSolutionsChecks().validateScope(bucketsApp).violations).toEqual([]);
    const ids = acknowledgements(bucketsApp)
      .filter(({ id }) => id.includes(':s3:::'))
      .map(({ path, id }) => `${id} @ ${path}`)
      .sort();
    expect(ids).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::archive/*] @ Fanout/Dispatcher/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::archive/*] @ Fanout/Worker/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::lab-inputs/*] @ Fanout/Dispatcher/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::lab-inputs/*] @ Fanout/Worker/Role',
    ]);
  });
});

describe('cdk-nag: AwsSolutionsChecks with an alarm topic configured', () => {
  it('reports no unacknowledged finding either', () => {
    const topicApp = testApp({
      context: { 'fanout:alarmTopicArn': 'arn:aws:sns:eu-west-1:123456789012:on-call' },
    });
    new FanoutStack(topicApp, 'Fanout');
    expect(new AwsSolutionsChecks().validateScope(topicApp).violations).toEqual([]);
  });
});

describe('cdk-nag: the harness itself', () => {
  it('does see a finding that nobody acknowledged', () => {
    const probeApp = testApp();
    const probe = new Stack(probeApp, 'Probe');
    new Queue(probe, 'PlainQueue'); // no DLQ, no TLS-only policy
    const rules = new AwsSolutionsChecks()
      .validateScope(probeApp)
      .violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });
});
