// The keychain plugin: provides the `tokenStore` service on the OS keychain, reports it in `status`, and
// clears entries at sign-out.
import { z } from 'zod';
import { parsePluginOptions, type StormtunnelPlugin } from '../../src/plugin-kit/index.js';
import type { TokenStore } from '../../src/plugin-kit/index.js';
import { napiKeyringBackend } from './backend.js';
import { KeychainStore } from './store.js';
import { tokenStoreStatus } from './status.js';
import type { KeychainOptions, KeychainTokenStore, KeyringBackend } from './types.js';

export type * from './types.js';
export { KeychainStore } from './store.js';
export { CorruptKeychainEntryError, KeychainError, KeychainLockedError } from './errors.js';
export { napiKeyringBackend } from './backend.js';

const NAME = 'keychain';

const optionsSchema = z
  .object({
    service: z.string().min(1).optional(),
    backend: z
      .custom<KeyringBackend>(
        (v) => typeof v === 'object' && v !== null && typeof (v as { entry?: unknown }).entry === 'function',
        { message: 'expected a KeyringBackend (an object with entry(service, account))' },
      )
      .optional(),
  })
  .strict();

/** The keychain store behind `api.services.tokenStore`, or undefined when another store is in use. */
export function keychainStoreOf(store: TokenStore): KeychainTokenStore | undefined {
  return store instanceof KeychainStore ? store : undefined;
}

export function keychain(options?: KeychainOptions): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  return {
    name: NAME,
    apply(api) {
      const store = api.settings.keychain
        ? new KeychainStore(opts.backend ?? napiKeyringBackend(), opts.service ?? 'stormtunnel', api.logger)
        : undefined;
      if (store) api.provide('tokenStore', store);

      api.hooks.collectStatus.tapPromise(async (report) => {
        report.entries.push(tokenStoreStatus(store ? await store.state() : undefined, api.settings));
        return report;
      });

      api.hooks.signOut.tapPromise(async (request) => {
        if (!store) return;
        if (request.all) {
          for (const session of await store.sessions()) await store.delete(session);
        } else if (request.session) {
          await store.delete(request.session);
        }
        // A profile alone names no session here; the sso plugin resolves it and calls tokenStore.delete().
      });
    },
  };
}
