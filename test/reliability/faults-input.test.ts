/**
 * Faults of jobs whose input is an S3 object, through the real handlers on the local stack: a
 * pool child SIGKILLed while it squares a range; the worker's execution environment killed
 * after its ranged GET, before its hand-off; a range delivered twice at once, and once more
 * after its job ended; bad lines in the last byte of a range; an upload that never completes,
 * and a start before the upload. Ranges are 64 KiB (the dispatcher's INPUT_RANGE_BYTES, as
 * `-c fanout:inputRangeBytes` sets it), so the inputs stay small. Every job ends exact (each
 * square against the independent oracle, each range stored and counted once, every byte
 * done) or FAILED with its precise code, once.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbRequest } from '#local/dynamodb-faults.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import { waitFor } from '#test/e2e/helpers.ts';
import type { FanoutClient, JobStatusBody } from '../../bin/client.ts';
import {
  bigIntegerString,
  call,
  chunkOfBody,
  clientOf,
  countWorkerInvocations,
  documentClient,
  duplicateFirstBatch,
  expectEachRangeOnce,
  firstInexact,
  isRunning,
  jobItem,
  killPoolChildWhileSquaring,
  recordAggregatorOutcomes,
  recordsOf,
  reliabilityStack,
  resultPages,
  waitForDrainedQueue,
} from './support.ts';

/** Bytes per range of these tests' jobs. */
const RANGE_BYTES = 65_536;
/** A bucket the operator allows (`-c fanout:inputBucketArns`), for the s3Uri jobs. */
const OPERATOR_BUCKET = 'operator-inputs';

interface ChunkResultEvent {
  readonly jobId: string;
  readonly chunkIndex: number;
}

/** One line of a `lines` object. */
interface InputLine {
  readonly text: string;
  readonly ending: '\n' | '\r\n' | '';
  /** What the oracle squares: an integer as its decimal text, a fraction as a number; none for a bad line. */
  readonly value?: number | string;
}

/**
 * A `lines` object built line by line (ASCII: a character is a byte), and what the oracle
 * knows of it: the values of its good lines, where each line starts, so which range holds it
 * (the one where it starts), and the 1-based numbers of its bad lines.
 */
class LinesObject {
  readonly lines: InputLine[] = [];
  #bytes = 0;
  #next = 1;

  get bytes(): number {
    return this.#bytes;
  }

  get body(): string {
    return this.lines.map((line) => line.text + line.ending).join('');
  }

  add(line: InputLine): this {
    this.lines.push(line);
    this.#bytes += line.text.length + line.ending.length;
    return this;
  }

  bad(text: string, ending: InputLine['ending'] = '\n'): this {
    return this.add({ text, ending });
  }

