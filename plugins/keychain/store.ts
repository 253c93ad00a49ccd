// The TokenStore on the OS keychain: one item per SSO session (service, account = session key) holding
// the token record as JSON, an index item listing session keys (no secrets), and the AWS CLI cache
// fallback when no keychain is reachable.
import type { Logger, StoredToken } from '../../src/plugin-kit/index.js';
import { decodeToken, encodeToken } from './codec.js';
import {
  classifyKeyringError,
  CorruptKeychainEntryError,
  KeychainError,
  KeychainLockedError,
  lockedHint,
} from './errors.js';
import { partsHeader, readPartsHeader, splitText } from './parts.js';
import type { KeychainState, KeychainTokenStore, KeyringBackend, KeyringEntry } from './types.js';

const INDEX_ACCOUNT = 'sessions';

export class KeychainStore implements KeychainTokenStore {
  readonly kind = 'keychain' as const;
  /** Set once no keychain could be reached; it stays so for the life of the process. */
  private unreachable: string | undefined;
  private lastLocked: string | undefined;
  private fallbackAnnounced = false;

  constructor(
    private readonly backend: KeyringBackend,
    readonly service: string,
    private readonly logger: Logger,
  ) {}

  async get(session: string): Promise<StoredToken | null> {
    const main = await this.read(this.service, session, `read session "${session}"`);
    if (main === undefined) this.fallback();
    if (main === undefined || main === null) return null;
    return decodeToken(session, await this.joinParts(session, main));
  }

  async set(token: StoredToken): Promise<void> {
    const text = encodeToken(token);
    try {
      if (!(await this.writeRecord(token.session, text, this.backend.maxPasswordLength)))
        return this.fallback();
    } catch (err) {
      if (!(err instanceof TooLong)) throw err;
      // The store named its item limit; halve it, since stores count it in bytes or in UTF-16 units.
      const max = Math.floor(err.limit / 2);
      try {
        if (!(await this.writeRecord(token.session, text, max))) return this.fallback();
      } catch (again) {
        if (!(again instanceof TooLong)) throw again;
        throw new KeychainError(this.backend.name, `write session "${token.session}"`, again.message);
      }
    }
    await this.updateIndex((keys) => (keys.includes(token.session) ? keys : [...keys, token.session]));
  }

  async delete(session: string): Promise<void> {
    const main = await this.read(this.service, session, `read session "${session}"`);
    if (main === undefined) return this.fallback();
    const parts = main === null ? 0 : (readPartsHeader(main) ?? 0);
    await this.remove(this.service, session, `delete session "${session}"`);
    for (let i = 1; i <= parts; i++)
      await this.remove(this.partService, partAccount(session, i), 'delete part');
    await this.updateIndex((keys) => keys.filter((k) => k !== session));
  }

