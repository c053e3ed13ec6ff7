/**
 * The pure parts of the local runner and the CLI: intrinsic resolution, Lambda's partial
 * batch response rules, and how the CLI reads numbers and arguments.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createSigV4Signer, FanoutClient, regionOfApiUrl } from '../../bin/client.ts';
import { separateArguments } from '../../bin/fanout.ts';
import {
  parseJsonNumbers,
  parseNumbersText,
  parseNumberToken,
  parseRange,
  UsageError,
} from '../../bin/input.ts';
import { succeededRecords } from '../../infra/local/event-source-mapping.ts';
import { functionNameOf } from '../../infra/local/lambda-api.ts';
import { type PhysicalResource, TemplateResolver } from '../../infra/local/template.ts';

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

describe('Function: functionNameOf', () => {
  it('accepts a name, a full ARN with a qualifier and a partial ARN', () => {
    expect(functionNameOf('my-fn')).toBe('my-fn');
    expect(
      functionNameOf(
        encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:my-fn:$LATEST'),
      ),
    ).toBe('my-fn');
    expect(functionNameOf('000000000000:function:my-fn')).toBe('my-fn');
  });
});

describe('Function: parseNumberToken', () => {
  it('keeps integers beyond 2^53 as their digits and floats as numbers', () => {
    expect(parseNumberToken('42')).toBe(42);
    expect(parseNumberToken('-7')).toBe(-7);
    expect(parseNumberToken('+12345678901234567890')).toBe('12345678901234567890');
    expect(parseNumberToken('2.5e3')).toBe(2500);
    expect(parseNumberToken('.5')).toBe(0.5);
  });

  it('passes anything else through for the API to name', () => {
    expect(parseNumberToken('two')).toBe('two');
    expect(parseNumberToken('NaN')).toBe('NaN');
  });
});

describe('Function: parseJsonNumbers', () => {
  it('keeps the source digits of integers that a double cannot hold', () => {
    expect(parseJsonNumbers('[1, 12345678901234567890, 1.5, "7"]', 'f')).toEqual([
      1,
      '12345678901234567890',
      1.5,
      '7',
    ]);
    expect(parseJsonNumbers('{"numbers":[3]}', 'f')).toEqual([3]);
  });

  it('says what is wrong with the file', () => {
    expect(() => parseJsonNumbers('[1,', 'numbers.json')).toThrow(UsageError);
    expect(() => parseJsonNumbers('{"a":1}', 'numbers.json')).toThrow(
      'numbers.json must hold a JSON array',
    );
  });
});

describe('Function: parseNumbersText', () => {
  it('reads one number per line, skipping blanks and comments', () => {
    expect(parseNumbersText('1\n\n# note\n-2\r\n3.5\n', 'stdin')).toEqual([1, -2, 3.5]);
  });
});

describe('Function: parseRange', () => {
  it('expands an inclusive range, negative ends included', () => {
    expect(parseRange('-2..2', 10)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('rejects malformed, empty and oversized ranges', () => {
    expect(() => parseRange('1-5', 10)).toThrow('--range must look like 1..100');
    expect(() => parseRange('5..1', 10)).toThrow('is empty');
    expect(() => parseRange('1..11', 10)).toThrow('has 11 numbers; a job takes at most 10');
  });
});

describe('Function: separateArguments', () => {
  it('keeps negative numbers as numbers and option values with their options', () => {
    expect(separateArguments(['-3', '--port', '3000', '4', '--json', '-', '-0.5'])).toEqual([
      '--port',
      '3000',
      '--json',
      '--',
      '-3',
      '4',
      '-',
      '-0.5',
    ]);
  });
});

describe('Function: createSigV4Signer', () => {
  it('signs API requests for execute-api with the default credential chain', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"jobId":"j","status":"RUNNING","numbersCount":1}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // test/setup.ts puts fake credentials in the environment, the chain's first source.
      const client = new FanoutClient(
        `http://127.0.0.1:${port}/v1`,
        await createSigV4Signer('eu-west-1'),
      );
      await client.status('j');
      expect(seen[0]?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      server.close();
    }
  });

  it('reads the region from an execute-api URL', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.eu-central-1.amazonaws.com/v1/')).toBe(
      'eu-central-1',
    );
    expect(regionOfApiUrl('http://127.0.0.1:3000')).toBeUndefined();
  });
});
