// The SSO token lifecycle (not the Session Manager protocol of src/session-manager). Per SSO session: the
// freshest token, silent refresh (single-flight in the process, locked across processes), and sign-in (one
// per session across every stormtunnel process on the machine).
import { tokenCachePath, withFileLock, classifyError, StormtunnelError } from '../../src/plugin-kit/index.js';
import type { PluginApi, StoredToken } from '../../src/plugin-kit/index.js';
import { signInWithDeviceCode, signInWithPkce, type SignInDeps } from './sign-in.js';
import { TokenStoreSync } from './token-store-sync.js';
import type { SsoOptions, SsoSessionRef } from './types.js';

/** No valid token and no sign-in allowed here: the user must sign in (classified "SSO Authentication Required"). */
export class SignInRequiredError extends StormtunnelError {
  readonly errorClass = 'token-expired';
  constructor(ref: SsoSessionRef, why: string, profile?: string) {
    super(
      `SSO Authentication Required: ${why} for ${ref.legacy ? `start URL ${ref.name}` : `SSO session "${ref.name}"`}`,
      {
        exitCode: 3,
        hint: `run: stormtunnel login ${profile ? `--profile ${profile}` : ref.legacy ? '' : `--sso-session ${ref.name}`}`.trim(),
      },
    );
  }
}

/** At most one refresh attempt per session in this window, as the AWS SDKs do (avoids refresh storms). */
const MIN_REFRESH_SPACING_MS = 30_000;

export interface SignInOptions {
  noBrowser?: boolean;
  useDeviceCode?: boolean;
}

export class SsoTokenLifecycle {
  readonly sync: TokenStoreSync;
  /** Sessions this process has used: what the monitor watches. */
  readonly active = new Map<string, SsoSessionRef>();
  /** Last expiry seen per session, to notice tokens changed by other processes. */
  readonly lastSeenExpiry = new Map<string, number>();
  private readonly refreshing = new Map<string, Promise<StoredToken>>();
  private readonly signingIn = new Map<string, Promise<StoredToken>>();
  private readonly lastRefreshAttempt = new Map<string, number>();

  constructor(
    private readonly api: PluginApi,
    private readonly options: SsoOptions & { signInTimeoutMs: number },
    private readonly env: NodeJS.ProcessEnv,
    private readonly openUrl: (url: string) => Promise<void>,
  ) {
    this.sync = new TokenStoreSync({
      store: () => api.services.tokenStore,
      settings: api.settings,
      logger: api.logger,
      env,
    });
  }

  private get now(): number {
    return this.api.clock.now();
  }

  isFresh(t: StoredToken): boolean {
    return t.expiresAt.getTime() - this.now > this.api.settings.earlyRefreshThresholdMs;
  }

  isValid(t: StoredToken): boolean {
    return t.expiresAt.getTime() > this.now;
  }

  refreshable(t: StoredToken): boolean {
    return Boolean(t.refreshToken && t.clientId && t.clientSecret);
  }

  async read(ref: SsoSessionRef): Promise<StoredToken | undefined> {
    const found = await this.sync.read(ref);
    if (found) this.noteSeen(ref, found.token);
    return found?.token;
  }

  /** Records the expiry we know; returns true when it moved on without us (another process or tool). */
  noteSeen(ref: SsoSessionRef, t: StoredToken): boolean {
    const prev = this.lastSeenExpiry.get(ref.name);
    this.lastSeenExpiry.set(ref.name, t.expiresAt.getTime());
    return prev !== undefined && t.expiresAt.getTime() > prev;
  }

