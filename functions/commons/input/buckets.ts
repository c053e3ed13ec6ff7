/**
 * The S3 buckets a job's input may come from: the stack's own input bucket (uploads through
 * presigned URLs) and the buckets the operator allowed at deploy time
 * (`-c fanout:inputBucketArns=arn:aws:s3:::a,arn:aws:s3:::b`). The stack and the functions share
 * these names and the one parser of the allowed list.
 */

/** The input variables (set on the dispatcher and the worker), from the env contract. */
export {
  ALLOWED_INPUT_BUCKET_ARNS_ENV,
  INPUT_BUCKET_NAME_ENV,
  INPUT_RANGE_BYTES_ENV,
  MAX_NUMBERS_PER_INPUT_OBJECT_ENV,
} from '../env.ts';
/** Uploads go under this prefix of the input bucket, one key per job; grants are scoped to it. */
export const INPUT_UPLOAD_PREFIX = 'uploads/';

/**
 * An S3 bucket ARN (no key) in any partition, with a bucket name of the general purpose rules:
 * 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a
 * letter or digit.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;

export type BucketArnsParse =
  | { readonly ok: true; readonly arns: string[]; readonly names: string[] }
  | { readonly ok: false; readonly problem: string };

/** The bucket name of a bucket ARN, or undefined when it is not one. */
export function bucketNameOfArn(arn: string): string | undefined {
  const match = BUCKET_ARN.exec(arn);
  const name = match?.[1];
  if (name === undefined || name.includes('..')) return undefined;
  return name;
}

/**
 * Parses a comma-separated list of bucket ARNs (blanks around commas ignored, an empty list
 * allowed, duplicates dropped). A bad entry is named in `problem`.
 */
export function parseBucketArns(text: string): BucketArnsParse {
  const arns: string[] = [];
  const names: string[] = [];
  for (const entry of text.split(',')) {
    const arn = entry.trim();
    if (arn === '') continue;
    const name = bucketNameOfArn(arn);
    if (name === undefined) {
      return {
        ok: false,
        problem: `"${arn}" is not an S3 bucket ARN such as arn:aws:s3:::my-bucket (no key, no wildcard)`,
      };
    }
    if (!arns.includes(arn)) {
      arns.push(arn);
      names.push(name);
    }
  }
  return { ok: true, arns, names };
}
