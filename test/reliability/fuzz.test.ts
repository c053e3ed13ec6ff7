/**
 * Bad input, fuzzed (fast-check): more than 10,000 hostile `POST /jobs` requests (see
 * hostile-bodies.ts), each answered with a 4xx and a JSON error body `{error: {code,
 * message}}`, never a 5xx, a hang or a partial job: the dispatcher makes no DynamoDB request
 * for them, no worker runs, and the table and the work queue stay empty.
 *
 * The split, to make 10,000 cases affordable:
 * - in-process (10,000 random + the limit cases): each request goes through the local REST
 *   API's own request handling (`TestStack.apiRequest`: routing, payload limits, content
 *   decoding and the very proxy event builder the HTTP server uses) to the dispatcher's
 *   bundled handler in its local execution environment, without a socket;
 * - over HTTP (300 random + the gateway's own limits): through the local server, as a client
 *   sends them, then a valid job proves the server is still up and still exact.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayResponse } from '#local/http-api.ts';
import { signedFetch } from '#test/helpers/signed-fetch.ts';
import {
  anyHostileCase,
  CATEGORIES,
  GATEWAY_LIMIT_BYTES,
  gatewayLimitCases,
  type HostileCase,
  limitCases,
  wouldCreateJob,
} from './hostile-bodies.ts';
import {
  allItems,
  clientOf,
  expectExactJob,
  integers,
  reliabilityStack,
  waitForDrainedQueue,
} from './support.ts';

/** fast-check seed: the same 10,000 requests on every run (FUZZ_SEED to explore others). */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
/** Requests in flight at once (the dispatcher gets one execution environment per core). */
const BATCH = 8;
/** A request not answered by then has hung. */
const HANG_MS = 20_000;
const HTTP_CASES = 300;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

function parse(bytes: Buffer | string): unknown {
  try {
    return JSON.parse(bytes.toString());
  } catch {
    return bytes.toString().slice(0, 200);
  }
}

function preview(request: HostileCase): string {
  const text = Buffer.isBuffer(request.body)
    ? `<${request.body.length} bytes>`
    : JSON.stringify(request.body.slice(0, 160));
  return `${request.category}: headers ${JSON.stringify(request.headers).slice(0, 200)}, body ${text}`;
}

async function withinTime<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms: ${what}`)), HANG_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** The answer must be a 4xx carrying `{error: {code, message}}` (and an allowed code). */
function expectClientError(request: HostileCase, answer: Answer): string {
  const context = `${preview(request)} -> ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
  expect(answer.status, context).toBeGreaterThanOrEqual(400);
  expect(answer.status, context).toBeLessThan(500);
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  expect(typeof error?.code, context).toBe('string');
  expect(typeof error?.message, context).toBe('string');
  expect(String(error?.message).length, context).toBeGreaterThan(0);
  if (request.codes !== undefined) expect(request.codes, context).toContain(error?.code);
  return String(error?.code);
}

