/**
 * An S3 input job through the domain functions of every stage: the dispatcher (s3Uri and
 * upload jobs, with HeadObject mocked), the worker (its ranged GETs answered from a text, its
 * hand-off invoking the aggregator in process), the aggregator and the status reads on an
 * in-memory table, and the sweeper.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, ForbiddenError, PayloadTooLargeError } from '#commons/errors.ts';
import { MAX_LINE_BYTES } from '#commons/input/lines.ts';
import type { RangeChunkMessage } from '#commons/types.ts';
import { getJob } from '#store/jobs.ts';
import type { JobTable } from '#store/table.ts';
import { TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { sqsRecord } from '#test/helpers/events.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { aggregateChunk } from '../../../functions/aggregator/aggregate-chunk.ts';
import type { DispatcherDeps } from '../../../functions/dispatcher/deps.ts';
import {
  createS3UriJob,
  createUploadJob,
  startUploadJob,
} from '../../../functions/dispatcher/input-job.ts';
import { getJobStatus, getResultsPage } from '../../../functions/status/job-status.ts';
import { sweepExpiredJobs } from '../../../functions/sweeper/sweep-deadlines.ts';
import { applyInline, squareKernel } from '../../../functions/worker/kernel.ts';
import { processChunkRecord, type WorkerDeps } from '../../../functions/worker/process-chunk.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
const lambdaMock = mockClient(LambdaClient);
const NOW = new Date('2026-01-01T00:00:00.000Z');
const BUCKET = 'operator-inputs';
const JOB_IDS = ['0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b', '1f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b'];
/** The smallest range the planner takes: a few lines per range. */
const RANGE_BYTES = MAX_LINE_BYTES;
let table: FakeTable;
let objects: Map<string, string>;
let sent: RangeChunkMessage[];

const jobTable: JobTable = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};

function body(bytes: Buffer): NonNullable<GetObjectCommandOutput['Body']> {
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async () => bytes.toString('utf8'),
    transformToWebStream: () => Readable.toWeb(Readable.from([bytes])),
  });
}

/** Who submits the jobs of these tests. */
const OWNER_ARN = 'arn:aws:iam::123456789012:user/alice';

function dispatcherDeps(overrides: Partial<DispatcherDeps['input']> = {}): DispatcherDeps {
  let next = 0;
  return {
    table: jobTable,
    sqs: new SQSClient({}),
    workQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work',
    numbersPerChunk: 10,
    jobRetentionDays: 1,
    jobDeadlineSeconds: 900,
    now: () => NOW,
    newJobId: () => JOB_IDS[next++] ?? 'unexpected',
    input: {
      s3: new S3Client({}),
      presigner: new S3Client({
        region: 'eu-west-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
      inputBucketName: 'fanout-input',
      allowedBucketNames: [BUCKET],
      rangeBytes: RANGE_BYTES,
      maxNumbersPerInputObject: 1_000_000,
      ...overrides,
    },
  };
}

const workerDeps: WorkerDeps = {
  lambda: new LambdaClient({}),
  aggregatorFunctionName: 'aggregator',
  computeChunk: async (numbers) => applyInline(squareKernel, numbers),
  table: jobTable,
  s3: new S3Client({}),
  now: () => NOW,
};

/** Delivers every queued range to the worker, in the given order of chunk indexes. */
async function deliver(order?: readonly number[]) {
  const messages = order === undefined ? sent : order.map((index) => sent[index]);
  const outcomes = [];
  for (const message of messages) {
    if (message === undefined) throw new Error('no such message');
    outcomes.push(await processChunkRecord(sqsRecord(JSON.stringify(message)), workerDeps));
  }
  return outcomes;
}

function lines(from: number, to: number): string {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i)).join('\n');
}

