import { describe, expect, it } from 'vitest';
import {
  getIntegerFromEnv,
  getOptionalIntegerFromEnv,
  getStringFromEnv,
  loadAggregatorConfig,
  loadDispatcherConfig,
  loadStatusConfig,
  loadWorkerConfig,
} from '../../../functions/commons/config.ts';
import { ConfigurationError } from '../../../functions/commons/errors.ts';

describe('Function: getStringFromEnv', () => {
  it('returns the trimmed value when the variable is set', () => {
    expect(getStringFromEnv('TABLE_NAME', { TABLE_NAME: ' jobs ' })).toBe('jobs');
  });

  it.each([[{}], [{ TABLE_NAME: '' }], [{ TABLE_NAME: '   ' }]])(
    'throws a ConfigurationError naming the variable when it is unset or empty (%o)',
    (env) => {
      expect(() => getStringFromEnv('TABLE_NAME', env)).toThrow(ConfigurationError);
      expect(() => getStringFromEnv('TABLE_NAME', env)).toThrow(
        'TABLE_NAME environment variable is not set',
      );
    },
  );
});

describe('Function: getIntegerFromEnv', () => {
  it('returns the integer when it is within range', () => {
    expect(getIntegerFromEnv('N', { min: 1, max: 10 }, { N: '10' })).toBe(10);
    expect(getIntegerFromEnv('N', { min: 1, max: 10 }, { N: '+1' })).toBe(1);
  });

  it.each(['0', '11', '1.5', '1e1', 'ten', '0x5', '99999999999999999999'])(
    'throws a sentence naming the variable, range and value for "%s"',
    (raw) => {
      expect(() => getIntegerFromEnv('N', { min: 1, max: 10 }, { N: raw })).toThrow(
        `N environment variable must be an integer from 1 to 10, got "${raw}"`,
      );
    },
  );

  it('returns undefined for an unset optional integer', () => {
    expect(getOptionalIntegerFromEnv('N', { min: 1, max: 10 }, {})).toBeUndefined();
  });
});

describe('Function: loadDispatcherConfig', () => {
  const env = { TABLE_NAME: 'jobs', WORK_QUEUE_URL: 'http://127.0.0.1:9324/000/work' };

  it('applies the documented defaults for the chunk size and the retention', () => {
    expect(loadDispatcherConfig(env)).toEqual({
      tableName: 'jobs',
      workQueueUrl: 'http://127.0.0.1:9324/000/work',
      numbersPerChunk: 10_000,
      jobRetentionDays: 7,
    });
  });

  it('reads the chunk size and the retention when set', () => {
    const config = loadDispatcherConfig({
      ...env,
      NUMBERS_PER_CHUNK: '500',
      JOB_RETENTION_DAYS: '30',
    });
    expect(config.numbersPerChunk).toBe(500);
    expect(config.jobRetentionDays).toBe(30);
  });

  it('rejects a chunk size over the maximum', () => {
    expect(() => loadDispatcherConfig({ ...env, NUMBERS_PER_CHUNK: '10001' })).toThrow(
      'NUMBERS_PER_CHUNK environment variable must be an integer from 1 to 10000, got "10001"',
    );
  });

  it('names the missing queue URL', () => {
    expect(() => loadDispatcherConfig({ TABLE_NAME: 'jobs' })).toThrow(
      'WORK_QUEUE_URL environment variable is not set',
    );
  });
});

describe('Function: loadWorkerConfig', () => {
  it('reads the aggregator name and leaves optional values undefined', () => {
    expect(loadWorkerConfig({ AGGREGATOR_FUNCTION_NAME: 'agg' })).toEqual({
      aggregatorFunctionName: 'agg',
      tableName: undefined,
      poolSize: undefined,
    });
    expect(
      loadWorkerConfig({ AGGREGATOR_FUNCTION_NAME: 'agg', TABLE_NAME: 't', POOL_SIZE: '6' }),
    ).toEqual({ aggregatorFunctionName: 'agg', tableName: 't', poolSize: 6 });
  });

  it('names the missing aggregator function', () => {
    expect(() => loadWorkerConfig({})).toThrow(
      'AGGREGATOR_FUNCTION_NAME environment variable is not set',
    );
  });
});

describe('Function: loadStatusConfig and loadAggregatorConfig', () => {
  it('read the table name', () => {
    expect(loadStatusConfig({ TABLE_NAME: 'a' })).toEqual({ tableName: 'a' });
    expect(loadAggregatorConfig({ TABLE_NAME: 'b' })).toEqual({ tableName: 'b' });
    expect(() => loadAggregatorConfig({})).toThrow('TABLE_NAME environment variable is not set');
  });
});
