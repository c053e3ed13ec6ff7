/** The function names and ARNs the local Lambda Invoke API accepts. */
import { describe, expect, it } from 'vitest';
import { functionNameOf } from '#local/lambda-api.ts';

describe('Function: functionNameOf', () => {
  it('accepts a name, a full ARN with a qualifier and a partial ARN', () => {
    expect(functionNameOf('my-fn')).toBe('my-fn');
    expect(
      functionNameOf(
        encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:my-fn:$LATEST'),
      ),
    ).toBe('my-fn');
    expect(functionNameOf('000000000000:function:my-fn')).toBe('my-fn');
  });
});
