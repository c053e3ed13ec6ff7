/**
 * The shared function construct's pieces that do not need a synth: the afterBundling
 * commands that build extra entries, and the validation of those entries.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import {
  ESM_REQUIRE_BANNER,
  extraEntryCommands,
  FanoutFunction,
  PROJECT_ROOT,
} from '#infra/constructs/fanout-function.ts';
import { UnqualifiedLambdaInvoke } from '#infra/constructs/unqualified-lambda-invoke.ts';
import { grantsOfRole, logicalId, testApp } from './support.ts';

describe('Function: extraEntryCommands', () => {
  it('builds each extra entry with the local esbuild as ESM for node24, beside index.mjs', () => {
    const [command, ...rest] = extraEntryCommands(
      [{ entry: 'functions/worker/pool/child.ts', outFile: 'pool-child.mjs' }],
      '/repo',
      '/asset',
    );
    expect(rest).toEqual([]);
    expect(command).toBe(
      [
        "'/repo/node_modules/.bin/esbuild'",
        "'/repo/functions/worker/pool/child.ts'",
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--target=node24',
        '--main-fields=module,main',
        '--minify',
        '--keep-names',
        '--sourcemap',
        '--log-level=warning',
        `'--banner:js=${ESM_REQUIRE_BANNER}'`,
        "'--outfile=/asset/pool-child.mjs'",
      ].join(' '),
    );
  });

  it('returns no command when there is no extra entry', () => {
    expect(extraEntryCommands([], '/repo', '/asset')).toEqual([]);
  });

  it('quotes single quotes in paths for the shell', () => {
    const [command] = extraEntryCommands([{ entry: 'a.ts', outFile: 'b.mjs' }], "/it's", '/o');
    expect(command).toContain("'/it'\\''s/node_modules/.bin/esbuild'");
  });
});

const base = {
  entry: 'functions/commons/limits.ts', // any existing file: bundling is skipped here
  description: 'probe',
  memorySize: 128,
  timeout: Duration.seconds(3),
  logLevel: 'INFO',
  logRemovalPolicy: RemovalPolicy.DESTROY,
};

/** A stack with one probe function and a table that has one index, `ByOwner`. */
function probe(encryption = TableEncryption.AWS_MANAGED) {
  const stack = new Stack(testApp(), 'Probe');
  const fn = new FanoutFunction(stack, 'Probe', base);
  const table = new Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: AttributeType.STRING },
    encryption,
  });
  table.addGlobalSecondaryIndex({
    indexName: 'ByOwner',
    partitionKey: { name: 'owner', type: AttributeType.STRING },
  });
  const roleId = logicalId(fn.role);
  const grants = () => grantsOfRole(Template.fromStack(stack), roleId);
  return { stack, fn, table, grants };
}

const ownGrants = (grants: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(grants).filter(([action]) => !/^(logs|xray):/.test(action)));

describe('Method: FanoutFunction.bindTable', () => {
  it('grants exactly the actions on the table ARN, never on its indexes', () => {
    const { fn, table, grants } = probe();
    fn.bindTable({ table, actions: ['dynamodb:GetItem', 'dynamodb:Query'] });
    const tableArn = `GetAtt:${logicalId(table)}.Arn`;
    expect(ownGrants(grants())).toEqual({
      'dynamodb:GetItem': [tableArn],
      'dynamodb:Query': [tableArn],
    });
  });

  it('throws when the table has a customer managed key (it grants no KMS actions)', () => {
    const { fn, table } = probe(TableEncryption.CUSTOMER_MANAGED);
    expect(() => fn.bindTable({ table, actions: ['dynamodb:GetItem'] })).toThrow(
      'Probe/Probe: the table is encrypted with a customer managed KMS key, and bindTable grants no KMS actions.',
    );
  });
});

