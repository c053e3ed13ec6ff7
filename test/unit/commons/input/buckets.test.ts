import { describe, expect, it } from 'vitest';
import { bucketNameOfArn, parseBucketArns } from '#commons/input/buckets.ts';

describe('Function: bucketNameOfArn', () => {
  it.each([
    ['arn:aws:s3:::lab-inputs', 'lab-inputs'],
    ['arn:aws-cn:s3:::archive.example', 'archive.example'],
    ['arn:aws-us-gov:s3:::a1b', 'a1b'],
  ])('reads the bucket of %s', (arn, name) => {
    expect(bucketNameOfArn(arn)).toBe(name);
  });

  it.each([
    ['lab-inputs'],
    ['s3://lab-inputs'],
    ['arn:aws:s3:::lab-inputs/*'],
    ['arn:aws:s3:::lab-inputs/key'],
    ['arn:aws:s3:::*'],
    ['arn:aws:s3:::ab'],
    ['arn:aws:s3:::Lab'],
    ['arn:aws:s3:::-lab'],
    ['arn:aws:s3:::lab..inputs'],
    [`arn:aws:s3:::${'a'.repeat(64)}`],
    ['arn:aws:s3:eu-west-1:123456789012:accesspoint/lab'],
  ])('rejects %s', (arn) => {
    expect(bucketNameOfArn(arn)).toBeUndefined();
  });
});

describe('Function: parseBucketArns', () => {
  it('reads a comma-separated list, ignoring blanks and duplicates', () => {
    expect(parseBucketArns(' arn:aws:s3:::a1b ,, arn:aws:s3:::c2d,arn:aws:s3:::a1b ')).toEqual({
      ok: true,
      arns: ['arn:aws:s3:::a1b', 'arn:aws:s3:::c2d'],
      names: ['a1b', 'c2d'],
    });
    expect(parseBucketArns('')).toEqual({ ok: true, arns: [], names: [] });
  });

  it('names the first bad entry', () => {
    expect(parseBucketArns('arn:aws:s3:::a1b,arn:aws:s3:::a1b/*')).toEqual({
      ok: false,
      problem:
        '"arn:aws:s3:::a1b/*" is not an S3 bucket ARN such as arn:aws:s3:::my-bucket (no key, no wildcard)',
    });
  });
});