beforeEach(() => {
  ddbMock.reset();
  s3Mock.reset();
  sqsMock.reset();
  lambdaMock.reset();
  table = new FakeTable();
  table.attach(ddbMock);
  objects = new Map();
  sent = [];
  s3Mock.on(HeadObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const text = objects.get(`${input.Bucket}/${input.Key}`);
    if (text === undefined) throw Object.assign(new Error('NotFound'), { name: 'NotFound' });
    return { ContentLength: Buffer.byteLength(text, 'latin1'), ETag: '"etag-1"' };
  });
  s3Mock
    .on(GetObjectCommand)
    .callsFake((input: { Bucket: string; Key: string; Range?: string }) => {
      const text = objects.get(`${input.Bucket}/${input.Key}`) ?? '';
      const match = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
      const bytes = Buffer.from(
        match === null ? text : text.slice(Number(match[1]), Number(match[2]) + 1),
        'latin1',
      );
      return { Body: body(bytes), ContentLength: bytes.length };
    });
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
  s3Mock.on(CompleteMultipartUploadCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake((input) => {
    for (const entry of input.Entries ?? []) sent.push(JSON.parse(entry.MessageBody ?? ''));
    sent.sort((a, b) => a.chunkIndex - b.chunkIndex);
    return {
      Successful: (input.Entries ?? []).map((entry: { Id: string }) => ({
        Id: entry.Id,
        MessageId: `m-${entry.Id}`,
        MD5OfMessageBody: '',
      })),
      Failed: [],
    };
  });
  lambdaMock.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
    const payload: unknown = JSON.parse(Buffer.from(input.Payload).toString('utf8'));
    const outcome = await aggregateChunk(payload, { table: jobTable, now: () => NOW });
    return { Payload: Buffer.from(JSON.stringify(outcome)) };
  });
});

describe('Function: createS3UriJob', () => {
  it('plans the ranges from the size alone and queues one range message each', async () => {
    // Prepare
    const text = `${lines(1, 10_000)}\n`;
    objects.set(`${BUCKET}/in.txt`, text);

    // Act
    const job = await createS3UriJob(
      { kind: 's3Uri', format: 'lines', bucket: BUCKET, key: 'in.txt' },
      OWNER_ARN,
      dispatcherDeps(),
    );

    // Assess
    const chunkCount = Math.ceil(text.length / RANGE_BYTES);
    expect(job).toMatchObject({ status: 'RUNNING', chunkCount });
    expect(sent).toHaveLength(chunkCount);
    expect(sent[1]).toEqual({
      jobId: job.jobId,
      chunkIndex: 1,
      chunkCount,
      range: {
        bucket: BUCKET,
        key: 'in.txt',
        etag: '"etag-1"',
        size: text.length,
        start: RANGE_BYTES,
        end: 2 * RANGE_BYTES,
        format: 'lines',
      },
    });
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
    const stored = await getJob(jobTable, job.jobId);
    expect(stored?.input).toMatchObject({ size: text.length, etag: '"etag-1"' });
  });

  it('answers 403 for a bucket the operator did not allow', async () => {
    // Act
    const creating = createS3UriJob(
      { kind: 's3Uri', format: 'lines', bucket: 'someone-else', key: 'in.txt' },
      OWNER_ARN,
      dispatcherDeps(),
    );

    // Assess
    await expect(creating).rejects.toThrow(ForbiddenError);
    await expect(creating).rejects.toMatchObject({ code: 'INPUT_BUCKET_NOT_ALLOWED' });
  });

  it('refuses a json object larger than one range with 413', async () => {
    // Prepare
    objects.set(`${BUCKET}/big.json`, `[${'1,'.repeat(200_000)}1]`);

    // Act
    const creating = createS3UriJob(
      { kind: 's3Uri', format: 'json', bucket: BUCKET, key: 'big.json' },
      OWNER_ARN,
      dispatcherDeps(),
    );

    // Assess
    await expect(creating).rejects.toThrow(PayloadTooLargeError);
  });
});

