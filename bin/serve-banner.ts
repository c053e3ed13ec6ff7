/**
 * What `fanout serve` tells its user on stderr: where the API is, whether it checks SigV4,
 * the local principals' keys, and curl lines that work as printed.
 */

import type { StackDescription } from '#local/embedded-stack.ts';
import { LOCAL_REGION } from '#local/emulators/common.ts';
import type { LocalPrincipal } from '#local/sigv4/principals.ts';

export function serveBanner(
  apiUrl: string,
  authEnabled: boolean,
  principals: readonly LocalPrincipal[],
): string {
  const submit = `-X POST ${apiUrl}/jobs -H 'content-type: application/json' -d '{"numbers":[1,2,3]}'`;
  if (!authEnabled) {
    return [
      `fanout: local API at ${apiUrl} (127.0.0.1 only); --no-auth: SigV4 signatures are NOT checked, unlike the deployed API; Ctrl-C stops it`,
      `  curl -s ${submit}`,
      `  curl -s ${apiUrl}/jobs/JOB_ID`,
      '',
    ].join('\n');
  }
  const [first] = principals;
  const sign =
    first === undefined
      ? ''
      : `--aws-sigv4 'aws:amz:${LOCAL_REGION}:execute-api' --user '${first.accessKeyId}:${first.secretAccessKey}' `;
  return [
    `fanout: local API at ${apiUrl} (127.0.0.1 only); requests must be SigV4-signed (service execute-api, region ${LOCAL_REGION}), as in AWS; Ctrl-C stops it`,
    'fanout: local principals (the CLI and the library sign with "local" by themselves):',
    ...principals.map(
      (principal) =>
        `  ${principal.name}: AWS_ACCESS_KEY_ID=${principal.accessKeyId} AWS_SECRET_ACCESS_KEY=${principal.secretAccessKey}`,
    ),
    `  curl -s ${sign}${submit}`,
    `  curl -s ${sign}${apiUrl}/jobs/JOB_ID`,
    '',
  ].join('\n');
}

/** Where the emulators listen, and the stack's tables and queues, for the AWS CLI. */
export function endpointsBanner(described: StackDescription): string {
  const { region, endpoints, tables, queues, cloudLimits } = described;
  return [
    `endpoints (region ${region}, any access key): SQS and S3 ${endpoints.sqs}, DynamoDB ${endpoints.dynamodb}${cloudLimits ? " (enforcing AWS's limits)" : ''}`,
    ...Object.entries(tables).map(([id, name]) => `  table ${id}: ${name}`),
    ...Object.entries(queues).map(([id, url]) => `  queue ${id}: ${url}`),
    `  aws dynamodb scan --endpoint-url ${endpoints.dynamodb} --region ${region} --table-name ${Object.values(tables)[0] ?? 'TABLE'}`,
    '',
  ].join('\n');
}
