/** What `fanout serve` prints on stderr: the auth mode, the principals' keys, curl lines. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_PRINCIPAL } from '#local/sigv4/principals.ts';
import { serveBanner } from '../../../bin/serve-banner.ts';

describe('Function: serveBanner', () => {
  it('prints every principal and curl lines signed with the first one', () => {
    const banner = serveBanner('http://127.0.0.1:3000', true, [
      DEFAULT_LOCAL_PRINCIPAL,
      { name: 'bob', accessKeyId: 'AKIABOBBOBBOBBOB0001', secretAccessKey: 'bob-secret' },
    ]);
    expect(banner).toContain(
      'requests must be SigV4-signed (service execute-api, region us-east-1)',
    );
    expect(banner).toContain(
      `  local: AWS_ACCESS_KEY_ID=${DEFAULT_LOCAL_PRINCIPAL.accessKeyId} AWS_SECRET_ACCESS_KEY=${DEFAULT_LOCAL_PRINCIPAL.secretAccessKey}\n`,
    );
    expect(banner).toContain(
      '  bob: AWS_ACCESS_KEY_ID=AKIABOBBOBBOBBOB0001 AWS_SECRET_ACCESS_KEY=bob-secret\n',
    );
    expect(banner).toContain(
      `curl -s --aws-sigv4 'aws:amz:us-east-1:execute-api' --user '${DEFAULT_LOCAL_PRINCIPAL.accessKeyId}:${DEFAULT_LOCAL_PRINCIPAL.secretAccessKey}' http://127.0.0.1:3000/jobs/JOB_ID`,
    );
  });

  it('says that signatures are not checked with --no-auth, and prints unsigned curl lines', () => {
    const banner = serveBanner('http://127.0.0.1:3000', false, []);
    expect(banner).toContain('--no-auth: SigV4 signatures are NOT checked');
    expect(banner).toContain('  curl -s http://127.0.0.1:3000/jobs/JOB_ID\n');
    expect(banner).not.toContain('--aws-sigv4');
  });
});