describe('S3 input pipeline', () => {
  it('squares every line once, in order, whatever order the ranges arrive in', async () => {
    // Prepare
    const text = `${lines(1, 10_000)}\r\n${'9'.repeat(40)}`;
    objects.set(`${BUCKET}/in.txt`, text);
    const job = await createS3UriJob(
      { kind: 's3Uri', format: 'lines', bucket: BUCKET, key: 'in.txt' },
      OWNER_ARN,
      dispatcherDeps(),
    );
    const order = sent.map((message) => message.chunkIndex).reverse();

    // Act
    await deliver(order);

    // Assess
    const status = await getJobStatus(job.jobId, { table: jobTable, now: () => NOW });
    expect(status.view.status).toBe('SUCCEEDED');
    expect(status.view.numbersCount).toBe(10_001);
    expect(status.view.progress).toMatchObject({ bytesDone: text.length, bytesTotal: text.length });
    const expected = [
      ...Array.from({ length: 10_000 }, (_, i) => (i + 1) ** 2),
      String((10n ** 40n - 1n) ** 2n),
    ];
    expect(JSON.parse(status.resultsJson ?? '[]')).toEqual(expected);
    const page = await getResultsPage(
      job.jobId,
      {},
      {
        table: jobTable,
        pagesPerResponse: 2,
      },
    );
    const firstTwo = JSON.parse(page.resultsJson) as unknown[];
    expect(page.offset).toBe(0);
    expect(firstTwo).toEqual(expected.slice(0, firstTwo.length));
    const next = await getResultsPage(
      job.jobId,
      { cursor: page.nextCursor ?? '' },
      {
        table: jobTable,
        pagesPerResponse: 2,
      },
    );
    expect(next.offset).toBe(firstTwo.length);
    expect(JSON.parse(next.resultsJson)).toEqual(
      expected.slice(firstTwo.length, firstTwo.length + next.count),
    );
  });

  it('counts a duplicated range delivery once', async () => {
    // Prepare
    objects.set(`${BUCKET}/in.txt`, `${lines(1, 10_000)}\n`);
    const job = await createS3UriJob(
      { kind: 's3Uri', format: 'lines', bucket: BUCKET, key: 'in.txt' },
      OWNER_ARN,
      dispatcherDeps(),
    );

    // Act
    const outcomes = await deliver([
      0,
      0,
      ...sent.map((message) => message.chunkIndex).slice(1),
      1,
    ]);

    // Assess
    expect(outcomes[1]).toMatchObject({ outcome: 'DUPLICATE' });
    const stored = await getJob(jobTable, job.jobId, { withResults: true });
    expect(stored?.status).toBe('SUCCEEDED');
    expect(stored?.numbersCount).toBe(10_000);
    expect(JSON.parse(stored?.results ?? '[]')).toEqual(
      Array.from({ length: 10_000 }, (_, i) => (i + 1) ** 2),
    );
  });

  it('fails the job INVALID_INPUT naming the global line of a bad line in the last byte of a range', async () => {
    // Prepare: line 5 is "x" whose only byte is the first range's last byte.
    const padding = '7'.repeat(RANGE_BYTES - 8);
    const text = `1\n2\n3\n${padding}\nx\n${lines(10, 200)}\n`;
    objects.set(`${BUCKET}/in.txt`, text);
    expect(text.indexOf('x')).toBe(RANGE_BYTES - 1);
    const job = await createS3UriJob(
      { kind: 's3Uri', format: 'lines', bucket: BUCKET, key: 'in.txt' },
      OWNER_ARN,
      dispatcherDeps(),
    );

    // Act
    await deliver();

    // Assess
    const stored = await getJob(jobTable, job.jobId);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.failure).toMatchObject({
      code: 'INVALID_INPUT',
      badLineCount: 1,
      badLines: [{ line: 5, code: expect.any(String) }],
    });
    await expect(getResultsPage(job.jobId, {}, { table: jobTable })).rejects.toMatchObject({
      code: 'JOB_NOT_SUCCEEDED',
    });
  });

  it('fails the job TOO_MANY_NUMBERS past its limit', async () => {
    // Prepare
    objects.set(`${BUCKET}/in.txt`, `${lines(1, 10_000)}\n`);
    const job = await createS3UriJob(
      { kind: 's3Uri', format: 'lines', bucket: BUCKET, key: 'in.txt' },
      OWNER_ARN,
      dispatcherDeps({ maxNumbersPerInputObject: 5_000 }),
    );

    // Act
    await deliver();

    // Assess
    const stored = await getJob(jobTable, job.jobId);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.failure?.code).toBe('TOO_MANY_NUMBERS');
  });

  it('reads a json object whole as one range', async () => {
    // Prepare
    objects.set(`${BUCKET}/in.json`, '[3e100, 9007199254740993, 2.5]');
    const job = await createS3UriJob(
      { kind: 's3Uri', format: 'json', bucket: BUCKET, key: 'in.json' },
      OWNER_ARN,
      dispatcherDeps(),
    );

    // Act
    await deliver();

    // Assess
    const stored = await getJob(jobTable, job.jobId, { withResults: true });
    expect(stored?.status).toBe('SUCCEEDED');
    expect(stored?.results).toBe('[9e+200,"81129638414606699710187514626049",6.25]');
  });
});

