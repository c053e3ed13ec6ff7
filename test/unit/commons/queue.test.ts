import 'aws-sdk-client-mock-vitest/extend';
import {
  QueueDoesNotExist,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { planMessageBatches, type QueueEntry, sendMessagesInBatches } from '#commons/queue.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work';
const noSleep = async () => undefined;
const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 };

function entries(count: number, bodyBytes = 10): QueueEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    id: String(index),
    body: String(index).padEnd(bodyBytes, '.'),
  }));
}

function sentIds(input: Partial<SendMessageBatchCommandInput> | undefined): string[] {
  return (input?.Entries ?? []).map((entry) => entry.Id ?? '');
}

describe('Function: planMessageBatches', () => {
  it('cuts at 10 entries', () => {
    const batches = planMessageBatches(entries(23));
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(batches.flat().map((entry) => entry.id)).toEqual(entries(23).map((entry) => entry.id));
  });

  it('cuts before the batch bytes would pass the limit', () => {
    const batches = planMessageBatches(entries(5, 400), 10, 1_000);
    expect(batches.map((batch) => batch.map((entry) => entry.id))).toEqual([
      ['0', '1'],
      ['2', '3'],
      ['4'],
    ]);
  });

  it('throws for one message over the SQS message limit', () => {
    expect(() => planMessageBatches([{ id: 'big', body: 'x'.repeat(1_048_577) }])).toThrow(
      'message big has 1048577 bytes, over the SQS limit',
    );
  });
});

describe('Function: sendMessagesInBatches', () => {
  const sqsMock = mockClient(SQSClient);
  const sqs = new SQSClient({});

  beforeEach(() => {
    sqsMock.reset();
  });

  it('sends every entry in batches of 10 and resolves with no failure', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: sentIds(input).map((Id) => ({ Id, MessageId: `m-${Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    }));

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(12), { sleep: noSleep });

    expect(failed).toEqual([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    const sent = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => sentIds(call.args[0].input));
    expect(sent.sort((a, b) => Number(a) - Number(b))).toEqual(
      entries(12).map((entry) => entry.id),
    );
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE_URL });
  });

  it('retries only the entries reported in Failed, then succeeds', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError', Message: 'try again' },
          { Id: '2', SenderFault: false, Code: 'ServiceUnavailable', Message: 'busy' },
        ],
      })
      .resolvesOnce({
        Successful: [
          { Id: '1', MessageId: 'm1', MD5OfMessageBody: '' },
          { Id: '2', MessageId: 'm2', MD5OfMessageBody: '' },
        ],
      });

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(3), {
      retry: policy,
      sleep: noSleep,
    });

    expect(failed).toEqual([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    expect(sentIds(sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input)).toEqual([
      '1',
      '2',
    ]);
    expect(sqsMock).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 2, {
      Entries: [
        { Id: '1', MessageBody: entries(3)[1]?.body },
        { Id: '2', MessageBody: entries(3)[2]?.body },
      ],
    });
  });

  it('does not retry an entry SQS blames on the sender', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad char' }],
    });

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(2), {
      retry: policy,
      sleep: noSleep,
    });

    expect(failed).toEqual([
      { id: '1', code: 'InvalidMessageContents', message: 'bad char', senderFault: true },
    ]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('gives up after maxAttempts and reports the last failure of each entry', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: '0', SenderFault: false, Code: 'InternalError', Message: 'down' }],
      Successful: [{ Id: '1', MessageId: 'm1', MD5OfMessageBody: '' }],
    });
    const delays: number[] = [];

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(2), {
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });

    expect(failed).toEqual([
      { id: '0', code: 'InternalError', message: 'down', senderFault: false },
    ]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThan(100);
    expect(delays[1]).toBeLessThan(150);
  });

  it('retries a thrown transient error with the whole batch', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
      .resolves({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }] });

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(1), {
      retry: policy,
      sleep: noSleep,
    });

    expect(failed).toEqual([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
  });

  it('does not retry a client fault such as a missing queue', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejects(
        new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }),
      );

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(2), {
      retry: policy,
      sleep: noSleep,
    });

    expect(failed).toEqual([
      {
        id: '0',
        code: 'QueueDoesNotExist',
        message: 'The specified queue does not exist.',
        senderFault: true,
      },
      {
        id: '1',
        code: 'QueueDoesNotExist',
        message: 'The specified queue does not exist.',
        senderFault: true,
      },
    ]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('sends again an entry the response does not mention', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }] })
      .resolves({ Successful: [{ Id: '1', MessageId: 'm1', MD5OfMessageBody: '' }] });

    const failed = await sendMessagesInBatches(sqs, QUEUE_URL, entries(2), {
      retry: policy,
      sleep: noSleep,
    });

    expect(failed).toEqual([]);
    expect(sentIds(sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input)).toEqual(['1']);
  });
});
