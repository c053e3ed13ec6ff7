/** The template's DynamoDB tables (AWS::DynamoDB::Table), created on DynamoDB Local. */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  isJsonObject,
  type Json,
  type JsonObject,
  optionalObject,
  parseArray,
  parseObject,
  parseOneOf,
  parseString,
} from '../json.ts';
import type { PhysicalResource, TableSpec, TemplateResolver } from '../template.ts';
import { localArn } from './physical.ts';
import type { Provisioner } from './provisioner.ts';

interface TableIndex {
  readonly IndexName: string;
  readonly KeySchema: KeySchemaElement[];
  readonly Projection: Projection;
}

function parseKeySchema(value: Json | undefined, where: string): KeySchemaElement[] {
  return parseArray(value, where).map((item, index) => {
    const element = parseObject(item, `${where}[${index}]`);
    return {
      AttributeName: parseString(element.AttributeName, `${where}[${index}].AttributeName`),
      KeyType: parseOneOf(element.KeyType, ['HASH', 'RANGE'], `${where}[${index}].KeyType`),
    };
  });
}

function parseAttributeDefinitions(value: Json | undefined, where: string): AttributeDefinition[] {
  return parseArray(value, where).map((item, index) => {
    const definition = parseObject(item, `${where}[${index}]`);
    return {
      AttributeName: parseString(definition.AttributeName, `${where}[${index}].AttributeName`),
      AttributeType: parseOneOf(
        definition.AttributeType,
        ['S', 'N', 'B'],
        `${where}[${index}].AttributeType`,
      ),
    };
  });
}

function parseProjection(value: Json | undefined, where: string): Projection {
  const projection = parseObject(value, where);
  const parsed: Projection = {};
  if (projection.ProjectionType !== undefined) {
    parsed.ProjectionType = parseOneOf(
      projection.ProjectionType,
      ['ALL', 'KEYS_ONLY', 'INCLUDE'],
      `${where}.ProjectionType`,
    );
  }
  if (projection.NonKeyAttributes !== undefined) {
    parsed.NonKeyAttributes = parseArray(
      projection.NonKeyAttributes,
      `${where}.NonKeyAttributes`,
    ).map((name, index) => parseString(name, `${where}.NonKeyAttributes[${index}]`));
  }
  return parsed;
}

function parseIndexes(value: Json | undefined, where: string): TableIndex[] {
  if (value === undefined) return [];
  return parseArray(value, where).map((item, position) => {
    const index = parseObject(item, `${where}[${position}]`);
    return {
      IndexName: parseString(index.IndexName, `${where}[${position}].IndexName`),
      KeySchema: parseKeySchema(index.KeySchema, `${where}[${position}].KeySchema`),
      Projection: parseProjection(index.Projection, `${where}[${position}].Projection`),
    };
  });
}

/**
 * The CreateTable request of a table's resolved CloudFormation properties: keys, attribute
 * definitions and indexes as the template declares them, on-demand (the emulator does not
 * meter capacity, so none is invented). An error names the first bad field.
 */
export function createTableInput(
  tableName: string,
  properties: JsonObject,
  where: string,
): CreateTableCommandInput {
  const globalIndexes = parseIndexes(
    properties.GlobalSecondaryIndexes,
    `${where}.GlobalSecondaryIndexes`,
  );
  const localIndexes = parseIndexes(
    properties.LocalSecondaryIndexes,
    `${where}.LocalSecondaryIndexes`,
  );
  return {
    TableName: tableName,
    KeySchema: parseKeySchema(properties.KeySchema, `${where}.KeySchema`),
    AttributeDefinitions: parseAttributeDefinitions(
      properties.AttributeDefinitions,
      `${where}.AttributeDefinitions`,
    ),
    BillingMode: 'PAY_PER_REQUEST',
    ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes } : {}),
    ...(localIndexes.length > 0 ? { LocalSecondaryIndexes: localIndexes } : {}),
  };
}

/** The attribute that TimeToLiveSpecification enables, or undefined without one. */
export function timeToLiveAttribute(properties: JsonObject, where: string): string | undefined {
  const ttl = optionalObject(
    properties.TimeToLiveSpecification,
    `${where}.TimeToLiveSpecification`,
  );
  if (ttl === undefined || ttl.Enabled === false) return undefined;
  return parseString(ttl.AttributeName, `${where}.TimeToLiveSpecification.AttributeName`);
}

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
        const where = `${spec.logicalId}.Properties`;
        await dynamodb.send(new CreateTableCommand(createTableInput(spec.name, props, where)));
        const ttlAttribute = timeToLiveAttribute(props, where);
        if (ttlAttribute !== undefined) {
          await dynamodb.send(
            new UpdateTimeToLiveCommand({
              TableName: spec.name,
              TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
            }),
          );
        }
      }),
    );
  }
}
