/** Reading a stack template into the local model, and resolving its intrinsics locally. */

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadStackModel,
  type PhysicalResource,
  parseTemplate,
  TemplateResolver,
} from '#local/template.ts';

const ASSEMBLY = join(import.meta.dirname, '..', '..', 'e2e', 'fixtures', 'assembly');

describe('Class: TemplateResolver', () => {
  const physical = new Map<string, PhysicalResource>([
    [
      'Queue',
      {
        ref: 'http://127.0.0.1:1/000000000000/Queue',
        attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:Queue' },
      },
    ],
    [
      'Table',
      { ref: 'Table', attributes: { Arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Table' } },
    ],
  ]);
  const resolver = new TemplateResolver(
    physical,
    { region: 'us-east-1', accountId: '000000000000', stackName: 'Fanout' },
    { Stage: { Default: 'v1' } },
  );

  it('resolves Ref, Fn::GetAtt (both forms), pseudo parameters and parameter defaults', () => {
    expect(resolver.resolve({ Ref: 'Queue' })).toBe('http://127.0.0.1:1/000000000000/Queue');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/Table',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': 'Queue.Arn' })).toBe(
      'arn:aws:sqs:us-east-1:000000000000:Queue',
    );
    expect(resolver.resolve({ Ref: 'AWS::Region' })).toBe('us-east-1');
    expect(resolver.resolve({ Ref: 'Stage' })).toBe('v1');
  });

  it('resolves Fn::Join, Fn::Sub (with attributes and literals), Fn::Select and Fn::Split', () => {
    expect(resolver.resolve({ 'Fn::Join': ['-', [{ Ref: 'Table' }, 'x']] })).toBe('Table-x');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
    expect(resolver.resolve({ 'Fn::Sub': '${AWS::StackName}/${Table.Arn}/${!Keep}' })).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
      'Fanout/arn:aws:dynamodb:us-east-1:000000000000:table/Table/${Keep}',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
    expect(resolver.resolve({ 'Fn::Sub': ['${Name}!', { Name: { Ref: 'Table' } }] })).toBe(
      'Table!',
    );
    expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] })).toBe('b');
  });

  it('names what it cannot resolve', () => {
    expect(() => resolver.resolve({ Ref: 'Nope' })).toThrow('cannot resolve {Ref: Nope} locally');
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toThrow(
      'cannot resolve {Fn::GetAtt: [Table, StreamArn]} locally',
    );
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(
      'intrinsic Fn::ImportValue is not supported locally',
    );
  });
});

describe('Function: parseTemplate', () => {
  it("returns the resources and the parameters' defaults", () => {
    // Act
    const template = parseTemplate(
      {
        Parameters: { Stage: { Type: 'String', Default: 'v1' }, Other: { Type: 'String' } },
        Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 1 } } },
      },
      'Mini.template.json',
    );

    // Assess
    expect(template).toEqual({
      Parameters: { Stage: { Default: 'v1' }, Other: {} },
      Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 1 } } },
    });
  });

  it('throws an error naming the file and the field that is wrong', () => {
    expect(() => parseTemplate({}, 'Mini.template.json')).toThrow(
      'Mini.template.json has no Resources',
    );
    expect(() =>
      parseTemplate({ Resources: { Queue: { Properties: {} } } }, 'Mini.template.json'),
    ).toThrow('Mini.template.json: Resources.Queue.Type must be a string');
    expect(() =>
      parseTemplate({ Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: [] } } }, 'T'),
    ).toThrow('T: Resources.Queue.Properties must be an object');
  });
});

describe('Function: loadStackModel', () => {
  it('reads the only stack of a cloud assembly into queues, tables, functions and routes', async () => {
    // Act
    const model = await loadStackModel(ASSEMBLY);

    // Assess
    expect(model.stackName).toBe('Mini');
    expect(model.templatePath).toBe(join(ASSEMBLY, 'Mini.template.json'));
    expect(model.queues.map((queue) => queue.logicalId)).toEqual(['DeadLetterQueue', 'WorkQueue']);
    expect(model.queues[1]?.deadLetterQueueLogicalId).toBe('DeadLetterQueue');
    expect(model.tables.map((table) => table.logicalId)).toEqual(['Table']);
    expect(model.functions.map((spec) => spec.logicalId).sort()).toEqual([
      'ApiFn',
      'Consumer',
      'Forker',
      'Target',
    ]);
    expect(model.eventSourceMappings.map((mapping) => mapping.functionLogicalId)).toEqual([
      'Consumer',
    ]);
    expect(model.restApis.map((api) => api.logicalId)).toEqual(['Api']);
  });

  it('reads a stack named by its id', async () => {
    expect((await loadStackModel(ASSEMBLY, 'Mini')).stackName).toBe('Mini');
  });

  it('throws an error naming the stacks there are when the name is not one of them', async () => {
    await expect(loadStackModel(ASSEMBLY, 'Nope')).rejects.toThrow(
      `stack 'Nope' is not in ${ASSEMBLY} (stacks: Mini)`,
    );
  });

  it('throws an error saying to synthesize when there is no cloud assembly', async () => {
    await expect(loadStackModel(join(ASSEMBLY, 'missing'))).rejects.toThrow(
      'synthesize the CDK app first (npx cdk synth)',
    );
  });
});
