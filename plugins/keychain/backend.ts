// The real keychain: @napi-rs/keyring (macOS Keychain, Windows Credential Manager, Linux Secret Service).
import { AsyncEntry } from '@napi-rs/keyring';
import type { KeyringBackend } from './types.js';

/** CRED_MAX_CREDENTIAL_BLOB_SIZE is 2560 bytes and the password is stored as UTF-16. */
const WINDOWS_MAX_PASSWORD = 1280;

function platformName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

export function napiKeyringBackend(platform: NodeJS.Platform = process.platform): KeyringBackend {
  return {
    name: platformName(platform),
    maxPasswordLength: platform === 'win32' ? WINDOWS_MAX_PASSWORD : Number.POSITIVE_INFINITY,
    // Pinned to Secret Service on Linux: the binding would otherwise fall back silently to the kernel
    // keyring, which forgets everything at reboot; we prefer the documented AWS CLI cache fallback.
    entry: (service, account) => new AsyncEntry(service, account, { linux: { store: 'secret-service' } }),
  };
}
