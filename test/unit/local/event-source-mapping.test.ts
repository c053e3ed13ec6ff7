/** Lambda's partial batch response rules, as the local SQS event source mapping applies them. */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { succeededRecords } from '#local/event-source-mapping.ts';

describe('Function: succeededRecords', () => {
  const records = ['a', 'b', 'c'].map((messageId) => ({ messageId }) as SQSRecord);
  const ids = (list: SQSRecord[]) => list.map((record) => record.messageId);

  it('deletes every record for an empty or null response or list', () => {
    for (const response of [
      'null',
      '{}',
      '{"batchItemFailures":[]}',
      '{"batchItemFailures":null}',
      '"ok"',
    ]) {
      expect(ids(succeededRecords(records, response, true))).toEqual(['a', 'b', 'c']);
    }
  });

  it('keeps only the named failures', () => {
    expect(
      ids(succeededRecords(records, '{"batchItemFailures":[{"itemIdentifier":"b"}]}', true)),
    ).toEqual(['a', 'c']);
  });

  it('fails the whole batch on an invalid item, as Lambda does', () => {
    for (const response of [
      '{"batchItemFailures":[{"itemIdentifier":""}]}',
      '{"batchItemFailures":[{"itemIdentifier":null}]}',
      '{"batchItemFailures":[{"id":"a"}]}',
      '{"batchItemFailures":[{"itemIdentifier":"zzz"}]}',
      '{"batchItemFailures":"a"}',
      'not json',
    ]) {
      expect(succeededRecords(records, response, true)).toEqual([]);
    }
  });

  it('ignores the response without ReportBatchItemFailures', () => {
    expect(
      ids(succeededRecords(records, '{"batchItemFailures":[{"itemIdentifier":"b"}]}', false)),
    ).toEqual(['a', 'b', 'c']);
  });
});
