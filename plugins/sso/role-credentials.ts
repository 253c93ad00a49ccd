// Role credentials from the SSO portal (GetRoleCredentials), cached in memory until 5 minutes before they
// expire, one call at a time per account and role.
import { classifyError } from '../../src/plugin-kit/index.js';
import type { PluginApi, Credentials } from '../../src/plugin-kit/index.js';
import { SignInRequiredError, type SsoTokenLifecycle } from './token-lifecycle.js';
import type { SsoSessionRef } from './types.js';

const EARLY_MS = 5 * 60_000;

export class RoleCredentials {
  private readonly cache = new Map<string, Credentials>();
  private readonly inflight = new Map<string, Promise<Credentials>>();

  constructor(
    private readonly api: PluginApi,
    private readonly sessions: SsoTokenLifecycle,
  ) {}

  get(
    ref: SsoSessionRef,
    accountId: string,
    roleName: string,
    opts: { profile: string; allowSignIn: boolean; forceRefresh?: boolean },
  ): Promise<Credentials> {
    const key = `${ref.name}|${accountId}|${roleName}`;
    const cached = this.cache.get(key);
    if (
      cached &&
      !opts.forceRefresh &&
      cached.expiration &&
      cached.expiration.getTime() - this.api.clock.now() > EARLY_MS
    ) {
      return Promise.resolve(cached);
    }
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.fetch(ref, accountId, roleName, opts)
      .then((c) => {
        this.cache.set(key, c);
        return c;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async fetch(
    ref: SsoSessionRef,
    accountId: string,
    roleName: string,
    opts: { profile: string; allowSignIn: boolean },
  ): Promise<Credentials> {
    // Not signed in or expired beyond refresh: the user hears that directly (validToken raises it).
    // Recovery below is for what the portal answers to a token we believed valid.
    let token = await this.sessions.validToken(ref, { allowSignIn: opts.allowSignIn, profile: opts.profile });
    const rejected = 'the SSO portal rejected the sign-in (revoked or ended)';
    return this.api.recover(
      {
        phase: 'credentials',
        operation: 'GetRoleCredentials',
        profile: opts.profile,
        ssoSession: ref.name,
        action: 'sso:GetRoleCredentials',
        // The portal rejected the token (revoked or expired server-side): refresh it, or sign in if allowed.
        reauthenticate: async () => {
          if (this.sessions.refreshable(token)) {
            try {
              token = await this.sessions.refresh(ref, { force: true });
              return;
            } catch (err) {
              // The refresh token was refused too: a sign-in is needed (said with the profile's login
              // command below). Anything else (network...) is reported as it is.
              if (!opts.allowSignIn && classifyError(err).class !== 'token-expired') throw err;
            }
          }
          if (!opts.allowSignIn) {
            await this.sessions.raiseReauth(ref, rejected, opts.profile);
            throw new SignInRequiredError(ref, rejected, opts.profile);
          }
          token = await this.sessions.signIn(ref, {});
        },
      },
      async () => {
        const { GetRoleCredentialsCommand } = await import('@aws-sdk/client-sso');
        const sso = await this.api.services.aws.sso({ region: ref.region });
        const out = await sso.send(
          new GetRoleCredentialsCommand({ accessToken: token.accessToken, accountId, roleName }),
        );
        const rc = out.roleCredentials;
        if (!rc?.accessKeyId || !rc.secretAccessKey || !rc.sessionToken || !rc.expiration) {
          throw new Error('GetRoleCredentials answered without complete role credentials');
        }
        return {
          accessKeyId: rc.accessKeyId,
          secretAccessKey: rc.secretAccessKey,
          sessionToken: rc.sessionToken,
          expiration: new Date(rc.expiration), // epoch milliseconds
          accountId,
          source: 'sso',
        };
      },
    );
  }

  /** Drops cached role credentials of a session (logout). */
  forget(session: string): void {
    for (const key of [...this.cache.keys()]) if (key.startsWith(`${session}|`)) this.cache.delete(key);
  }
}
