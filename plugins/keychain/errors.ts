// What a keyring failure means for us, and the errors users see. Keyring messages never carry the secret.
import { StormtunnelError, redactString } from '../../src/plugin-kit/index.js';

export type KeyringFailure =
  | { kind: 'unavailable'; reason: string }
  | { kind: 'locked'; reason: string }
  | { kind: 'too-long'; limit: number; reason: string }
  | { kind: 'other'; reason: string };

// No store to talk to: no session bus, no Secret Service provider, no keychain file.
const UNAVAILABLE =
  /Failed to connect to socket|not provided by any \.service files|ServiceUnknown|NoServer|DBUS_SESSION_BUS_ADDRESS|autolaunch|No keychain is available|specified keychain could not be found|not supported on this platform/i;
// A store exists but will not open: locked, prompt dismissed, no unlocked default collection, access refused.
const LOCKED =
  /locked|unlock|prompt|dismissed|no result found|interaction is not allowed|cancel|denied|not permitted|passphrase|authori[sz]ation|Couldn't access platform storage/i;
const TOO_LONG = /longer than platform limit of (\d+)/i;

export function errorMessage(err: unknown): string {
  return redactString(err instanceof Error ? err.message : String(err));
}

/** `duringSetup`: the failure came from creating the entry, which is where a missing store shows. */
export function classifyKeyringError(err: unknown, duringSetup = false): KeyringFailure {
  const reason = errorMessage(err);
  const long = TOO_LONG.exec(reason);
  if (long?.[1]) return { kind: 'too-long', limit: Number(long[1]), reason };
  if (duringSetup || UNAVAILABLE.test(reason)) return { kind: 'unavailable', reason };
  if (LOCKED.test(reason)) return { kind: 'locked', reason };
  return { kind: 'other', reason };
}

export function lockedHint(backendName: string): string {
  if (/macOS/.test(backendName))
    return 'unlock your login keychain (Keychain Access, or `security unlock-keychain`) and allow stormtunnel access, then try again';
  if (/Windows/.test(backendName))
    return 'sign in to Windows as the user who owns the credentials (Credential Manager), then try again';
  return 'unlock your login keyring (Seahorse, or `gnome-keyring-daemon --unlock`), or create one if none exists, then try again; or set `settings.keychain: false` to keep tokens in the AWS CLI cache only';
}

/** The keychain exists but is locked or refused access: the user has to act. */
export class KeychainLockedError extends StormtunnelError {
  readonly code = 'KEYCHAIN_LOCKED';
  constructor(backendName: string, operation: string, reason: string) {
    super(`${backendName} is locked or refused access (${operation}): ${reason}`, {
      hint: lockedHint(backendName),
    });
  }
}

/** Any other keychain failure, named by operation and session. */
export class KeychainError extends StormtunnelError {
  readonly code = 'KEYCHAIN_ERROR';
  constructor(backendName: string, operation: string, reason: string) {
    super(`${backendName} failed (${operation}): ${reason}`);
  }
}

/** An entry that does not hold a valid token record. Never deleted silently: the user decides. */
export class CorruptKeychainEntryError extends StormtunnelError {
  readonly code = 'KEYCHAIN_CORRUPT_ENTRY';
  constructor(
    readonly session: string,
    problem: string,
  ) {
    super(`the keychain entry for SSO session "${session}" is not a valid token record: ${problem}`, {
      hint: `sign out of it (stormtunnel logout --sso-session ${session}) and sign in again`,
    });
  }
}
