import { describe, expect, it } from 'vitest';
import { MAX_POOL_SIZE } from '#commons/config.ts';
import { resolvePoolOptions } from '#pool/options.ts';
import { ProcessPool } from '#pool/pool.ts';

describe('Function: resolvePoolOptions', () => {
  it('fills in the defaults when no option is given', () => {
    const options = resolvePoolOptions({ size: 2 });

    expect(options).toMatchObject({
      size: 2,
      maxQueue: 256,
      taskTimeoutMs: 60_000,
      startTimeoutMs: 10_000,
      maxStartFailures: 3,
      destroyTimeoutMs: 1_000,
      execArgv: [],
    });
    expect(String(options.childScript)).toMatch(/functions\/worker\/pool\/child\.ts$/);
    expect(options.estimateCost([1, 2, 3], 0, 3)).toBe(3);
  });

  it('throws a TypeError when options is not an object', () => {
    expect(() => resolvePoolOptions(3)).toThrow(
      new TypeError('options must be an object, got number'),
    );
  });

  it('throws a TypeError when an option is unknown', () => {
    expect(() => resolvePoolOptions({ maxThreads: 2 })).toThrow(
      new TypeError('options.maxThreads is not a pool option'),
    );
  });

  const integerOptions = [
    'size',
    'maxQueue',
    'taskTimeoutMs',
    'startTimeoutMs',
    'maxStartFailures',
    'destroyTimeoutMs',
  ];

  it.each(integerOptions)('throws a TypeError when options.%s is not a number', (name) => {
    expect(() => resolvePoolOptions({ [name]: '2' })).toThrow(
      new TypeError(`options.${name} must be a number, got string`),
    );
  });

  it.each(integerOptions)(
    'throws a RangeError when options.%s is not a positive integer',
    (name) => {
      expect(() => resolvePoolOptions({ [name]: 1.5 })).toThrow(
        new RangeError(`options.${name} must be a positive integer, got 1.5`),
      );
    },
  );

  it.each(integerOptions)('throws a RangeError when options.%s is 0', (name) => {
    expect(() => resolvePoolOptions({ [name]: 0 })).toThrow(
      new RangeError(`options.${name} must be a positive integer, got 0`),
    );
  });

  it('accepts options.size up to MAX_POOL_SIZE, the bound POOL_SIZE has too', () => {
    expect(MAX_POOL_SIZE).toBe(64);
    expect(resolvePoolOptions({ size: MAX_POOL_SIZE }).size).toBe(64);
  });

  it('throws a RangeError when options.size is above the guard', () => {
    expect(() => resolvePoolOptions({ size: MAX_POOL_SIZE + 1 })).toThrow(
      new RangeError(`options.size must be at most ${MAX_POOL_SIZE}, got ${MAX_POOL_SIZE + 1}`),
    );
  });

  it('throws a RangeError when options.taskTimeoutMs is beyond what setTimeout can wait', () => {
    expect(() => resolvePoolOptions({ taskTimeoutMs: 2 ** 31 })).toThrow(
      new RangeError(`options.taskTimeoutMs must be at most 2147483647, got ${2 ** 31}`),
    );
  });

  it('throws a TypeError when options.childScript is neither a path nor a URL', () => {
    expect(() => resolvePoolOptions({ childScript: 42 })).toThrow(
      new TypeError('options.childScript must be a path or a file: URL, got number'),
    );
  });

  it('throws a TypeError when options.childScript is an empty path', () => {
    expect(() => resolvePoolOptions({ childScript: '' })).toThrow(
      new TypeError('options.childScript must not be empty'),
    );
  });

  it('throws a TypeError when options.childScript is not a file: URL', () => {
    expect(() => resolvePoolOptions({ childScript: new URL('https://example.com/c.js') })).toThrow(
      new TypeError('options.childScript must be a file: URL, got https: URL'),
    );
  });

  it('throws a TypeError when options.estimateCost is not a function', () => {
    expect(() => resolvePoolOptions({ estimateCost: 1 })).toThrow(
      new TypeError('options.estimateCost must be a function, got number'),
    );
  });

  it('throws a TypeError when options.execArgv is not an array', () => {
    expect(() => resolvePoolOptions({ execArgv: '--inspect' })).toThrow(
      new TypeError('options.execArgv must be an array of strings, got string'),
    );
  });

  it('throws a TypeError when an element of options.execArgv is not a string', () => {
    expect(() => resolvePoolOptions({ execArgv: ['--trace-gc', 1] })).toThrow(
      new TypeError('options.execArgv[1] must be a string, got number'),
    );
  });
});

describe('Class: ProcessPool', () => {
  describe('Method: constructor', () => {
    it('throws the option errors before starting any child', () => {
      expect(() => new ProcessPool({ size: -1 })).toThrow(
        new RangeError('options.size must be a positive integer, got -1'),
      );
    });
  });
});
