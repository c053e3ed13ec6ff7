/** The region requests are signed for, told once for Pool.connect and the CLI's --api. */
import { describe, expect, it } from 'vitest';
import { signingRegionOf } from '#client/signing.ts';

const DEPLOYED = new URL('https://abc123.execute-api.eu-central-1.amazonaws.com/v1/');
const ELSEWHERE = new URL('https://api.example.com/');

describe('Function: signingRegionOf', () => {
  it('takes the given region first, then the execute-api URL’s', () => {
    const env = { AWS_REGION: 'us-west-2' };
    expect(signingRegionOf(DEPLOYED, 'ap-south-1', env)).toBe('ap-south-1');
    expect(signingRegionOf(DEPLOYED, undefined, env)).toBe('eu-central-1');
  });

  it('falls back to AWS_REGION, then AWS_DEFAULT_REGION, then says it cannot tell', () => {
    expect(
      signingRegionOf(ELSEWHERE, undefined, { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'x' }),
    ).toBe('us-west-2');
    expect(signingRegionOf(ELSEWHERE, undefined, { AWS_DEFAULT_REGION: 'sa-east-1' })).toBe(
      'sa-east-1',
    );
    expect(signingRegionOf(ELSEWHERE, undefined, {})).toBeUndefined();
  });
});
