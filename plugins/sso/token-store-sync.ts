// Keeps one SSO token per session in two places in step: the engine's token store (the OS keychain) and the
// AWS CLI cache (~/.aws/sso/cache), so that `aws sso login` serves us and our sign-in serves the AWS CLI.
import { deleteSsoToken, readSsoToken, withTokenLock, writeSsoToken } from '../../src/plugin-kit/index.js';
import type { SsoToken, Logger, Settings, StoredToken, TokenStore } from '../../src/plugin-kit/index.js';
import type { SsoSessionRef } from './types.js';

export function toStored(ref: SsoSessionRef, t: SsoToken): StoredToken {
  return {
    session: ref.name,
    startUrl: t.startUrl ?? ref.startUrl,
    region: t.region ?? ref.region,
    accessToken: t.accessToken,
    expiresAt: t.expiresAt,
    ...refreshFields(t),
  };
}

export function toCache(t: StoredToken): SsoToken {
  return {
    startUrl: t.startUrl,
    region: t.region,
    accessToken: t.accessToken,
    expiresAt: t.expiresAt,
    ...refreshFields(t),
    extra: {},
  };
}

type RefreshFields = Pick<SsoToken, 'refreshToken' | 'clientId' | 'clientSecret' | 'registrationExpiresAt'>;

/** The refresh token and the client registration that can use it, those present: both shapes name them alike. */
function refreshFields(t: RefreshFields): RefreshFields {
  return {
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    ...(t.clientId ? { clientId: t.clientId } : {}),
    ...(t.clientSecret ? { clientSecret: t.clientSecret } : {}),
    ...(t.registrationExpiresAt ? { registrationExpiresAt: t.registrationExpiresAt } : {}),
  };
}

/** A token belongs to the session when it was issued for the session's start URL (when it says). */
function sameSession(ref: SsoSessionRef, startUrl: string | undefined): boolean {
  return startUrl === undefined || startUrl.replace(/\/+$/, '') === ref.startUrl.replace(/\/+$/, '');
}

export interface StoreSyncDeps {
  store: () => TokenStore;
  settings: Readonly<Settings>;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/** Whether the token store is the OS keychain and reachable (else the CLI cache is the only durable place). */
async function keychainUsable(store: TokenStore): Promise<boolean> {
  if (store.kind === 'memory') return false;
  try {
    return (await store.describe()).available;
  } catch {
    return false;
  }
}

export class TokenStoreSync {
  constructor(private readonly deps: StoreSyncDeps) {}

  private get cacheOptions() {
    return { env: this.deps.env };
  }

  /** Write to the AWS CLI cache when sharing is on, or when the keychain cannot keep the token. */
  private async writesCache(): Promise<boolean> {
    return this.deps.settings.shareWithAwsCli || !(await keychainUsable(this.deps.store()));
  }

  /**
   * The freshest token of the two places (the one that expires last), or undefined. When the CLI cache is
   * newer (an `aws sso login` or a refresh by another tool), the store is brought up to date.
   */
  async read(ref: SsoSessionRef): Promise<{ token: StoredToken; from: 'store' | 'cache' } | undefined> {
    const store = this.deps.store();
    const [fromStore, fromCache] = await Promise.all([
      store.get(ref.name).catch((err: unknown) => {
        this.deps.logger.warn(`could not read the token of ${ref.name} from the ${store.kind} store`, {
          err,
        });
        return null;
      }),
      readSsoToken(ref.cacheKey, this.cacheOptions),
    ]);
    const cached = fromCache && sameSession(ref, fromCache.startUrl) ? toStored(ref, fromCache) : undefined;
    // The store is keyed by session name only: a token for another start URL (the session was re-pointed)
    // is not this session's token.
    const stored = fromStore && sameSession(ref, fromStore.startUrl) ? fromStore : null;
    if (stored && (!cached || stored.expiresAt.getTime() >= cached.expiresAt.getTime())) {
      return { token: stored, from: 'store' };
    }
    if (cached) {
      if (this.deps.settings.keychain && stored?.accessToken !== cached.accessToken) {
        await store
          .set(cached)
          .catch((err: unknown) => this.deps.logger.warn('could not update the token store', { err }));
      }
      return { token: cached, from: 'cache' };
    }
    return undefined;
  }

  async write(ref: SsoSessionRef, token: StoredToken): Promise<void> {
    await (
      await this.writer(ref)
    )(token);
  }

  /**
   * Decides where tokens of `ref` go (asking the keychain whether it is there takes a D-Bus round trip) and
   * returns the write itself: both places at once, so a stop right after a refresh's answer has the least
   * time to catch the new refresh token outside the disk. A failure of one place does not stop the other.
   */
  async writer(ref: SsoSessionRef): Promise<(token: StoredToken) => Promise<void>> {
    const intoStore = this.deps.settings.keychain;
    const intoCache = await this.writesCache();
    const store = this.deps.store();
    return async (token) => {
      const results = await Promise.allSettled([
        intoStore ? store.set(token) : undefined,
        intoCache ? writeSsoToken(ref.cacheKey, toCache(token), this.cacheOptions) : undefined,
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
  }

  /** Removes the token from both places (logout). Registrations are kept, as `aws sso logout` does. */
  async remove(ref: SsoSessionRef): Promise<void> {
    await this.deps.store().delete(ref.name);
    await deleteSsoToken(ref.cacheKey, this.cacheOptions);
  }

  /** Serialises read-refresh-write across processes (a lock file beside the cache entry). */
  lock<T>(ref: SsoSessionRef, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    return withTokenLock(ref.cacheKey, fn, { ...this.cacheOptions, timeoutMs });
  }
}