  /**
   * Good lines as `seq` would print them, with negatives, halves and CRLF line breaks mixed
   * in, until the object is exactly `position` bytes long: the last line is an integer of as
   * many digits as fill it (a few dozen).
   */
  fillTo(position: number): this {
    if (position - this.#bytes < 12) throw new RangeError(`cannot fill to ${position}`);
    while (position - this.#bytes > 40) {
      const n = this.#next++;
      const ending = n % 13 === 6 ? '\r\n' : '\n';
      if (n % 11 === 5) this.add({ text: `${n}.5`, ending, value: n + 0.5 });
      else {
        const text = String(n % 7 === 3 ? -n : n);
        this.add({ text, ending, value: text });
      }
    }
    const digits = position - this.#bytes - 1;
    const text = bigIntegerString(digits, this.#next++);
    return this.add({ text, ending: '\n', value: text });
  }

  /** The values of the good lines, in order: what the squares must be of. */
  values(): (number | string)[] {
    return this.lines.flatMap((line) => (line.value === undefined ? [] : [line.value]));
  }

  /** How many good lines start in each range of `rangeBytes`. */
  countsPerRange(rangeBytes: number = RANGE_BYTES): number[] {
    const counts = Array.from({ length: Math.ceil(this.#bytes / rangeBytes) }, () => 0);
    let start = 0;
    for (const line of this.lines) {
      const index = Math.floor(start / rangeBytes);
      if (line.value !== undefined) counts[index] = (counts[index] ?? 0) + 1;
      start += line.text.length + line.ending.length;
    }
    return counts;
  }

  /** 1-based numbers of the bad lines. */
  badLineNumbers(): number[] {
    return this.lines.flatMap((line, index) => (line.value === undefined ? [index + 1] : []));
  }
}

interface AwaitingUpload {
  readonly jobId: string;
  readonly status: string;
  readonly upload: {
    readonly method: string;
    /** A single PUT's URL. */
    readonly url?: string;
    /** A multipart upload's part URLs. */
    readonly parts?: readonly { readonly partNumber: number; readonly url: string }[];
  };
}

/** Whether a DynamoDB request is the start of job `jobId` (its UpdateItem to RUNNING). */
function isStartOf(request: DynamoDbRequest, jobId: string): boolean {
  const key = request.input.Key as { pk?: { S?: string } } | undefined;
  const values = JSON.stringify(request.input.ExpressionAttributeValues ?? {});
  return key?.pk?.S === `JOB#${jobId}` && values.includes('{"S":"RUNNING"}');
}

describe('Feature: faults of S3 input jobs end exact or precisely failed', () => {
  const stack = reliabilityStack({
    dynamoDbFaults: true,
    environmentOverrides: {
      Dispatcher: {
        INPUT_RANGE_BYTES: String(RANGE_BYTES),
        ALLOWED_INPUT_BUCKET_ARNS: `arn:aws:s3:::${OPERATOR_BUCKET}`,
      },
    },
  });
  let client: FanoutClient;
  let s3: S3Client;

  beforeAll(async () => {
    await stack.start();
    client = clientOf(stack);
    s3 = new S3Client({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.endpoints.s3,
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: OPERATOR_BUCKET }));
  }, 120_000);

  afterEach(async () => {
    stack.intercept('worker', undefined);
    stack.intercept('aggregator', undefined);
    stack.dynamoDbFaults.clear();
    // Each case leaves the queue empty: the next one's first batch is its own.
    await waitForDrainedQueue(stack);
  });

  afterAll(async () => {
    s3?.destroy();
    await stack.stop();
  });

  /**
   * `POST /jobs` of an upload job: AWAITING_INPUT, with its presigned PUT, or with `sizeBytes`
   * past the multipart threshold its part URLs.
   */
  async function createUploadJob(sizeBytes?: number): Promise<AwaitingUpload> {
    const upload = { format: 'lines', ...(sizeBytes === undefined ? {} : { sizeBytes }) };
    const created = await call(stack.apiUrl, 'POST', '/jobs', {
      body: JSON.stringify({ input: { upload } }),
    });
    expect(created.status).toBe(202);
    const job = created.body as AwaitingUpload;
    expect(job.status).toBe('AWAITING_INPUT');
    expect(job.upload.method).toBe(sizeBytes === undefined ? 'PUT' : 'MULTIPART');
    return job;
  }

  /** Uploads `object` with the job's PUT URL, or as the first part of its multipart upload: the ETag. */
  async function put(job: AwaitingUpload, object: LinesObject): Promise<string> {
    const url = job.upload.url ?? job.upload.parts?.[0]?.url ?? '';
    const answer = await fetch(url, { method: 'PUT', body: object.body });
    expect(answer.status).toBe(200);
    return answer.headers.get('etag') ?? '';
  }

  function start(jobId: string, parts?: readonly { partNumber: number; etag: string }[]) {
    return call(stack.apiUrl, 'POST', `/jobs/${jobId}/start`, {
      body: JSON.stringify(parts === undefined ? {} : { parts }),
    });
  }

  /** An upload job of `object`, uploaded and started: its id. */
  async function uploadJob(object: LinesObject): Promise<string> {
    const job = await createUploadJob();
    await put(job, object);
    const started = await start(job.jobId);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      status: 'RUNNING',
      chunkCount: Math.ceil(object.bytes / RANGE_BYTES),
      input: { sizeBytes: object.bytes },
    });
    return job.jobId;
  }

  /** An s3Uri job of `object`, put in the operator's bucket under `key`: its id. */
  async function s3UriJob(object: LinesObject, key: string): Promise<string> {
    await s3.send(new PutObjectCommand({ Bucket: OPERATOR_BUCKET, Key: key, Body: object.body }));
    const created = await call(stack.apiUrl, 'POST', '/jobs', {
      body: JSON.stringify({ input: { s3Uri: `s3://${OPERATOR_BUCKET}/${key}` } }),
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({
      status: 'RUNNING',
      chunkCount: Math.ceil(object.bytes / RANGE_BYTES),
    });
    return String((created.body as { jobId: unknown }).jobId);
  }

  /**
   * Waits for the job to succeed, then checks every square against the oracle, its count of
   * numbers and bytes, and each range's page against the table. Returns the final status.
   */
  async function expectExactInputJob(
    jobId: string,
    object: LinesObject,
    timeoutMs = 60_000,
  ): Promise<JobStatusBody> {
    const values = object.values();
    const job = await client.waitForJob(jobId, { timeoutMs });
    expect(job.status, JSON.stringify(job.failure ?? null)).toBe('SUCCEEDED');
    expect(job.numbersCount).toBe(values.length);
    expect(firstInexact(values, await client.resultsOf(job))).toBe(-1);
    await expectEachRangeOnce(stack, job, {
      sizeBytes: object.bytes,
      countsPerRange: object.countsPerRange(),
    });
    return job;
  }

  it('survives a pool child SIGKILLed while it squares a range', {
    timeout: 90_000,
  }, async ({ task }) => {
    // Lines of 10,000-digit integers: about 6 a range, so every range goes to the pool and
    // its children spend milliseconds of CPU on each slice.
    const object = new LinesObject();
    for (let index = 0; index < 240; index++) {
      const text = bigIntegerString(10_000 - (index % 5), index + 1, index % 3 === 0);
      object.add({ text, ending: index % 4 === 1 ? '\r\n' : '\n', value: text });
    }
    const inFlight = countWorkerInvocations(stack);
    const jobId = await uploadJob(object);
    const { victim, seenChildren } = await killPoolChildWhileSquaring(
      stack,
      inFlight,
      async () => (await client.status(jobId)).status === 'RUNNING',
    );
    expect(seenChildren, 'the worker started no pool child').toBeGreaterThan(0);
    expect(victim, 'no pool child was caught squaring a range').toBeDefined();

    const job = await expectExactInputJob(jobId, object);
    const victimPid = victim?.pid ?? 0;
    expect(isRunning(victimPid)).toBe(false);
    expect(stack.childPids('worker')).not.toContain(victimPid);
    expect(stack.childPids('worker').length).toBeGreaterThan(0);
    const attempts = Number(job.attempts);
    task.meta.reliability = {
      fault: `pool child SIGKILLed mid-range (${job.progress.chunkCount} ranges of 10,000-digit lines)`,
      outcome:
        attempts === 0
          ? 'pool re-ran the slice on a fresh child; SUCCEEDED'
          : `range redelivered (${attempts} attempts); SUCCEEDED`,
      checked: object.values().length,
    };
  });

  it('redelivers the ranges of a worker killed after its ranged GET, each counted once', {
    timeout: 60_000,
  }, async ({ task }) => {
    const object = new LinesObject().fillTo(6 * RANGE_BYTES + 1_234);
    const deliveries = new Map<number, number>();
    const invocationOf = new Map<number, string>();
    const chunksOf = new Map<string, number[]>();
    const outcomes: { chunkIndex: number; outcome: string }[] = [];
    let crashed:
      | {
          requestId: string;
          chunks: readonly number[];
          found: boolean;
          /** The batch's ranges stored before it died. */
          storedBefore: number[];
        }
      | undefined;
    stack.intercept('worker', (event, next, { requestId }) => {
      const chunks: number[] = [];
      for (const record of recordsOf(event)) {
        const chunk = chunkOfBody(record.body);
        if (chunk === undefined) continue;
        chunks.push(chunk.chunkIndex);
        deliveries.set(chunk.chunkIndex, (deliveries.get(chunk.chunkIndex) ?? 0) + 1);
        invocationOf.set(chunk.chunkIndex, requestId);
      }
      chunksOf.set(requestId, chunks);
      return next(event);
    });
    stack.intercept('aggregator', async (event, next) => {
      const { chunkIndex } = event as ChunkResultEvent;
      const requestId = invocationOf.get(chunkIndex);
      if (chunkIndex === 1 && crashed === undefined && requestId !== undefined) {
        // Range 1 is read (its ranged GET) and squared. Once the other ranges of its batch
        // are handed off and stored, its worker's sandbox dies, before this hand-off reaches
        // the aggregator, with every record of its batch unanswered.
        const chunks = chunksOf.get(requestId) ?? [];
        crashed = { requestId, chunks, found: false, storedBefore: [] };
        await waitFor(
          () =>
            chunks.every(
              (other) => other === 1 || outcomes.some((answer) => answer.chunkIndex === other),
            ),
          20_000,
          'the other ranges of the batch to be stored',
        );
        crashed.storedBefore = outcomes
          .filter((answer) => answer.outcome === 'STORED' && chunks.includes(answer.chunkIndex))
          .map((answer) => answer.chunkIndex);
        crashed.found = stack.crashInvocation('worker', requestId);
        throw new Error('injected: the worker died before its hand-off');
      }
      const answer = (await next(event)) as { outcome: string };
      outcomes.push({ chunkIndex, outcome: answer.outcome });
      return answer;
    });
    const jobId = await uploadJob(object);
    const job = await expectExactInputJob(jobId, object);
    await waitForDrainedQueue(stack);

    expect(crashed?.found).toBe(true);
    const crashedChunks = crashed?.chunks ?? [];
    expect(crashedChunks).toContain(1);
    // Every record of the dead invocation came back once more (SQS, after its visibility
    // timeout); a record it had handed off before dying was then a DUPLICATE, or dropped
    // (JOB_NOT_RUNNING) when range 1 had completed the job first.
    for (const chunkIndex of crashedChunks) expect(deliveries.get(chunkIndex)).toBe(2);
    const stored = outcomes.filter((answer) => answer.outcome === 'STORED');
    expect(stored.map((answer) => answer.chunkIndex).sort((a, b) => a - b)).toEqual(
      object.countsPerRange().map((_, index) => index),
    );
    // The other ranges of the dead invocation were stored before it died.
    const storedFirst = crashed?.storedBefore ?? [];
    expect([...storedFirst].sort((a, b) => a - b)).toEqual(
      crashedChunks.filter((chunkIndex) => chunkIndex !== 1).sort((a, b) => a - b),
    );
    const dropped = outcomes.filter((value) => value.outcome !== 'STORED');
    for (const answer of dropped) {
      expect(['DUPLICATE', 'JOB_NOT_RUNNING']).toContain(answer.outcome);
      expect(crashedChunks).toContain(answer.chunkIndex);
    }
    // The sandbox died before it could note a failed delivery on the job.
    expect(job.attempts).toBe(0);
    task.meta.reliability = {
      fault: `worker sandbox killed after its ranged GET, before the hand-off (batch of ${crashedChunks.length} ranges)`,
      outcome: `batch redelivered, ${dropped.length} of its ${storedFirst.length} stored ranges dropped as duplicates; counted once; SUCCEEDED`,
      checked: object.values().length,
    };
  });

  it('counts a range delivered twice at once, and once more after its job ended, once', {
    timeout: 60_000,
  }, async ({ task }) => {
    const object = new LinesObject().fillTo(4 * RANGE_BYTES + 99);
    const bodies = new Map<number, string>();
    let late: { body: string; seen: number } | undefined;
    const copies = duplicateFirstBatch(stack, (records) => {
      for (const record of records) {
        const chunk = chunkOfBody(record.body);
        if (chunk !== undefined) bodies.set(chunk.chunkIndex, record.body);
        if (late !== undefined && record.body === late.body) late.seen++;
      }
    });
    const outcomes = recordAggregatorOutcomes(stack);
    const jobId = await s3UriJob(object, 'in/duplicated.txt');
    const job = await expectExactInputJob(jobId, object);
    await waitForDrainedQueue(stack);
    const chunkCount = job.progress.chunkCount;
    expect(copies.length).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => outcome === 'STORED')).toHaveLength(chunkCount);
    expect(outcomes.length).toBeGreaterThan(chunkCount);
    for (const outcome of outcomes.filter((value) => value !== 'STORED')) {
      expect(['DUPLICATE', 'JOB_NOT_RUNNING']).toContain(outcome);
    }

    // Range 0 once more, after the job SUCCEEDED: skipped, and the job stays as it ended.
    const ended = await jobItem(stack, jobId);
    const handedOff = outcomes.length;
    const lastBody = bodies.get(0);
    expect(lastBody).toBeDefined();
    late = { body: lastBody ?? '', seen: 0 };
    await stack.sendRawMessage(late.body);
    await waitFor(async () => late?.seen === 1, 20_000, 'the late range to be delivered');
    await waitForDrainedQueue(stack);
    expect(outcomes).toHaveLength(handedOff);
    const after = await jobItem(stack, jobId);
    expect(after?.status).toBe('SUCCEEDED');
    expect(after?.completedAt).toBe(ended?.completedAt);
    expect(after?.numbersCount).toBe(object.values().length);
    const final = await client.status(jobId);
    expect(firstInexact(object.values(), await client.resultsOf(final))).toBe(-1);
    await expectEachRangeOnce(stack, final, {
      sizeBytes: object.bytes,
      countsPerRange: object.countsPerRange(),
    });
    task.meta.reliability = {
      fault: `s3Uri ranges delivered twice concurrently (${copies.length} queue copies + a doubled batch) and once after the end`,
      outcome: `${chunkCount} STORED, ${outcomes.length - chunkCount} dropped; late copy skipped; SUCCEEDED`,
      checked: object.values().length,
    };
  });

  it('fails INVALID_INPUT naming the global lines of bad lines that end ranges, publishing nothing', {
    timeout: 60_000,
  }, async ({ task }) => {
    const R = RANGE_BYTES;
    const object = new LinesObject()
      // "12x" ends on range 0's last byte; its line break is range 1's first.
      .fillTo(R - 3)
      .bad('12x')
      // "1e200\n": its line break is range 1's last byte.
      .fillTo(2 * R - 6)
      .bad('1e200')
      // "--3\r\n": the CR is range 2's last byte, the LF range 3's first.
      .fillTo(3 * R - 4)
      .bad('--3', '\r\n')
      // "1e999" is the object's last byte, with no line break.
      .fillTo(3 * R + 5_000)
      .bad('1e999', '');
    const [first, second, third, fourth] = object.badLineNumbers();
    const body = object.body;
    expect([body[R - 1], body[R], body[2 * R - 1], body[3 * R - 1], body[3 * R]]).toEqual([
      'x',
      '\n',
      '\n',
      '\r',
      '\n',
    ]);
    const jobId = await uploadJob(object);
    const job = await client.waitForJob(jobId, { timeoutMs: 60_000 });
    await waitForDrainedQueue(stack);

    const lineCount = object.lines.length;
    const notALiteral = expect.stringContaining('not a number literal');
    expect(job.status).toBe('FAILED');
    expect(job.failure).toEqual({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(
        `4 of ${lineCount} lines of the input are not numbers (first at line ${first}:`,
      ),
      badLineCount: 4,
      badLines: [
        { line: first, code: 'INVALID_LITERAL', message: notALiteral },
        {
          line: second,
          code: 'SQUARE_OVERFLOWS',
          message: expect.stringContaining('overflows a double'),
        },
        { line: third, code: 'INVALID_LITERAL', message: notALiteral },
        { line: fourth, code: 'NOT_FINITE', message: expect.stringContaining('overflows') },
      ],
    });
    // Every range was read and counted once; the job's count stays 0, and no result is published.
    expect(job.numbersCount).toBe(0);
    expect(job.results).toBeUndefined();
    await expectEachRangeOnce(stack, job, {
      sizeBytes: object.bytes,
      countsPerRange: object.countsPerRange(),
    });
    // The squares its ranges stored (never published) are exact too.
    const stored = (await resultPages(stack, jobId)).flatMap((page) => page.results);
    expect(firstInexact(object.values(), stored)).toBe(-1);
    for (const query of ['', '?partial=true']) {
      const results = await call(stack.apiUrl, 'GET', `/jobs/${jobId}/results${query}`);
      expect(results.status).toBe(409);
      expect(results.body).toMatchObject({ error: { code: 'JOB_NOT_SUCCEEDED' } });
    }
    // Failed once: the failure stays as it was written.
    expect((await jobItem(stack, jobId))?.completedAt).toBe(job.completedAt);
    task.meta.reliability = {
      fault:
        'bad lines in the last byte of ranges (12x; 1e200 LF; --3 CR, LF in the next; 1e999 at the end)',
      outcome: `FAILED INVALID_INPUT at lines ${first}, ${second}, ${third}, ${fourth}; no results`,
      checked: object.values().length,
    };
  });

  it('fails an upload that never completes INPUT_NOT_UPLOADED past its deadline, and refuses a start before the upload', {
    timeout: 60_000,
  }, async ({ task }) => {
    const never = await createUploadJob();
    const late = await createUploadJob();
    const object = new LinesObject().fillTo(RANGE_BYTES + 777);

    // A start before the upload: a clear 404, and the job still waits for its input.
    for (const job of [never, late]) {
      const early = await start(job.jobId);
      expect(early.status).toBe(404);
      expect(early.body).toMatchObject({ error: { code: 'INPUT_NOT_FOUND' } });
      expect((await client.status(job.jobId)).status).toBe('AWAITING_INPUT');
    }
    // Not stuck: uploaded after all, it starts and ends exact.
    await put(late, object);
    const started = await start(late.jobId);
    expect(started.status).toBe(202);
    await expectExactInputJob(late.jobId, object);

    // The other is never uploaded: a sweep before its deadline leaves it waiting...
    expect((await stack.fireSchedule('sweep')).every((outcome) => outcome.ok)).toBe(true);
    expect((await client.status(never.jobId)).status).toBe('AWAITING_INPUT');
    // ...and once the clock passes its deadline (moved into the past), the sweep fails it.
    const deadlineAt = Date.now() - 1_000;
    await documentClient(stack).send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `JOB#${never.jobId}`, sk: 'JOB' },
        UpdateExpression: 'SET deadlineAt = :past',
        ExpressionAttributeValues: { ':past': deadlineAt },
      }),
    );
    expect((await stack.fireSchedule('sweep')).every((outcome) => outcome.ok)).toBe(true);
    const failed = await client.status(never.jobId);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure).toEqual({
      code: 'INPUT_NOT_UPLOADED',
      message: `the job's input was not uploaded and started (POST /jobs/{jobId}/start) by ${new Date(deadlineAt).toISOString()}`,
    });
    expect(failed.numbersCount).toBe(0);
    expect(failed.results).toBeUndefined();
    expect((await jobItem(stack, never.jobId))?.runningPk).toBeUndefined();
    // An upload after the deadline does not revive it; another sweep leaves it as it is.
    await put(never, object);
    const tooLate = await start(never.jobId);
    expect(tooLate.status).toBe(409);
    expect(tooLate.body).toMatchObject({ error: { code: 'JOB_NOT_AWAITING_INPUT' } });
    await stack.fireSchedule('sweep');
    const after = await client.status(never.jobId);
    expect(after.status).toBe('FAILED');
    expect(after.failure).toEqual(failed.failure);
    expect(after.completedAt).toBe(failed.completedAt);
    task.meta.reliability = {
      fault: 'upload never completed; a start before the upload',
      outcome:
        'start -> 404 INPUT_NOT_FOUND (still AWAITING_INPUT); sweeper -> FAILED INPUT_NOT_UPLOADED',
      checked: object.values().length,
    };
  });

  it('starts a multipart upload once its parts are uploaded, even when its first start failed after completing it', {
    timeout: 60_000,
  }, async ({ task }) => {
    // Declared past the multipart threshold; the one part uploaded is also the last.
    const job = await createUploadJob(70 * 1024 ** 2);
    const object = new LinesObject().fillTo(2 * RANGE_BYTES + 4_321);

    // A start before the part is uploaded: S3 refuses the parts, a clear 400, still waiting.
    const early = await start(job.jobId, [{ partNumber: 1, etag: '"not-uploaded"' }]);
    expect(early.status).toBe(400);
    expect(early.body).toMatchObject({
      error: { code: 'INVALID_UPLOAD_PARTS', details: { s3Error: 'InvalidPart' } },
    });
    expect((await client.status(job.jobId)).status).toBe('AWAITING_INPUT');

    // The part uploaded, a start completes the upload but its job write fails on every try.
    const etag = await put(job, object);
    let armed = true;
    stack.injectDynamoDbFault({
      name: 'start write lost',
      functions: ['dispatcher'],
      operations: ['UpdateItem'],
      when: (request) => armed && isStartOf(request, job.jobId),
      fault: 'InternalServerError',
    });
    const failedStart = await start(job.jobId, [{ partNumber: 1, etag }]);
    armed = false;
    expect(failedStart.status).toBe(500);
    expect(stack.dynamoDbFaults.count('start write lost')).toBeGreaterThan(0);
    expect((await client.status(job.jobId)).status).toBe('AWAITING_INPUT');

    // The client retries: the upload is already complete (S3 knows it no more), the object is there.
    const retried = await start(job.jobId, [{ partNumber: 1, etag }]);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({
      status: 'RUNNING',
      chunkCount: 3,
      input: { sizeBytes: object.bytes },
    });
    await expectExactInputJob(job.jobId, object);
    // A start of the ended job is refused, and starts nothing again.
    const again = await start(job.jobId, [{ partNumber: 1, etag }]);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'JOB_NOT_AWAITING_INPUT' } });
    task.meta.reliability = {
      fault: `multipart start before its parts; a start whose job write failed ${stack.dynamoDbFaults.count('start write lost')}x after completing the upload`,
      outcome:
        '400 INVALID_UPLOAD_PARTS (InvalidPart); 500, then the retried start -> 202; SUCCEEDED',
      checked: object.values().length,
    };
  });
});
