import { describe, expect, it } from 'vitest';
import {
  getIntegerFromEnv,
  getOptionalIntegerFromEnv,
  getStringFromEnv,
  loadAdminPrincipals,
  loadAggregatorConfig,
  loadDispatcherConfig,
  loadDlqConsumerConfig,
  loadInputBucketsConfig,
  loadS3ClientConfig,
  loadStatusConfig,
  loadSweeperConfig,
  loadWorkerConfig,
  MAX_POOL_SIZE,
} from '#commons/config.ts';
import { S3_ENDPOINT_URL_ENV } from '#commons/env.ts';
import { ConfigurationError } from '#commons/errors.ts';

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

  it('applies the documented defaults for the chunk size, retention, deadline and key expiry', () => {
    expect(loadDispatcherConfig(env)).toEqual({
      tableName: 'jobs',
      workQueueUrl: 'http://127.0.0.1:9324/000/work',
      numbersPerChunk: 10_000,
      jobRetentionDays: 7,
      jobDeadlineSeconds: 3_600,
      idempotencyExpirySeconds: 3_600,
      admins: new Set(),
    });
  });

  it('reads the deadline and the idempotency expiry when set', () => {
    const config = loadDispatcherConfig({
      ...env,
      JOB_DEADLINE_SECONDS: '600',
      IDEMPOTENCY_EXPIRY_SECONDS: '86400',
    });
    expect(config.jobDeadlineSeconds).toBe(600);
    expect(config.idempotencyExpirySeconds).toBe(86_400);
  });

  it.each([
    ['JOB_DEADLINE_SECONDS', '59', 'from 60 to 86400'],
    ['JOB_DEADLINE_SECONDS', '86401', 'from 60 to 86400'],
    ['IDEMPOTENCY_EXPIRY_SECONDS', '30', 'from 60 to 604800'],
  ])('rejects %s=%s with a sentence naming it', (name, raw, range) => {
    expect(() => loadDispatcherConfig({ ...env, [name]: raw })).toThrow(
      `${name} environment variable must be an integer ${range}, got "${raw}"`,
    );
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
  it('reads the aggregator name and table, and leaves optional values undefined', () => {
    expect(loadWorkerConfig({ AGGREGATOR_FUNCTION_NAME: 'agg', TABLE_NAME: 't' })).toEqual({
      aggregatorFunctionName: 'agg',
      tableName: 't',
      poolSize: undefined,
      memoryMb: undefined,
    });
    expect(
      loadWorkerConfig({
        AGGREGATOR_FUNCTION_NAME: 'agg',
        TABLE_NAME: 't',
        POOL_SIZE: '6',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538',
      }),
    ).toEqual({ aggregatorFunctionName: 'agg', tableName: 't', poolSize: 6, memoryMb: 3538 });
  });

  it('rejects a POOL_SIZE above MAX_POOL_SIZE, the bound the pool has too', () => {
    expect(() =>
      loadWorkerConfig({
        AGGREGATOR_FUNCTION_NAME: 'agg',
        TABLE_NAME: 't',
        POOL_SIZE: String(MAX_POOL_SIZE + 1),
      }),
    ).toThrow(
      `POOL_SIZE environment variable must be an integer from 1 to ${MAX_POOL_SIZE}, got "65"`,
    );
  });

  it('names the missing aggregator function', () => {
    expect(() => loadWorkerConfig({})).toThrow(
      'AGGREGATOR_FUNCTION_NAME environment variable is not set',
    );
  });

  it('names the missing table: the worker checks and records on the job', () => {
    expect(() => loadWorkerConfig({ AGGREGATOR_FUNCTION_NAME: 'agg' })).toThrow(
      'TABLE_NAME environment variable is not set',
    );
  });
});

describe('Function: loadStatusConfig, loadAggregatorConfig, loadDlqConsumerConfig and loadSweeperConfig', () => {
  it('read the table name', () => {
    expect(loadStatusConfig({ TABLE_NAME: 'a' })).toEqual({ tableName: 'a', admins: new Set() });
    expect(loadAggregatorConfig({ TABLE_NAME: 'b' })).toEqual({ tableName: 'b' });
    expect(loadDlqConsumerConfig({ TABLE_NAME: 'c' })).toEqual({ tableName: 'c' });
    expect(loadSweeperConfig({ TABLE_NAME: 'd' })).toEqual({ tableName: 'd' });
    expect(() => loadAggregatorConfig({})).toThrow('TABLE_NAME environment variable is not set');
    expect(() => loadDlqConsumerConfig({})).toThrow('TABLE_NAME environment variable is not set');
    expect(() => loadSweeperConfig({})).toThrow('TABLE_NAME environment variable is not set');
  });
});

