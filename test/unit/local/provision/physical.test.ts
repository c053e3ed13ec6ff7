/** What the template's logical ids stand for locally. */
import { describe, expect, it } from 'vitest';
import { localArn, physicalResources } from '#local/provision/physical.ts';
import type { Provisioner } from '#local/provision/provisioner.ts';

describe('Function: physicalResources', () => {
  const model = {
    template: {
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue' },
        Worker: { Type: 'AWS::Lambda::Function' },
        Api: { Type: 'AWS::ApiGateway::RestApi' },
        WorkerRole: { Type: 'AWS::IAM::Role' },
      },
    },
    functions: [{ logicalId: 'Worker', name: 'Fanout-Worker' }],
    restApis: [{ logicalId: 'Api' }],
  };
  const queues: Provisioner = {
    resourceTypes: ['AWS::SQS::Queue'],
    physicalResources: () => [['Queue', { ref: 'http://q', attributes: { Arn: 'arn:q' } }]],
    create: () => Promise.resolve(),
  };

  it("returns the provisioners' resources, the functions and the REST APIs", () => {
    // Act
    const physical = physicalResources(model, [queues]);

    // Assess
    expect(physical.get('Queue')).toEqual({ ref: 'http://q', attributes: { Arn: 'arn:q' } });
    expect(physical.get('Worker')).toEqual({
      ref: 'Fanout-Worker',
      attributes: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:Fanout-Worker' },
    });
    expect(physical.get('Api')).toEqual({ ref: 'api', attributes: { RootResourceId: 'root' } });
  });

  it('returns a placeholder ARN for any attribute of a resource not created locally', () => {
    // Act
    const role = physicalResources(model, [queues]).get('WorkerRole');

    // Assess
    expect(role?.ref).toBe('WorkerRole');
    expect(role?.attributes.Arn).toBe('arn:aws:iam:us-east-1:000000000000:WorkerRole/Arn');
  });
});

describe('Function: localArn', () => {
  it('returns an ARN in the local region and account', () => {
    expect(localArn('sqs', 'WorkQueue')).toBe('arn:aws:sqs:us-east-1:000000000000:WorkQueue');
  });
});
