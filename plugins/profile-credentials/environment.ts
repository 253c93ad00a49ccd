// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (credential_source = Environment).
import { UsageError } from '../../src/plugin-kit/index.js';
import type { Credentials } from '../../src/plugin-kit/index.js';

export function environmentCredentials(
  env: Readonly<Record<string, string | undefined>>,
  profile: string,
  now: number,
): Credentials {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  const missing = [!id && 'AWS_ACCESS_KEY_ID', !secret && 'AWS_SECRET_ACCESS_KEY'].filter(Boolean);
  if (!id || !secret) {
    throw new UsageError(
      `profile "${profile}" has credential_source = Environment but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
      {
        hint: 'export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or use source_profile',
      },
    );
  }
  const creds: Credentials = { accessKeyId: id, secretAccessKey: secret, source: 'environment' };
  if (env.AWS_SESSION_TOKEN) creds.sessionToken = env.AWS_SESSION_TOKEN;
  if (env.AWS_ACCOUNT_ID) creds.accountId = env.AWS_ACCOUNT_ID;
  if (env.AWS_CREDENTIAL_EXPIRATION) {
    const exp = new Date(env.AWS_CREDENTIAL_EXPIRATION);
    if (Number.isNaN(exp.getTime())) {
      throw new UsageError(
        `AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 date (used by profile "${profile}", credential_source = Environment)`,
        { hint: 'set it like 2030-01-01T00:00:00Z, or unset it' },
      );
    }
    if (exp.getTime() <= now) {
      throw new UsageError(
        `the credentials in AWS_ACCESS_KEY_ID have expired (AWS_CREDENTIAL_EXPIRATION), used by profile "${profile}"`,
        { hint: 'export fresh credentials in this shell, or use source_profile' },
      );
    }
    creds.expiration = exp;
  }
  return creds;
}