describe('Function: loadAdminPrincipals', () => {
  it('reads the operators, an assumed-role session normalised to its role', () => {
    // Act
    const admins = loadAdminPrincipals({
      ADMIN_PRINCIPAL_ARNS:
        'arn:aws:iam::123456789012:role/ops, arn:aws:sts::123456789012:assumed-role/ops/alice,arn:aws:iam::123456789012:user/bob',
    });

    // Assess
    expect([...admins]).toEqual([
      'arn:aws:iam::123456789012:role/ops',
      'arn:aws:iam::123456789012:user/bob',
    ]);
  });

  it('throws naming the variable and the entry that is not a principal ARN', () => {
    expect(() => loadAdminPrincipals({ ADMIN_PRINCIPAL_ARNS: 'arn:aws:s3:::bucket' })).toThrow(
      'ADMIN_PRINCIPAL_ARNS environment variable: "arn:aws:s3:::bucket" is not an IAM principal ARN',
    );
  });
});

describe('Function: loadInputBucketsConfig', () => {
  it('reads the input bucket and the names of the allowed buckets', () => {
    // Act
    const config = loadInputBucketsConfig({
      INPUT_BUCKET_NAME: 'fanout-inputbucket-abc',
      ALLOWED_INPUT_BUCKET_ARNS: 'arn:aws:s3:::lab-inputs,arn:aws:s3:::archive.example',
    });

    // Assess
    expect(config).toEqual({
      inputBucketName: 'fanout-inputbucket-abc',
      allowedBucketNames: ['lab-inputs', 'archive.example'],
    });
  });

  it('allows no other bucket when ALLOWED_INPUT_BUCKET_ARNS is empty or unset', () => {
    expect(
      loadInputBucketsConfig({ INPUT_BUCKET_NAME: 'b', ALLOWED_INPUT_BUCKET_ARNS: '' })
        .allowedBucketNames,
    ).toEqual([]);
    expect(loadInputBucketsConfig({ INPUT_BUCKET_NAME: 'b' }).allowedBucketNames).toEqual([]);
  });

  it('throws naming the variable when the input bucket is not set', () => {
    expect(() => loadInputBucketsConfig({})).toThrow(
      new ConfigurationError('INPUT_BUCKET_NAME environment variable is not set'),
    );
  });

  it('throws naming the variable and the bad entry of the allowed list', () => {
    expect(() =>
      loadInputBucketsConfig({ INPUT_BUCKET_NAME: 'b', ALLOWED_INPUT_BUCKET_ARNS: 's3://lab' }),
    ).toThrow(
      new ConfigurationError(
        'ALLOWED_INPUT_BUCKET_ARNS environment variable: "s3://lab" is not an S3 bucket ARN such as arn:aws:s3:::my-bucket (no key, no wildcard)',
      ),
    );
  });
});

describe('Function: loadS3ClientConfig', () => {
  it('reads the S3 endpoint from the SDK standard variable, trimmed', () => {
    // Act
    const config = loadS3ClientConfig({ AWS_ENDPOINT_URL_S3: ' http://127.0.0.1:4566 ' });

    // Assess
    expect(S3_ENDPOINT_URL_ENV).toBe('AWS_ENDPOINT_URL_S3');
    expect(config).toEqual({ endpointUrl: 'http://127.0.0.1:4566' });
  });

  it.each([[{}], [{ AWS_ENDPOINT_URL_S3: '' }], [{ AWS_ENDPOINT_URL_S3: '  ' }]])(
    "leaves the endpoint undefined, AWS's own, when the variable is unset or empty (%o)",
    (env) => {
      expect(loadS3ClientConfig(env)).toEqual({ endpointUrl: undefined });
    },
  );

  it.each(['127.0.0.1:4566', 'localhost:4566', 'ftp://127.0.0.1/', 'not a url'])(
    'throws naming the variable and the value "%s", which is not an http or https URL',
    (raw) => {
      expect(() => loadS3ClientConfig({ AWS_ENDPOINT_URL_S3: raw })).toThrow(
        new ConfigurationError(
          `AWS_ENDPOINT_URL_S3 environment variable must be an http or https URL, got "${raw}"`,
        ),
      );
    },
  );
});
