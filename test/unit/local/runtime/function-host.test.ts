/**
 * A local function's execution environments: how many warm() starts, and crashing the one
 * that runs an invocation.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LAMBDA_INITIALIZATION_TYPE_ENV } from '#commons/env.ts';
import { LocalFunction } from '#local/runtime/function-host.ts';

const HANDLER = fileURLToPath(
  new URL('../../../fixtures/local/waiting-handler.ts', import.meta.url),
);

function waitingFunction(): LocalFunction {
  return new LocalFunction({
    name: 'Waiting',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:Waiting',
    file: HANDLER,
    exportName: 'handler',
    timeoutSeconds: 30,
    memorySizeMb: 256,
    environment: {},
    maxEnvironments: 2,
    logSink: undefined,
    enforceMemoryLimit: false,
  });
}

describe('Class: LocalFunction', () => {
  let fn: LocalFunction | undefined;

  afterEach(async () => {
    await fn?.stop();
    fn = undefined;
  });

  describe('Method: warm', () => {
    it('starts one environment by default', async () => {
      // Prepare
      const local = waitingFunction();
      fn = local;

      // Act
      await local.warm();
      await local.warm();

      // Assess
      expect(local.coldStarts).toBe(1);
    });

    it('starts environments up to the count asked, at most maxEnvironments, which invocations then reuse', async () => {
      // Prepare
      const local = waitingFunction();
      fn = local;

      // Act
      await local.warm(Number.POSITIVE_INFINITY);
      const outcomes = await Promise.all(
        ['a', 'b'].map((value) => local.invoke(JSON.stringify({ value, waitMs: 50 }), value)),
      );

      // Assess: maxEnvironments is 2, and both invocations ran at once on the warm ones.
      expect(outcomes).toMatchObject([
        { ok: true, payload: '{"value":"a"}' },
        { ok: true, payload: '{"value":"b"}' },
      ]);
      expect(local.coldStarts).toBe(2);
    });
  });

  describe('Feature: how an environment was initialized', () => {
    it('tells environments warmed as provisioned concurrency so, and the others on-demand', async () => {
      // Prepare
      const local = waitingFunction();
      fn = local;
      const initialization = JSON.stringify({ env: LAMBDA_INITIALIZATION_TYPE_ENV, waitMs: 100 });

      // Act: one environment warmed as provisioned, the second started by an invocation.
      await local.warm(1, 'provisioned-concurrency');
      const outcomes = await Promise.all([
        local.invoke(initialization, 'first'),
        local.invoke(initialization, 'second'),
      ]);

      // Assess
      const types = outcomes.map((outcome) =>
        outcome.ok ? (JSON.parse(outcome.payload) as { env: string }).env : outcome.error,
      );
      expect(types.sort()).toEqual(['on-demand', 'provisioned-concurrency']);
      expect(local.coldStarts).toBe(2);
    });
  });

  describe('Method: crash', () => {
    it('fails the invocation it names with Runtime.ExitError and serves the next on a fresh environment', async () => {
      // Prepare
      const local = waitingFunction();
      fn = local;
      // Two environments started and ready (two invocations at once), then one invocation each.
      await Promise.all(['w1', 'w2'].map((id) => local.invoke('{"waitMs": 20}', id)));
      const other = local.invoke(JSON.stringify({ value: 'other', waitMs: 300 }), 'other');
      const crashed = local.invoke(JSON.stringify({ value: 'lost', waitMs: 10_000 }), 'victim');
      await new Promise((resolve) => setImmediate(resolve));

      // Act
      const found = local.crash('victim');

      // Assess
      expect(found).toBe(true);
      expect(await crashed).toEqual({
        ok: false,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: 'RequestId: victim Error: Runtime exited with error: signal: killed',
          trace: [],
        },
      });
      expect(await other).toMatchObject({ ok: true, payload: '{"value":"other"}' });
      // Two at once: the surviving environment serves one, a fresh one the other.
      const next = await Promise.all(
        ['a', 'b'].map((value) => local.invoke(JSON.stringify({ value, waitMs: 50 }), value)),
      );
      expect(next).toMatchObject([
        { ok: true, payload: '{"value":"a"}' },
        { ok: true, payload: '{"value":"b"}' },
      ]);
      expect(local.coldStarts).toBe(3);
    });

    it('returns false when no environment runs the invocation', async () => {
      // Prepare
      const local = waitingFunction();
      fn = local;
      await local.invoke(JSON.stringify({ value: 1 }), 'done');

      // Act
      const found = local.crash('done');

      // Assess
      expect(found).toBe(false);
      expect(await local.invoke(JSON.stringify({ value: 2 }), 'again')).toMatchObject({
        ok: true,
        payload: '{"value":2}',
      });
      expect(local.coldStarts).toBe(1);
    });
  });
});
