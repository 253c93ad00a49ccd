// Assumed-role credentials in memory, refreshed 5 minutes before they expire; concurrent requests for one
// profile share a single STS call (and a single MFA prompt).
import type { Clock, Credentials } from '../../src/plugin-kit/index.js';
import type { AssumedRole } from './types.js';

export const EARLY_REFRESH_MS = 5 * 60_000;

interface Entry {
  credentials: Credentials;
  info: AssumedRole;
}

export class RoleCache {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();

  constructor(private readonly clock: Clock) {}

  async get(key: string, forceRefresh: boolean, fetch: () => Promise<Entry>): Promise<Credentials> {
    const cached = this.cache.get(key);
    if (cached && !forceRefresh && this.fresh(cached.credentials)) return cached.credentials;
    let running = this.inflight.get(key);
    if (!running) {
      running = fetch()
        .then((e) => {
          this.cache.set(key, e);
          return e;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, running);
    }
    return (await running).credentials;
  }

  /** What is cached, for status. */
  list(): { info: AssumedRole; fresh: boolean }[] {
    return [...this.cache.values()].map((e) => ({ info: e.info, fresh: this.fresh(e.credentials) }));
  }

  private fresh(c: Credentials): boolean {
    return c.expiration !== undefined && c.expiration.getTime() - this.clock.now() > EARLY_REFRESH_MS;
  }
}
