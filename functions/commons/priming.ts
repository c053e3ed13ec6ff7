/**
 * Priming SDK clients in an environment's init. An SDK client's first request pays for more
 * than the request: its code is compiled on first use, its endpoint and credentials are
 * resolved, its connection is opened. Measured in the local stack, the dispatcher's first
 * PutItem took 181 ms, and 44 ms after one read at init.
 *
 * An environment of provisioned concurrency runs its init before any request reaches it, so
 * that cost can be paid there; the handler modules do it with a top-level await, since an
 * init that returns with work pending is frozen until the first request. An on-demand
 * environment is not primed: its init is on its first request's path anyway.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { loggableError } from './errors.ts';
import { logger } from './powertools.ts';
import { PRIMING_KEY } from './store/keys.ts';
import type { JobTable } from './store/table.ts';

/** The longest a priming request may take: it must never hold an init for long. */
export const PRIMING_TIMEOUT_MS = 2_000;

/** One client's first request: it may fail, which only means that client is not primed. */
export type Prime = (signal: AbortSignal) => Promise<unknown>;

/** The table client's first request: a read of a key that holds nothing. */
export function primeTable(table: JobTable): Prime {
  return (abortSignal) =>
    table.client.send(new GetCommand({ TableName: table.tableName, Key: PRIMING_KEY }), {
      abortSignal,
    });
}

/**
 * The Lambda client's first Invoke, as a dry run: Lambda checks the call and runs nothing.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestSyntax
 */
export function primeInvoke(lambda: LambdaClient, functionName: string): Prime {
  return (abortSignal) =>
    lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'DryRun' }), {
      abortSignal,
    });
}

/**
 * Makes each client's first request, all at once, when `prime` (loadPrimingConfig); a
 * failure is logged and the init goes on.
 */
export async function primeClients(
  prime: boolean,
  primes: readonly Prime[],
  timeoutMs: number = PRIMING_TIMEOUT_MS,
): Promise<void> {
  if (!prime) return;
  await Promise.all(
    primes.map(async (first) => {
      try {
        await first(AbortSignal.timeout(timeoutMs));
      } catch (error) {
        logger.warn('a client could not be primed', { error: loggableError(error) });
      }
    }),
  );
}
