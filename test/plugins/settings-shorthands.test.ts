// Each built-in plugin owns its settings as options; the config's `settings` keys are shorthands for them.
// For every key: the shorthand and the plugin's own option have the same effect, which differs from the
// default, and the option wins when both are given.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keychain } from '../../plugins/keychain/index.js';
import { notify } from '../../plugins/notify/index.js';
import { retry, type RetryOptions } from '../../plugins/retry/index.js';
import { profileCredentials } from '../../plugins/profile-credentials/index.js';
import { ssmTunnel, type SsmTunnelOptions } from '../../plugins/ssm-tunnel/index.js';
import { sso, type SsoOptions } from '../../plugins/sso/index.js';
import type { SettingsInput, TunnelInput } from '../../src/config/types.js';
import { createTestEngine, startTestEmulator } from '../../src/testing/index.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { settingsSchema } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { FakeClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { StormtunnelPlugin } from '../../src/engine/plugin.js';
import type { Settings, StoredToken } from '../../src/engine/types.js';
import { captureLogger } from '../helpers/logger.js';

/** The config's settings as `stormtunnel.config.*` would give them (validated, defaults applied). */
function settingsFrom(input: Record<string, unknown>): Settings {
  return validateConfig({ settings: input }, 'stormtunnel.config.json', () => []).settings;
}

async function engineWith(plugins: StormtunnelPlugin[], settings: Settings = DEFAULT_SETTINGS) {
  const logger = captureLogger();
  const engine = await createEngine({ plugins, settings, logger, wakeDetection: false });
  return { engine, logger };
}

// ---------------------------------------------------------------------------------------------------------
// retry: settings.retry.* ≡ retry({...})

const transient = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

async function decision(
  plugin: StormtunnelPlugin,
  settings: Settings,
  at: { attempt: number; elapsedMs?: number; error?: unknown },
) {
  const { engine } = await engineWith([plugin], settings);
  const { decision } = await engine.handleError({
    phase: 'connect',
    operation: 'test',
    attempt: at.attempt,
    elapsedMs: at.elapsedMs ?? 0,
    plugin: undefined,
    error: at.error ?? transient,
  });
  await engine.shutdown({ reason: 'command-done' });
  return decision.action === 'retry' ? `retry after ${decision.afterMs}` : decision.action;
}

// Jitter draws the lowest delay: half the backoff.
const fixed = { random: () => 0 };
const retryCases: {
  key: keyof RetryOptions;
  value: unknown;
  at: { attempt: number; elapsedMs?: number; error?: unknown };
  base?: Record<string, unknown>;
}[] = [
  { key: 'maxAttempts', value: 2, at: { attempt: 2 } },
  { key: 'maxRecoveryDuration', value: '10s', at: { attempt: 1, elapsedMs: 20_000 } },
  { key: 'jitter', value: false, at: { attempt: 1 }, base: { baseDelay: '4s' } },
  { key: 'baseDelay', value: '3s', at: { attempt: 1 }, base: { jitter: false } },
  { key: 'maxDelay', value: '2s', at: { attempt: 4 }, base: { jitter: false } },
  { key: 'throttleDelay', value: '7s', at: { attempt: 1, error: throttled } },
];

for (const c of retryCases) {
  test(`settings.retry.${c.key} is a shorthand for retry({ ${c.key} })`, async () => {
    const base = c.base ?? {};
    const byDefault = await decision(retry({ ...fixed, ...base }), settingsFrom({}), c.at);
    const viaSettings = await decision(
      retry({ ...fixed, ...base }),
      settingsFrom({ retry: { [c.key]: c.value } }),
      c.at,
    );
    const viaOption = await decision(retry({ ...fixed, ...base, [c.key]: c.value }), settingsFrom({}), c.at);
    assert.is.not(viaSettings, byDefault, `settings.retry.${c.key} changed nothing`);
    assert.is(viaOption, viaSettings);
  });
}

test('retry: its own option wins over the settings.retry shorthand', async () => {
  const d = await decision(retry({ ...fixed, maxAttempts: 5 }), settingsFrom({ retry: { maxAttempts: 1 } }), {
    attempt: 1,
  });
  assert.match(d, /^retry after/);
});

// ---------------------------------------------------------------------------------------------------------
// sso: autoRefresh, earlyRefreshThreshold, refreshCheckInterval, shareWithAwsCli ≡ sso({...})

const SESSION = 'work';

