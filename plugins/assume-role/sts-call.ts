// One STS AssumeRole call with recovery (the retry plugin decides): ExternalId, DurationSeconds and MFA as
// the profile says. A rejected MFA code becomes a clear input error instead of "Contact AWS Administrator".
import { parseRoleArn, StormtunnelError } from '../../src/plugin-kit/index.js';
import type { PluginApi, Credentials } from '../../src/plugin-kit/index.js';

export interface AssumeRoleCall {
  profile: string;
  region: string;
  roleArn: string;
  roleSessionName: string;
  externalId: string | undefined;
  durationSeconds: number | undefined;
  mfa: { serial: string; code: string } | undefined;
}

/** The MFA code was wrong or stale: input the person can fix (exit 2), never retried. */
export class MfaRejectedError extends StormtunnelError {
  readonly errorClass = 'usage';
  constructor(profile: string, serial: string, cause: unknown) {
    super(`the MFA code for profile "${profile}" (mfa_serial ${serial}) was rejected by AWS`, {
      exitCode: 2,
      cause,
      hint: 'run again and enter the current code of that MFA device (codes change every 30 seconds)',
    });
  }
}

function isMfaRejection(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown };
  return (
    (e?.name === 'AccessDenied' || e?.name === 'AccessDeniedException') &&
    typeof e.message === 'string' &&
    /MultiFactorAuthentication/i.test(e.message)
  );
}

export async function callAssumeRole(
  api: PluginApi,
  call: AssumeRoleCall,
  source: { get(): Credentials; refresh(): Promise<void> },
): Promise<Credentials> {
  const { AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  return api.recover(
    {
      phase: 'credentials',
      operation: 'AssumeRole',
      profile: call.profile,
      action: 'sts:AssumeRole',
      // The source credentials were refused as expired: get fresh ones and try again once.
      reauthenticate: () => source.refresh(),
    },
    async () => {
      const sts = await api.services.aws.sts({ region: call.region, credentials: source.get() });
      let out;
      try {
        out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: call.roleArn,
            RoleSessionName: call.roleSessionName,
            ...(call.externalId !== undefined ? { ExternalId: call.externalId } : {}),
            ...(call.durationSeconds !== undefined ? { DurationSeconds: call.durationSeconds } : {}),
            ...(call.mfa ? { SerialNumber: call.mfa.serial, TokenCode: call.mfa.code } : {}),
          }),
        );
      } catch (err) {
        if (call.mfa && isMfaRejection(err)) throw new MfaRejectedError(call.profile, call.mfa.serial, err);
        throw err;
      }
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error('AssumeRole answered without complete credentials');
      }
      const accountId = parseRoleArn(call.roleArn)?.accountId;
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: new Date(c.Expiration),
        ...(accountId ? { accountId } : {}),
        source: 'assume-role',
      };
    },
  );
}
