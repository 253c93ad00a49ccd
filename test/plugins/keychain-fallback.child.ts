// Child process for keychain.test.ts: the real keychain plugin on a bus chosen by the parent (one that leads
// nowhere, or one whose keyring has no unlocked collection). Prints what the store reported as JSON.
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import { keychain, keychainStoreOf } from '../../plugins/keychain/index.js';
import { captureLogger } from '../helpers/logger.js';

const logger = captureLogger();
const engine = await createEngine({ plugins: [keychain()], settings: DEFAULT_SETTINGS, logger });
const store = engine.services.tokenStore;
const token = {
  session: 'fallback',
  startUrl: 'https://fallback.awsapps.com/start',
  region: 'us-east-1',
  accessToken: 'aoa-fallback',
  expiresAt: new Date('2026-11-21T13:00:00.000Z'),
};
let setError: { name: string; message: string; hint: string | undefined } | undefined;
try {
  await store.set(token);
} catch (err) {
  const e = err as Error & { hint?: string };
  setError = { name: e.name, message: e.message, hint: e.hint };
}
const get = await store.get('fallback');
if (!setError) {
  await store.delete('fallback');
  await store.set(token);
  await engine.signOut({ all: true });
}
const status = (await engine.collectStatus({ profiles: [], live: false })).entries[0];
process.stdout.write(
  JSON.stringify({
    available: await keychainStoreOf(store)?.available(),
    describe: await store.describe(),
    get,
    setError,
    status,
    warnings: logger.records.filter((r) => r.level === 'warn').map((r) => r.msg),
    notes: logger.records.filter((r) => /no OS keychain reachable/.test(r.msg)).map((r) => r.msg),
  }),
);
