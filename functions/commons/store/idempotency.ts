/**
 * The persistence of `POST /jobs` idempotency records (Powertools idempotency) in the job
 * table: `pk = IDEMPOTENCY#submit#<hash>`, `sk = IDEMPOTENCY`, expiring through `expiresAt`.
 *
 * Each record has its own partition key. Powertools' DynamoDB layer, given a sort key
 * attribute, puts every record under one fixed partition value (`staticPkValue`), which
 * caps keyed submissions at one partition's 1,000 writes a second; so this layer overrides
 * the key it builds, keeping the hash in the partition key and a constant sort key.
 * @see https://docs.aws.amazon.com/powertools/typescript/latest/features/idempotency/#dynamodbpersistencelayer
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { idempotencyKey, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './keys.ts';

export { IDEMPOTENCY_KEY_PREFIX } from './keys.ts';

class SpreadKeyPersistenceLayer extends DynamoDBPersistenceLayer {
  protected override getKey(key: string): Record<string, AttributeValue> {
    const { pk, sk } = idempotencyKey(key);
    return { [PARTITION_KEY]: { S: pk }, [SORT_KEY]: { S: sk } };
  }
}

/** The persistence layer of the submit records, over the job table. */
export function createIdempotencyStore(options: {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}): DynamoDBPersistenceLayer {
  return new SpreadKeyPersistenceLayer({
    tableName: options.tableName,
    keyAttr: PARTITION_KEY,
    expiryAttr: TTL_ATTRIBUTE,
    awsSdkV3Client: options.client,
  });
}
