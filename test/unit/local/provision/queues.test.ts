/** The template's queues: their attributes, creation order, the work queue and its redrive chain. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  dlqFirst,
  QueueProvisioner,
  queueAttributes,
  redriveChain,
  workQueueSpec,
} from '#local/provision/queues.ts';
import type { QueueSpec } from '#local/template.ts';
import { TemplateResolver } from '#local/template.ts';

function queue(logicalId: string, deadLetterQueueLogicalId?: string): QueueSpec {
  return {
    logicalId,
    name: logicalId,
    properties:
      deadLetterQueueLogicalId === undefined
        ? { VisibilityTimeout: 30 }
        : {
            VisibilityTimeout: 30,
            RedrivePolicy: {
              deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueLogicalId, 'Arn'] },
              maxReceiveCount: 3,
            },
          },
    deadLetterQueueLogicalId,
  };
}

const work = queue('WorkQueue', 'DeadLetterQueue');
const dlq = queue('DeadLetterQueue', 'ParkingQueue');
const parking = queue('ParkingQueue');

describe('Function: dlqFirst', () => {
  it('returns every dead-letter queue before the queues that use it', () => {
    expect(dlqFirst([work, dlq, parking]).map((spec) => spec.logicalId)).toEqual([
      'ParkingQueue',
      'DeadLetterQueue',
      'WorkQueue',
    ]);
  });
});

describe('Function: queueAttributes', () => {
  it('returns the SQS attributes with intrinsics resolved and policies as JSON text', () => {
    // Prepare
    const resolver = new TemplateResolver(
      new Map([['DeadLetterQueue', { ref: 'url', attributes: { Arn: 'arn:dlq' } }]]),
      { region: 'us-east-1', accountId: '000000000000', stackName: 'Fanout' },
    );

    // Act
    const attributes = queueAttributes(work, resolver);

    // Assess
    expect(attributes).toEqual({
      VisibilityTimeout: '30',
      RedrivePolicy: '{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":3}',
    });
  });
});

describe('Function: workQueueSpec', () => {
  it('returns the consumed queue with a DLQ that is not itself a DLQ', () => {
    const model = {
      queues: [parking, dlq, work],
      eventSourceMappings: [{ queueLogicalId: 'DeadLetterQueue' }, { queueLogicalId: 'WorkQueue' }],
    };
    expect(workQueueSpec(model).logicalId).toBe('WorkQueue');
  });

  it('throws when no consumed queue has a dead-letter queue', () => {
    expect(() =>
      workQueueSpec({
        queues: [parking],
        eventSourceMappings: [{ queueLogicalId: 'ParkingQueue' }],
      }),
    ).toThrow('the template has no event source mapping on a queue with a dead-letter queue');
  });
});

describe('Function: redriveChain', () => {
  it('returns the dead-letter queues down the chain, each once', () => {
    expect(redriveChain([work, dlq, parking], 'WorkQueue').map((spec) => spec.logicalId)).toEqual([
      'DeadLetterQueue',
      'ParkingQueue',
    ]);
  });

  it('stops at a cycle and returns nothing for a queue without a DLQ', () => {
    const a = queue('A', 'B');
    const b = queue('B', 'A');
    expect(redriveChain([a, b], 'A').map((spec) => spec.logicalId)).toEqual(['B']);
    expect(redriveChain([parking], 'ParkingQueue')).toEqual([]);
  });
});

describe('Class: QueueProvisioner', () => {
  describe('Method: physicalResources', () => {
    it("returns each queue's URL as its Ref and its ARN, name and URL as attributes", () => {
      // Prepare
      const provisioner = new QueueProvisioner([parking], {
        sqs: new SQSClient({ region: 'us-east-1' }),
        queueUrl: (name) => `http://127.0.0.1:1/000000000000/${name}`,
      });

      // Act
      const physical = [...provisioner.physicalResources()];

      // Assess
      expect(physical).toEqual([
        [
          'ParkingQueue',
          {
            ref: 'http://127.0.0.1:1/000000000000/ParkingQueue',
            attributes: {
              Arn: 'arn:aws:sqs:us-east-1:000000000000:ParkingQueue',
              QueueName: 'ParkingQueue',
              QueueUrl: 'http://127.0.0.1:1/000000000000/ParkingQueue',
            },
          },
        ],
      ]);
    });
  });
});