describe('Feature: hostile request bodies are refused cleanly', () => {
  // The fault proxy (without faults) counts the dispatcher's DynamoDB requests.
  const stack = reliabilityStack({ dynamoDbFaults: true, slowRetries: true });
  let dispatcherRequests = () => 0;
  let workerInvocations = () => 0;
  let dispatcherInvocations = () => 0;
  const codes = new Map<string, number>();

  beforeAll(async () => {
    await stack.start();
    const dispatcher = stack.logicalIdOf('dispatcher');
    dispatcherRequests = () => stack.dynamoDbFaults.requestCount(dispatcher);
    workerInvocations = () => stack.fn('worker').invocations;
    dispatcherInvocations = () => stack.fn('dispatcher').invocations;
  }, 120_000);

  afterAll(async () => {
    await stack.stop();
  });

  function inProcess(request: HostileCase): Promise<Answer> {
    return withinTime(
      stack
        .apiRequest({ method: 'POST', path: '/jobs', headers: request.headers, body: request.body })
        .then((response: GatewayResponse) => ({
          status: response.statusCode,
          body: parse(response.body),
        })),
      preview(request),
    );
  }

  async function overHttp(request: HostileCase): Promise<Answer> {
    const response = await withinTime(
      signedFetch(`${stack.apiUrl}/jobs`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      }),
      preview(request),
    );
    return { status: response.status, body: parse(Buffer.from(await response.arrayBuffer())) };
  }

  /** Sends a batch at once; every answer is a clean 4xx and nothing was written or queued. */
  async function refuseBatch(
    requests: readonly HostileCase[],
    send: (request: HostileCase) => Promise<Answer>,
  ): Promise<void> {
    const requestsBefore = dispatcherRequests();
    const workersBefore = workerInvocations();
    const handledBefore = dispatcherInvocations();
    const answers = await Promise.all(requests.map((request) => send(request)));
    // Each request reached the dispatcher's handler (none was answered on the way).
    expect(dispatcherInvocations() - handledBefore).toBe(requests.length);
    for (const [index, answer] of answers.entries()) {
      const request = requests[index] as HostileCase;
      expect(
        wouldCreateJob(request),
        `the generator made a valid request: ${preview(request)}`,
      ).toBe(false);
      const code = expectClientError(request, answer);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(dispatcherRequests(), 'the dispatcher touched DynamoDB for refused requests').toBe(
      requestsBefore,
    );
    expect(workerInvocations(), 'a worker ran for refused requests').toBe(workersBefore);
  }

  async function expectNothingStored(): Promise<void> {
    expect(await allItems(stack)).toEqual([]);
    expect(await stack.queueDepth(stack.workQueue)).toEqual({ visible: 0, inFlight: 0 });
  }

  it('refuses 10,000 generated hostile bodies in-process with a 4xx JSON error', {
    timeout: 240_000,
  }, async ({ task }) => {
    let total = 0;
    for (const [index, category] of CATEGORIES.entries()) {
      const details = await fc.check(
        fc.asyncProperty(
          fc.array(category.arbitrary, { minLength: BATCH, maxLength: BATCH }),
          (batch) => refuseBatch(batch, inProcess),
        ),
        { numRuns: Math.ceil(category.runs / BATCH), seed: SEED + index, endOnFailure: true },
      );
      if (details.failed) {
        // fast-check's own report prints whole bodies (megabytes): name the case instead.
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : '';
        throw new Error(
          `${category.name}: failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}): ${cause.slice(0, 2_000)}`,
        );
      }
      total += Math.ceil(category.runs / BATCH) * BATCH;
      await expectNothingStored();
    }
    expect(total).toBeGreaterThanOrEqual(10_000);
    task.meta.reliability = {
      fault: `fuzzed hostile bodies, in-process (${CATEGORIES.length} categories, seed ${SEED})`,
      outcome: `all 4xx {error:{code,message}} (${codes.size} codes); 0 writes, 0 messages`,
      checked: total,
      unit: 'requests',
    };
  });

  it('refuses bodies at and past every limit with the limit named', {
    timeout: 120_000,
  }, async ({ task }) => {
    const cases = limitCases();
    for (const request of cases) await refuseBatch([request], inProcess);
    await expectNothingStored();
    task.meta.reliability = {
      fault: 'bodies at and past each limit (count, digits, bytes, gzip, nesting, key)',
      outcome: 'each 4xx with the limit code; nothing stored',
      checked: cases.length,
      unit: 'requests',
    };
  });

  it('keeps the local HTTP server up through hostile requests, then runs a job exactly', {
    timeout: 120_000,
  }, async ({ task }) => {
    // fetch sends header values as bytes: only cases whose headers HTTP can carry.
    const sendable = anyHostileCase.filter((request) =>
      Object.values(request.headers).every((value) =>
        /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value),
      ),
    );
    const requests = fc.sample(sendable, { numRuns: HTTP_CASES, seed: SEED - 1 });
    for (let start = 0; start < requests.length; start += BATCH) {
      await refuseBatch(requests.slice(start, start + BATCH), overHttp);
    }
    // What the gateway refuses by itself answers in API Gateway's own JSON shape.
    const gatewayCases = gatewayLimitCases();
    for (const request of gatewayCases) {
      const answer = await overHttp(request);
      const context = `${preview(request)} -> ${answer.status} ${JSON.stringify(answer.body)}`;
      expect([413, 415], context).toContain(answer.status);
      expect(typeof (answer.body as { message?: unknown }).message, context).toBe('string');
      expect(
        Buffer.byteLength(request.body) > GATEWAY_LIMIT_BYTES || answer.status === 415,
        context,
      ).toBe(true);
    }
    // A method the API lacks, behind IAM auth: API Gateway's 403, whatever the signature.
    const wrongMethod = await signedFetch(`${stack.apiUrl}/jobs`, { method: 'PUT', body: '{}' });
    expect(wrongMethod.status).toBe(403);
    expect(await wrongMethod.json()).toEqual({ message: 'Missing Authentication Token' });
    await expectNothingStored();

    // The server is up and still exact.
    const client = clientOf(stack);
    const numbers = integers(1_000, -3);
    const job = await client.submit(numbers);
    await expectExactJob(stack, client, job.jobId, numbers);
    await waitForDrainedQueue(stack);
    task.meta.reliability = {
      fault: `hostile requests over HTTP (${requests.length} fuzzed + ${gatewayCases.length} past the gateway limits)`,
      outcome: 'all 4xx JSON; server up; a valid job then SUCCEEDED exactly',
      checked: requests.length + gatewayCases.length,
      unit: 'requests',
    };
  });
});