describe('Function: startUploadJob', () => {
  it('starts an upload job after its multipart upload, with the parts the client sent', async () => {
    // Prepare
    const deps = dispatcherDeps();
    const created = await createUploadJob(
      { kind: 'upload', format: 'lines', sizeBytes: 100 * 1024 ** 2 },
      OWNER_ARN,
      deps,
    );
    expect(created.status).toBe('AWAITING_INPUT');
    expect(created.upload.method).toBe('MULTIPART');
    objects.set(`fanout-input/${created.upload.key}`, `${lines(1, 50)}\n`);

    // Act
    const started = await startUploadJob(
      created.jobId,
      [
        { partNumber: 1, etag: '"p1"' },
        { partNumber: 2, etag: '"p2"' },
      ],
      deps,
    );
    await deliver();

    // Assess
    expect(started.status).toBe('RUNNING');
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      UploadId: 'upload-1',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"p1"' },
          { PartNumber: 2, ETag: '"p2"' },
        ],
      },
    });
    const stored = await getJob(jobTable, created.jobId);
    expect(stored).toMatchObject({ status: 'SUCCEEDED', numbersCount: 50 });
  });

  it('starts a job whose start is retried after an earlier one completed its multipart upload', async () => {
    // Prepare: the first start completed the upload, then failed before the job started.
    const deps = dispatcherDeps();
    const created = await createUploadJob(
      { kind: 'upload', format: 'lines', sizeBytes: 100 * 1024 ** 2 },
      OWNER_ARN,
      deps,
    );
    objects.set(`fanout-input/${created.upload.key}`, `${lines(1, 30)}\n`);
    s3Mock.on(CompleteMultipartUploadCommand).rejects(
      Object.assign(new Error('The specified multipart upload does not exist.'), {
        name: 'NoSuchUpload',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    // Act
    const started = await startUploadJob(created.jobId, [{ partNumber: 1, etag: '"p1"' }], deps);
    await deliver();

    // Assess
    expect(started).toMatchObject({ status: 'RUNNING', chunkCount: 1 });
    expect(await getJob(jobTable, created.jobId)).toMatchObject({
      status: 'SUCCEEDED',
      numbersCount: 30,
    });
  });

  it('answers 400 and leaves the job AWAITING_INPUT when its parts were never uploaded', async () => {
    // Prepare
    const deps = dispatcherDeps();
    const created = await createUploadJob(
      { kind: 'upload', format: 'lines', sizeBytes: 100 * 1024 ** 2 },
      OWNER_ARN,
      deps,
    );
    s3Mock.on(CompleteMultipartUploadCommand).rejects(
      Object.assign(new Error('One or more of the specified parts could not be found.'), {
        name: 'InvalidPart',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const error = await startUploadJob(
      created.jobId,
      [{ partNumber: 1, etag: '"p1"' }],
      deps,
    ).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_UPLOAD_PARTS' });
    expect((await getJob(jobTable, created.jobId))?.status).toBe('AWAITING_INPUT');
    expect(sent).toEqual([]);
  });

  it('fails an upload that never completes INPUT_NOT_UPLOADED at its deadline', async () => {
    // Prepare
    const created = await createUploadJob(
      { kind: 'upload', format: 'lines' },
      OWNER_ARN,
      dispatcherDeps(),
    );
    expect(created.upload.method).toBe('PUT');

    ddbMock.on(QueryCommand).resolves({ Items: [{ pk: `JOB#${created.jobId}`, sk: 'JOB' }] });

    // Act
    const summary = await sweepExpiredJobs({
      table: jobTable,
      now: () => new Date(NOW.getTime() + 2 * 3_600_000),
    });

    // Assess
    expect(summary.failed).toBe(1);
    const stored = await getJob(jobTable, created.jobId);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.failure?.code).toBe('INPUT_NOT_UPLOADED');
  });
});
