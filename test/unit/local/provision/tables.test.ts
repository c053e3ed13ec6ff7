/** The CreateTable request read from a table's CloudFormation properties, field by field. */
import { describe, expect, it } from 'vitest';
import { createTableInput, timeToLiveAttribute } from '#local/provision/tables.ts';

describe('Function: createTableInput', () => {
  const properties = {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'status', AttributeType: 'S' },
    ],
    BillingMode: 'PROVISIONED',
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byStatus',
        KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['createdAt'] },
      },
    ],
  };

  it('returns the keys, attributes and indexes of the template, on demand', () => {
    // Act
    const input = createTableInput('Jobs', properties, 'Table.Properties');

    // Assess
    expect(input).toEqual({
      TableName: 'Jobs',
      KeySchema: properties.KeySchema,
      AttributeDefinitions: properties.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['createdAt'] },
        },
      ],
    });
  });

  it('throws an error naming the field when a key type is not HASH or RANGE', () => {
    // Prepare
    const bad = { ...properties, KeySchema: [{ AttributeName: 'pk', KeyType: 'PRIMARY' }] };

    // Act & Assess
    expect(() => createTableInput('Jobs', bad, 'Table.Properties')).toThrow(
      'Table.Properties.KeySchema[0].KeyType must be HASH or RANGE',
    );
  });

  it('throws an error naming the field when an index has no name', () => {
    // Prepare
    const bad = {
      ...properties,
      GlobalSecondaryIndexes: [{ KeySchema: [], Projection: { ProjectionType: 'ALL' } }],
    };

    // Act & Assess
    expect(() => createTableInput('Jobs', bad, 'Table.Properties')).toThrow(
      'Table.Properties.GlobalSecondaryIndexes[0].IndexName must be a string',
    );
  });

  it('throws an error naming the field when the attribute definitions are missing', () => {
    // Prepare
    const { AttributeDefinitions: _dropped, ...bad } = properties;

    // Act & Assess
    expect(() => createTableInput('Jobs', bad, 'Table.Properties')).toThrow(
      'Table.Properties.AttributeDefinitions must be an array',
    );
  });
});

describe('Function: timeToLiveAttribute', () => {
  it('returns the attribute of an enabled TimeToLiveSpecification', () => {
    expect(
      timeToLiveAttribute(
        { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } },
        'T',
      ),
    ).toBe('expiresAt');
  });

  it('returns undefined without a specification or when it is disabled', () => {
    expect(timeToLiveAttribute({}, 'T')).toBeUndefined();
    expect(
      timeToLiveAttribute({ TimeToLiveSpecification: { AttributeName: 'x', Enabled: false } }, 'T'),
    ).toBeUndefined();
  });

  it('throws an error naming the field when the attribute name is not a string', () => {
    expect(() =>
      timeToLiveAttribute({ TimeToLiveSpecification: { Enabled: true } }, 'Table.Properties'),
    ).toThrow('Table.Properties.TimeToLiveSpecification.AttributeName must be a string');
  });
});
