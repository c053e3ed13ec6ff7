/**
 * The errors DynamoDB answers when a limit is hit, as their JSON bodies on the wire, so that
 * the SDK's own error handling (and retry) sees what it sees in AWS:
 * - ProvisionedThroughputExceededException (400, retried by the SDK) with `ThrottlingReasons`
 *   such as TableWriteKeyRangeThroughputExceeded and the table or index ARN;
 * - TransactionCanceledException (400, not retried) with one cancellation reason per action:
 *   `ThrottlingError`, `TransactionConflict`, or `None` for the actions not at fault;
 * - TransactionConflictException (400) for a plain write on an item inside a transaction.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ThrottlingReason.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#API_TransactWriteItems_Errors
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
import type { UnitKind } from './throughput.ts';

const PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/** DynamoDB's message for on-demand (key range) throttling. */
export const THROTTLED_MESSAGE =
  'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html';

export interface DynamoDbErrorAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Where a request was throttled: a table or one of its indexes, reading or writing. */
export interface ThrottledResource {
  readonly tableArn: string;
  readonly index?: string | undefined;
  readonly kind: UnitKind;
}

/** e.g. `TableWriteKeyRangeThroughputExceeded`, `IndexReadKeyRangeThroughputExceeded`. */
export function throttlingReason(resource: ThrottledResource): {
  reason: string;
  resource: string;
} {
  const type = resource.index === undefined ? 'Table' : 'Index';
  const operation = resource.kind === 'write' ? 'Write' : 'Read';
  return {
    reason: `${type}${operation}KeyRangeThroughputExceeded`,
    resource:
      resource.index === undefined
        ? resource.tableArn
        : `${resource.tableArn}/index/${resource.index}`,
  };
}

export function throughputExceeded(resources: readonly ThrottledResource[]): DynamoDbErrorAnswer {
  const reasons = new Map<string, { reason: string; resource: string }>();
  for (const resource of resources) {
    const reason = throttlingReason(resource);
    reasons.set(`${reason.reason} ${reason.resource}`, reason);
  }
  return {
    status: 400,
    type: 'ProvisionedThroughputExceededException',
    body: {
      __type: `${PREFIX}ProvisionedThroughputExceededException`,
      message: THROTTLED_MESSAGE,
      ThrottlingReasons: [...reasons.values()],
    },
  };
}

export type CancellationCode = 'None' | 'ThrottlingError' | 'TransactionConflict';

const REASON_MESSAGES: Readonly<Record<CancellationCode, string | undefined>> = {
  None: undefined,
  ThrottlingError: THROTTLED_MESSAGE,
  TransactionConflict: 'Transaction is ongoing for the item',
};

/** A cancelled transaction: one reason per action, in the order of TransactItems. */
export function transactionCanceled(codes: readonly CancellationCode[]): DynamoDbErrorAnswer {
  return {
    status: 400,
    type: 'TransactionCanceledException',
    body: {
      __type: `${PREFIX}TransactionCanceledException`,
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
      CancellationReasons: codes.map((code) => {
        const message = REASON_MESSAGES[code];
        return message === undefined ? { Code: code } : { Code: code, Message: message };
      }),
    },
  };
}

export function transactionConflict(): DynamoDbErrorAnswer {
  return {
    status: 400,
    type: 'TransactionConflictException',
    body: {
      __type: `${PREFIX}TransactionConflictException`,
      message: 'Transaction is ongoing for the item',
    },
  };
}