  /**
   * A token that is valid now: the stored one while it is fresh, else refreshed silently, else (when
   * allowed) a sign-in. Throws SignInRequiredError when a person is needed and none may be asked.
   */
  async validToken(
    ref: SsoSessionRef,
    opts: { allowSignIn: boolean; profile?: string } & SignInOptions,
  ): Promise<StoredToken> {
    this.active.set(ref.name, ref);
    const current = await this.read(ref);
    if (current && this.isFresh(current)) return current;
    if (current && this.refreshable(current) && this.api.settings.autoRefresh) {
      const last = this.lastRefreshAttempt.get(ref.name) ?? -Infinity;
      if (this.now - last >= MIN_REFRESH_SPACING_MS || !this.isValid(current)) {
        try {
          return await this.refresh(ref, { seen: current });
        } catch (err) {
          // Still valid: keep using it; the monitor retries and raises re-authentication when it must.
          if (this.isValid(current)) {
            this.api.logger.warn(`could not refresh the token of ${ref.name} yet; it is still valid`, {
              err,
            });
            return current;
          }
          // A refused refresh token ends below (SSO Authentication Required, with the profile's login command).
          if (!opts.allowSignIn && classifyError(err).class !== 'token-expired') throw err;
        }
      }
    }
    if (current && this.isValid(current)) return current;
    if (opts.allowSignIn) return this.signIn(ref, opts);
    const why = current
      ? this.refreshable(current)
        ? 'the sign-in has expired and could not be refreshed'
        : 'the sign-in has expired'
      : 'not signed in';
    await this.raiseReauth(ref, why, opts.profile, !current);
    throw new SignInRequiredError(ref, why, opts.profile);
  }

  async raiseReauth(
    ref: SsoSessionRef,
    reason: string,
    profile?: string,
    neverSignedIn = false,
  ): Promise<void> {
    await this.api.emit.reauthRequired({
      session: ref.name,
      ...(profile ? { profile } : {}),
      reason,
      ...(neverSignedIn ? { neverSignedIn } : {}),
      signIn: async () => {
        await this.signIn(ref, {});
      },
    });
  }

  /** Silent refresh with the refresh token. Single-flight in the process; locked across processes. */
  refresh(ref: SsoSessionRef, opts: { force?: boolean; seen?: StoredToken } = {}): Promise<StoredToken> {
    const running = this.refreshing.get(ref.name);
    if (running) return running;
    this.lastRefreshAttempt.set(ref.name, this.now);
    const p = this.sync
      .lock(ref, async () => {
        // Re-read inside the lock: another process may have refreshed while we waited.
        const latest = await this.read(ref);
        if (!latest) throw new SignInRequiredError(ref, 'the token disappeared (signed out elsewhere)');
        // Not the token the caller saw (`seen`): another process or tool refreshed (or signed in) while we
        // waited. Use it, fresh or not: with an earlyRefreshThreshold above the token lifetime no token is
        // ever "fresh", and every waiter would refresh again.
        if (opts.seen && latest.accessToken !== opts.seen.accessToken && this.isValid(latest)) return latest;
        // Fresh already (another process refreshed while we waited), unless the service just rejected it.
        if (this.isFresh(latest) && !opts.force) return latest;
        if (!this.refreshable(latest)) {
          throw new SignInRequiredError(
            ref,
            ref.legacy ? 'legacy sign-ins cannot be refreshed' : 'the token has no refresh token',
          );
        }
        // Plugins hear about the coming expiry before the silent refresh, whoever asked for it.
        await this.api.emit.tokenExpiring({
          session: ref.name,
          expiresAt: latest.expiresAt,
          remainingMs: latest.expiresAt.getTime() - this.now,
          refreshable: true,
        });
        // Where the new token goes is settled before the request: the service rotates the refresh token in
        // its answer, so nothing but the writes may stand between that answer and the disk.
        const save = await this.sync.writer(ref);
        return this.api.recover(
          { phase: 'token-refresh', operation: 'CreateToken (refresh)', ssoSession: ref.name },
          async () => {
            const { CreateTokenCommand } = await import('@aws-sdk/client-sso-oidc');
            const oidc = await this.api.services.aws.ssoOidc({ region: ref.region });
            const next = await this.api.finishBeforeExit(
              `saving the refreshed sign-in of ${ref.name}`,
              async () => {
                const out = await oidc.send(
                  new CreateTokenCommand({
                    clientId: latest.clientId,
                    clientSecret: latest.clientSecret,
                    grantType: 'refresh_token',
                    refreshToken: latest.refreshToken,
                  }),
                );
                if (!out.accessToken || !out.expiresIn)
                  throw new Error('CreateToken answered without accessToken or expiresIn');
                const token: StoredToken = {
                  ...latest,
                  accessToken: out.accessToken,
                  expiresAt: new Date(this.now + out.expiresIn * 1000),
                  // Keep the previous refresh token when none comes back (the SDKs drop it and strand the user).
                  refreshToken: out.refreshToken ?? latest.refreshToken,
                };
                await save(token);
                return token;
              },
            );
            this.lastSeenExpiry.set(ref.name, next.expiresAt.getTime());
            this.api.logger.info(`refreshed the sign-in of ${ref.name}`, {
              expiresAt: next.expiresAt.toISOString(),
            });
            await this.api.emit.tokenChanged({
              session: ref.name,
              expiresAt: next.expiresAt,
              how: 'refresh',
            });
            return next;
          },
        );
      })
      .finally(() => this.refreshing.delete(ref.name));
    this.refreshing.set(ref.name, p);
    return p;
  }