function awsHome(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'stormtunnel-shorthand-'));
  mkdirSync(join(home, '.aws'));
  writeFileSync(
    join(home, '.aws', 'config'),
    `[profile dev]\nsso_session = ${SESSION}\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = us-east-1\n\n[sso-session ${SESSION}]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n`,
  );
  const saved = { ...process.env };
  process.env.HOME = home;
  process.env.AWS_CONFIG_FILE = join(home, '.aws', 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(home, '.aws', 'credentials');
  // Nothing here may reach AWS: a refresh attempt fails at once.
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
  return {
    home,
    cleanup() {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function tokenExpiringIn(clock: FakeClock, ms: number): StoredToken {
  return {
    session: SESSION,
    startUrl: 'https://example.awsapps.com/start',
    region: 'us-east-1',
    accessToken: 'at-shorthand',
    expiresAt: new Date(clock.now() + ms),
    refreshToken: 'rt-shorthand',
    clientId: 'cid',
    clientSecret: 'cs',
    registrationExpiresAt: new Date(clock.now() + 30 * 86_400_000),
  };
}

/** A token store that keeps tokens (as a keychain does), so the AWS CLI cache is written only when shared. */
function keepingStore() {
  const tokens = new Map<string, StoredToken>();
  const store = {
    kind: 'test-keychain',
    reads: 0,
    get: (session: string) => {
      store.reads++;
      return Promise.resolve(tokens.get(session) ?? null);
    },
    set: (t: StoredToken) => Promise.resolve(void tokens.set(t.session, t)),
    delete: (session: string) => Promise.resolve(void tokens.delete(session)),
    describe: () => Promise.resolve({ available: true, detail: 'test keychain' }),
  };
  return store;
}

/**
 * What the sso plugin does with a token 4 minutes from expiry (inside the default 5-minute refresh window):
 * its status line, whether the AWS CLI cache gets tokens, whether asking for the token tries a silent
 * refresh, and whether the token monitor checks within the first 10 s of engine time.
 */
async function ssoBehaviour(options: SsoOptions, settings: Settings, watchMonitor: boolean) {
  const env = awsHome();
  const clock = new FakeClock();
  try {
    const logger = captureLogger();
    const store = keepingStore();
    const engine = await createEngine({
      plugins: [sso(options)],
      settings,
      logger,
      clock,
      wakeDetection: false,
      services: { tokenStore: store },
    });
    await store.set(tokenExpiringIn(clock, 4 * 60_000));
    const report = await engine.collectStatus({ profiles: [], live: false });
    const state = report.entries.find((e) => e.kind === 'sso-session')?.state;
    const cache = report.entries.find((e) => e.name === 'aws-cli-cache')?.state;
    // Asking for the token refreshes it silently (and fails here: nothing answers) only with autoRefresh.
    await engine.getSsoToken({ profile: 'dev', allowSignIn: false });
    const refreshTried = logger.records.some((r) => /could not refresh the token of work/.test(r.msg));
    // The monitor's first check reads the store: after 10 s of engine time with checks every 10 s, not
    // with the default 60 s.
    let checkedWithin10s: boolean | undefined;
    if (watchMonitor) {
      await engine.start({ longRunning: true });
      const before = store.reads;
      await clock.advance(10_000);
      // A due tick runs the check, whose first step reads the store before its first await: no real-time wait.
      checkedWithin10s = store.reads > before;
    }
    await engine.shutdown({ reason: 'command-done' });
    return { state, cache, refreshTried, checkedWithin10s };
  } finally {
    env.cleanup();
  }
}

const ssoCases: {
  key: (keyof SsoOptions & keyof Settings) | 'earlyRefreshThreshold' | 'refreshCheckInterval';
  value: unknown;
  observe: (b: Awaited<ReturnType<typeof ssoBehaviour>>) => unknown;
  base?: Record<string, unknown>;
}[] = [
  // A token 4 minutes from expiry is "expiring soon" with the default 5-minute threshold, not with 3 minutes.
  { key: 'earlyRefreshThreshold', value: '3m', observe: (b) => b.state },
  { key: 'shareWithAwsCli', value: false, observe: (b) => b.cache },
  { key: 'autoRefresh', value: false, observe: (b) => b.refreshTried },
  { key: 'refreshCheckInterval', value: '10s', observe: (b) => b.checkedWithin10s },
];

for (const c of ssoCases) {
  test(`settings.${c.key} is a shorthand for sso({ ${c.key} })`, async () => {
    const base = c.base ?? {};
    const watch = c.key === 'refreshCheckInterval';
    const byDefault = c.observe(await ssoBehaviour(base, settingsFrom({}), watch));
    const viaSettings = c.observe(await ssoBehaviour({}, settingsFrom({ ...base, [c.key]: c.value }), watch));
    const viaOption = c.observe(await ssoBehaviour({ ...base, [c.key]: c.value }, settingsFrom({}), watch));
    assert.is.not(viaSettings, byDefault, `settings.${c.key} changed nothing`);
    assert.is(viaOption, viaSettings);
  });
}

// ---------------------------------------------------------------------------------------------------------
// keychain: settings.keychain ≡ keychain({ enabled }); notify: settings.notifications ≡ notify({ quiet })

const noKeyring = {
  name: 'none',
  maxPasswordLength: 1024,
  entry: () => {
    throw new Error('no keyring in this test');
  },
};

test('settings.keychain is a shorthand for keychain({ enabled })', async () => {
  const kind = async (plugin: StormtunnelPlugin, settings: Settings) => {
    const { engine } = await engineWith([plugin], settings);
    const k = engine.services.tokenStore.kind;
    await engine.shutdown({ reason: 'command-done' });
    return k;
  };
  assert.is(await kind(keychain({ backend: noKeyring }), settingsFrom({})), 'keychain');
  assert.is(await kind(keychain({ backend: noKeyring }), settingsFrom({ keychain: false })), 'memory');
  assert.is(await kind(keychain({ backend: noKeyring, enabled: false }), settingsFrom({})), 'memory');
  assert.is(
    await kind(keychain({ backend: noKeyring, enabled: true }), settingsFrom({ keychain: false })),
    'keychain',
  );
});

test('settings.notifications: false is a shorthand for notify({ quiet: true })', async () => {
  const backend = { reportsClicks: false, notify: () => undefined };
  const provided = async (plugin: StormtunnelPlugin, settings: Settings) => {
    const { engine } = await engineWith([plugin], settings);
    const names = engine.describePlugins().find((p) => p.name === 'notify')?.provides ?? [];
    await engine.shutdown({ reason: 'command-done' });
    return names.includes('notifier');
  };
  assert.is(await provided(notify({ notifier: backend }), settingsFrom({})), true);
  assert.is(await provided(notify({ notifier: backend }), settingsFrom({ notifications: false })), false);
  assert.is(await provided(notify({ notifier: backend, quiet: true }), settingsFrom({})), false);
  assert.is(
    await provided(notify({ notifier: backend, quiet: false }), settingsFrom({ notifications: false })),
    true,
  );
});

// ---------------------------------------------------------------------------------------------------------
// ssm-tunnel: settings.maxSessions ≡ ssmTunnel({ maxSessions }); a tunnel's own maxSessions wins over both

/** What `check` says of the tunnel's pool: its start-session step names the sessions `up` may run. */
async function poolNote(
  options: SsmTunnelOptions,
  settings: SettingsInput,
  tunnel: Partial<TunnelInput> = {},
) {
  const emu = await startTestEmulator();
  try {
    const t = await createTestEngine({
      plugins: [profileCredentials(), ssmTunnel(options)],
      settings,
      tunnels: [
        { name: 't', profile: 'ci', target: 'i-0123456789abcdef0', remotePort: 22, localPort: 0, ...tunnel },
      ],
    });
    const steps = await t.engine.probeTunnel({
      name: 't',
      defaultProfile: 'ci',
      regionFor: async () => 'us-east-1',
    });
    await t.shutdown();
    const start = steps.find((s) => s.id === 'start-session');
    assert.is(start?.status, 'pass', start?.message);
    return /runs one session|may run up to \d+ sessions/.exec(start?.message ?? '')?.[0];
  } finally {
    await emu.close();
  }
}

test('settings.maxSessions is a shorthand for ssmTunnel({ maxSessions }); a tunnel’s own key wins', async () => {
  assert.is(await poolNote({}, {}), 'may run up to 4 sessions');
  assert.is(await poolNote({}, { maxSessions: 2 }), 'may run up to 2 sessions');
  assert.is(await poolNote({ maxSessions: 2 }, {}), 'may run up to 2 sessions');
  assert.is(await poolNote({ maxSessions: 2 }, { maxSessions: 8 }), 'may run up to 2 sessions');
  assert.is(await poolNote({ maxSessions: 2 }, {}, { maxSessions: 1 }), 'runs one session');
});

test('every key of settings has a test above', () => {
  const tested = new Set([
    ...retryCases.map((c) => `retry.${c.key}`),
    ...ssoCases.map((c) => c.key),
    'keychain',
    'notifications',
    'maxSessions',
  ]);
  const keys = Object.entries(settingsSchema.shape).flatMap(([k, v]) =>
    k === 'retry'
      ? Object.keys(
          (v as unknown as { _zod: { def: { innerType: { shape: object } } } })._zod.def.innerType.shape,
        ).map((r) => `retry.${r}`)
      : [k],
  );
  assert.equal(
    keys.filter((k) => !tested.has(k)),
    [],
  );
});

test.run();
