/** The template's DynamoDB tables (AWS::DynamoDB::Table), created on DynamoDB Local. */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { isJsonObject, type Json } from '../json.ts';
import type { PhysicalResource, TableSpec, TemplateResolver } from '../template.ts';
import { localArn } from './physical.ts';
import type { Provisioner } from './provisioner.ts';

export class TableProvisioner implements Provisioner {
  readonly resourceTypes = ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'] as const;
  readonly #specs: readonly TableSpec[];
  readonly #dynamodb: DynamoDBClient;

  constructor(specs: readonly TableSpec[], dynamodb: DynamoDBClient) {
    this.#specs = specs;
    this.#dynamodb = dynamodb;
  }

  *physicalResources(): Iterable<readonly [string, PhysicalResource]> {
    for (const table of this.#specs) {
      const arn = localArn('dynamodb', `table/${table.name}`);
      yield [
        table.logicalId,
        { ref: table.name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } },
      ];
    }
  }

  async create(resolver: TemplateResolver): Promise<void> {
    const dynamodb = this.#dynamodb;
    await Promise.all(
      this.#specs.map(async (spec) => {
        const props = resolver.resolve(spec.properties);
        if (!isJsonObject(props)) throw new Error(`table ${spec.logicalId} has no properties`);
        const keySchema = props.KeySchema as unknown as KeySchemaElement[];
        const attributeDefinitions = props.AttributeDefinitions as unknown as AttributeDefinition[];
        const indexes = (value: Json | undefined) =>
          Array.isArray(value)
            ? value.filter(isJsonObject).map((index) => ({
                IndexName: index.IndexName as string,
                KeySchema: index.KeySchema as unknown as KeySchemaElement[],
                Projection: index.Projection as unknown as GlobalSecondaryIndex['Projection'],
              }))
            : [];
        const globalIndexes = indexes(props.GlobalSecondaryIndexes);
        const localIndexes = indexes(props.LocalSecondaryIndexes) as LocalSecondaryIndex[];
        const input: CreateTableCommandInput = {
          TableName: spec.name,
          KeySchema: keySchema,
          AttributeDefinitions: attributeDefinitions,
          // The emulator does not meter capacity: on-demand avoids inventing throughput.
          BillingMode: 'PAY_PER_REQUEST',
          ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes } : {}),
          ...(localIndexes.length > 0 ? { LocalSecondaryIndexes: localIndexes } : {}),
        };
        await dynamodb.send(new CreateTableCommand(input));
        const ttl = isJsonObject(props.TimeToLiveSpecification)
          ? props.TimeToLiveSpecification
          : undefined;
        if (ttl !== undefined && ttl.Enabled !== false && typeof ttl.AttributeName === 'string') {
          await dynamodb.send(
            new UpdateTimeToLiveCommand({
              TableName: spec.name,
              TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
            }),
          );
        }
      }),
    );
  }
}
