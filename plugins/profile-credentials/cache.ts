// Credentials kept in memory until 5 minutes before they expire (no expiry: for the life of the process),
// with one fetch at a time per key so concurrent requests share it.
import type { Clock, Credentials } from '../../src/plugin-kit/index.js';

export const EARLY_REFRESH_MS = 5 * 60_000;

export class CredentialCache {
  private readonly cache = new Map<string, Credentials>();
  private readonly inflight = new Map<string, Promise<Credentials>>();

  constructor(private readonly clock: Clock) {}

  get(key: string, forceRefresh: boolean, fetch: () => Promise<Credentials>): Promise<Credentials> {
    const cached = this.cache.get(key);
    if (cached && !forceRefresh && this.fresh(cached)) return Promise.resolve(cached);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = fetch()
      .then((c) => {
        if (this.fresh(c)) this.cache.set(key, c);
        else this.cache.delete(key);
        return c;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** Cached credentials (fresh or not) for status; never fetches. */
  peek(key: string): Credentials | undefined {
    return this.cache.get(key);
  }

  entries(): IterableIterator<[string, Credentials]> {
    return this.cache.entries();
  }

  private fresh(c: Credentials): boolean {
    return !c.expiration || c.expiration.getTime() - this.clock.now() > EARLY_REFRESH_MS;
  }
}