describe('Method: FanoutFunction.bindIndexQuery', () => {
  it('grants Query on that one index only, and sets TABLE_NAME', () => {
    const { stack, fn, table, grants } = probe();
    fn.bindIndexQuery({ table, indexName: 'ByOwner' });
    expect(ownGrants(grants())).toEqual({
      'dynamodb:Query': [
        JSON.stringify({
          'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(table), 'Arn'] }, '/index/ByOwner']],
        }),
      ],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { TABLE_NAME: { Ref: logicalId(table) } } },
    });
  });

  it('throws when the table has no such index', () => {
    const { fn, table } = probe();
    expect(() => fn.bindIndexQuery({ table, indexName: 'Missing' })).toThrow(
      'Cannot find schema for index: Missing',
    );
  });
});

describe('Method: FanoutFunction.configureAsyncFailures', () => {
  it('sets retries, event age and an on-failure queue it may only SendMessage to', () => {
    const { stack, fn, grants } = probe();
    const queue = new Queue(stack, 'Failures');
    fn.configureAsyncFailures({ queue, retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    expect(ownGrants(grants())).toEqual({
      'sqs:SendMessage': [`GetAtt:${logicalId(queue)}.Arn`],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(fn.function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] } },
      },
    });
  });
});

describe('Class: UnqualifiedLambdaInvoke', () => {
  it('lets the schedule role invoke the unqualified function ARN only (no :* versions)', () => {
    const { stack, fn } = probe();
    const schedule = new Schedule(stack, 'Tick', {
      schedule: ScheduleExpression.rate(Duration.minutes(5)),
      target: new UnqualifiedLambdaInvoke(fn.function, { retryAttempts: 1 }),
    });
    const template = Template.fromStack(stack);
    const target = (
      template.toJSON().Resources[logicalId(schedule)] as {
        Properties: { Target: { RoleArn: { 'Fn::GetAtt': [string, string] } } };
      }
    ).Properties.Target;
    expect(grantsOfRole(template, target.RoleArn['Fn::GetAtt'][0])).toEqual({
      'lambda:InvokeFunction': [`GetAtt:${logicalId(fn.function)}.Arn`],
    });
    expect(JSON.stringify(template.toJSON())).not.toContain(':*');
  });
});

describe('Class: FanoutFunction', () => {
  it.each([
    ['index.mjs', 'must be a plain file name ending in .mjs, other than index.mjs'],
    ['child.js', 'must be a plain file name ending in .mjs, other than index.mjs'],
    ['../child.mjs', 'must be a plain file name ending in .mjs, other than index.mjs'],
  ])('throws when an extra entry outFile is %s', (outFile, message) => {
    const stack = new Stack(testApp(), 'Probe');
    expect(
      () =>
        new FanoutFunction(stack, 'Probe', {
          ...base,
          extraEntries: [{ entry: 'functions/commons/types.ts', outFile }],
        }),
    ).toThrow(`Probe/Probe: extra entry outFile "${outFile}" ${message}.`);
  });

  it('throws when an extra entry leaves the repository', () => {
    const stack = new Stack(testApp(), 'Probe');
    expect(
      () =>
        new FanoutFunction(stack, 'Probe', {
          ...base,
          extraEntries: [{ entry: '../elsewhere/child.ts', outFile: 'child.mjs' }],
        }),
    ).toThrow(
      'Probe/Probe: extra entry "../elsewhere/child.ts" must be a path relative to the repository root.',
    );
  });

  it('throws when an extra entry file is missing and the stack is bundled', () => {
    const stack = new Stack(new App(), 'Probe');
    expect(
      () =>
        new FanoutFunction(stack, 'Probe', {
          ...base,
          extraEntries: [{ entry: 'functions/missing/child.ts', outFile: 'child.mjs' }],
        }),
    ).toThrow('Probe/Probe: cannot find extra entry file at functions/missing/child.ts.');
  });

  it('resolves entries against the repository root', () => {
    expect(PROJECT_ROOT).toBe(new URL('../..', import.meta.url).pathname.replace(/\/$/, ''));
  });
});
