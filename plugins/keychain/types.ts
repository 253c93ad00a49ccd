// Public types of the keychain plugin: its options, the keyring interface it runs on, and the store it provides.
import type { TokenStore } from '../../src/plugin-kit/index.js';

/** One keyring item, as `@napi-rs/keyring`'s `AsyncEntry` exposes it. */
export interface KeyringEntry {
  /** null: no item. Rejects when the store is locked, denied or gone. */
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  /** true: an item was deleted; false: there was none. */
  deletePassword(): Promise<boolean>;
}

/** The OS keychain behind the store; the real one is `@napi-rs/keyring`, tests may pass another. */
export interface KeyringBackend {
  /** The platform store's name for `status`, e.g. "Secret Service". */
  readonly name: string;
  /**
   * Longest password one item can hold (Windows Credential Manager: 1280 UTF-16 units). Longer records
   * are split over several items.
   */
  readonly maxPasswordLength: number;
  /** Throws when no keychain can be reached (e.g. no Secret Service on the session bus). */
  entry(service: string, account: string): KeyringEntry;
}

export interface KeychainOptions {
  /** Keyring service name; one item per SSO session under it (account = session key). */
  service?: string;
  backend?: KeyringBackend;
}

/**
 * - available: the keychain answers.
 * - unavailable: no keychain reachable (a server without Secret Service): tokens live in the AWS CLI cache only.
 * - locked: a keychain exists but is locked or refused access; the user has to act.
 */
export type KeychainState =
  | { state: 'available'; detail: string }
  | { state: 'unavailable'; detail: string; reason: string }
  | { state: 'locked'; detail: string; hint: string };

export interface KeychainTokenStore extends TokenStore {
  readonly kind: 'keychain';
  /**
   * Whether an OS keychain is reachable. false: get() returns null and set()/delete() do nothing, so the
   * caller must keep the token elsewhere (the AWS CLI cache), whatever `shareWithAwsCli` says.
   */
  available(): Promise<boolean>;
  /** The three-way state behind available() and describe(). */
  state(): Promise<KeychainState>;
  /** Session keys with an entry (from the index item, which holds no secrets). */
  sessions(): Promise<string[]>;
}