  /**
   * Signs in. One sign-in per session across all processes: a second one waits for the first and uses its
   * token instead of opening another browser tab. With `force` (the login command) a token that was already
   * there before we asked is not reused: the person asked for a new sign-in.
   */
  signIn(ref: SsoSessionRef, opts: SignInOptions & { force?: boolean }): Promise<StoredToken> {
    const running = this.signingIn.get(ref.name);
    if (running) return running;
    const p = this.read(ref).then((before) => this.signInLocked(ref, opts, before?.accessToken));
    const tracked = p.finally(() => this.signingIn.delete(ref.name));
    this.signingIn.set(ref.name, tracked);
    return tracked;
  }

  private signInLocked(
    ref: SsoSessionRef,
    opts: SignInOptions & { force?: boolean },
    tokenBefore: string | undefined,
  ): Promise<StoredToken> {
    const lockPath = `${tokenCachePath(ref.cacheKey, { env: this.env })}.signin.lock`;
    return withFileLock(
      lockPath,
      async () => {
        const latest = await this.read(ref);
        const newSinceAsked = latest !== undefined && latest.accessToken !== tokenBefore;
        if (latest && this.isFresh(latest) && (newSinceAsked || !opts.force)) {
          this.api.logger.info(`already signed in to ${ref.name} (by another process)`);
          await this.api.emit.tokenChanged({
            session: ref.name,
            expiresAt: latest.expiresAt,
            how: 'external',
          });
          return latest;
        }
        const oidc = await this.api.services.aws.ssoOidc({ region: ref.region });
        const deps: SignInDeps = {
          oidc,
          oidcEndpoint:
            this.api.services.aws.endpointFor('sso-oidc') ?? `https://oidc.${ref.region}.amazonaws.com`,
          clock: this.api.clock,
          prompt: this.api.services.prompt,
          logger: this.api.logger,
          openUrl: this.openUrl,
          noBrowser: Boolean(opts.noBrowser),
          timeoutMs: this.options.signInTimeoutMs,
          signal: this.api.signal,
          clientName: this.options.clientName ?? 'stormtunnel',
          env: this.env,
        };
        const useDevice = ref.useDeviceCode || Boolean(opts.useDeviceCode);
        const token = useDevice ? await signInWithDeviceCode(ref, deps) : await signInWithPkce(ref, deps);
        await this.sync.write(ref, token);
        this.lastSeenExpiry.set(ref.name, token.expiresAt.getTime());
        this.active.set(ref.name, ref);
        if (!token.refreshToken) {
          this.api.logger.warn(
            `the sign-in of ${ref.name} cannot be refreshed (no refresh token): ${ref.legacy ? 'legacy profiles (sso_start_url in the profile) never get one; move to an [sso-session] section' : 'the session has no registration scopes'}`,
          );
        }
        await this.api.emit.tokenChanged({ session: ref.name, expiresAt: token.expiresAt, how: 'sign-in' });
        return token;
      },
      { timeoutMs: this.options.signInTimeoutMs + 60_000, staleMs: 20_000 },
    );
  }

  async signOut(ref: SsoSessionRef): Promise<void> {
    const token = await this.read(ref);
    if (token && this.isValid(token)) {
      try {
        const { LogoutCommand } = await import('@aws-sdk/client-sso');
        const sso = await this.api.services.aws.sso({ region: ref.region });
        await sso.send(new LogoutCommand({ accessToken: token.accessToken }));
      } catch (err) {
        // The local sign-out still happens; the server-side session ends at its expiry.
        this.api.logger.warn(`SSO Logout for ${ref.name} failed; removing the local sign-in anyway`, { err });
      }
    }
    await this.sync.remove(ref);
    this.active.delete(ref.name);
    this.lastSeenExpiry.delete(ref.name);
  }
}