  async sessions(): Promise<string[]> {
    const text = await this.read(this.indexService, INDEX_ACCOUNT, 'read index');
    if (!text) return [];
    try {
      const keys = JSON.parse(text) as unknown;
      if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) return keys;
    } catch {
      // reported below
    }
    this.logger.warn('the keychain index of SSO sessions is not valid; rewrite it by signing in again');
    return [];
  }

  async state(): Promise<KeychainState> {
    if (!this.unreachable) {
      try {
        await this.read(this.indexService, INDEX_ACCOUNT, 'check access');
        if (!this.unreachable && !this.lastLocked)
          return { state: 'available', detail: `${this.backend.name} (service "${this.service}")` };
      } catch (err) {
        // status must not fail because the keychain does: report it instead.
        if (!(err instanceof KeychainLockedError || err instanceof KeychainError)) throw err;
        if (err instanceof KeychainError) this.lastLocked = err.message;
      }
    }
    if (this.unreachable) {
      return {
        state: 'unavailable',
        reason: this.unreachable,
        detail: `no OS keychain reachable (${this.unreachable}); tokens are kept in the AWS CLI cache only`,
      };
    }
    const hint = lockedHint(this.backend.name);
    return {
      state: 'locked',
      hint,
      detail: `${this.backend.name} is locked or refused access (${this.lastLocked ?? 'unknown'}): ${hint}`,
    };
  }

  async available(): Promise<boolean> {
    return (await this.state()).state !== 'unavailable';
  }

  async describe(): Promise<{ available: boolean; detail: string }> {
    const s = await this.state();
    return { available: s.state === 'available', detail: s.detail };
  }

  private get indexService(): string {
    return `${this.service}-index`;
  }

  private get partService(): string {
    return `${this.service}-part`;
  }

  /**
   * Notes once per store that tokens are not kept in the keychain, then acts as "nothing stored". At debug
   * level: the user is told at sign-in and in `status`, not on every command.
   */
  private fallback(): void {
    if (this.fallbackAnnounced) return;
    this.fallbackAnnounced = true;
    this.logger.debug(
      `no OS keychain reachable (${this.unreachable ?? 'unknown'}): tokens are kept in the AWS CLI cache only`,
    );
  }

  private async joinParts(session: string, main: string): Promise<string> {
    const count = readPartsHeader(main);
    if (count === undefined) return main;
    let text = '';
    for (let i = 1; i <= count; i++) {
      const part = await this.read(this.partService, partAccount(session, i), `read session "${session}"`);
      if (typeof part !== 'string')
        throw new CorruptKeychainEntryError(session, `part ${i} of ${count} is missing`);
      text += part;
    }
    return text;
  }

  /** false: no keychain reachable. Parts are written before the header so a reader never sees a short record. */
  private async writeRecord(session: string, text: string, max: number): Promise<boolean> {
    const op = `write session "${session}"`;
    const old = await this.read(this.service, session, op);
    if (old === undefined) return false;
    const oldParts = old === null ? 0 : (readPartsHeader(old) ?? 0);
    let parts: string[] = [];
    if (text.length > max) {
      parts = splitText(text, max);
      for (const [i, part] of parts.entries()) {
        if (!(await this.write(this.partService, partAccount(session, i + 1), part, op))) return false;
      }
    }
    if (!(await this.write(this.service, session, parts.length ? partsHeader(parts.length) : text, op)))
      return false;
    for (let i = parts.length + 1; i <= oldParts; i++) {
      await this.remove(this.partService, partAccount(session, i), 'delete stale part');
    }
    return true;
  }

  private async updateIndex(change: (keys: string[]) => string[]): Promise<void> {
    const before = await this.sessions();
    const after = change(before);
    if (after.length === before.length && after.every((k, i) => k === before[i])) return;
    if (after.length)
      await this.write(this.indexService, INDEX_ACCOUNT, JSON.stringify(after), 'write index');
    else await this.remove(this.indexService, INDEX_ACCOUNT, 'delete index');
  }

  // Raw item access. `undefined` / `false`: no keychain reachable. Other failures throw.

  private open(service: string, account: string): KeyringEntry | undefined {
    if (this.unreachable) return undefined;
    try {
      return this.backend.entry(service, account);
    } catch (err) {
      this.unreachable = classifyKeyringError(err, true).reason;
      return undefined;
    }
  }

  private async read(service: string, account: string, op: string): Promise<string | null | undefined> {
    const entry = this.open(service, account);
    if (!entry) return undefined;
    try {
      // A read that works does not clear a failed write: a keyring without a default collection reads fine.
      return await entry.getPassword();
    } catch (err) {
      return this.failed(err, op);
    }
  }

  private async write(service: string, account: string, value: string, op: string): Promise<boolean> {
    const entry = this.open(service, account);
    if (!entry) return false;
    try {
      await entry.setPassword(value);
      this.lastLocked = undefined;
      return true;
    } catch (err) {
      return this.failed(err, op) ?? false;
    }
  }

  private async remove(service: string, account: string, op: string): Promise<void> {
    const entry = this.open(service, account);
    if (!entry) return;
    try {
      await entry.deletePassword();
    } catch (err) {
      this.failed(err, op);
    }
  }

  /** Returns undefined when the keychain went away (fallback); throws for everything else. */
  private failed(err: unknown, op: string): undefined {
    const failure = classifyKeyringError(err);
    switch (failure.kind) {
      case 'unavailable':
        this.unreachable = failure.reason;
        return undefined;
      case 'locked':
        this.lastLocked = failure.reason;
        throw new KeychainLockedError(this.backend.name, op, failure.reason);
      case 'too-long':
        throw new TooLong(failure.limit);
      default:
        throw new KeychainError(this.backend.name, op, failure.reason);
    }
  }
}

class TooLong extends Error {
  constructor(readonly limit: number) {
    super(`keychain item limit is ${limit}`);
  }
}

function partAccount(session: string, i: number): string {
  return `${session}#${i}`;
}
