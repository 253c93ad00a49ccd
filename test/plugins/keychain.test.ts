// The keychain plugin: its store against a fake keyring shaped like @napi-rs/keyring (for the macOS and
// Windows edges), against the real Secret Service (gnome-keyring on a private bus, checked with
// secret-tool), and the fallback when no Secret Service is reachable (a child process on a dead bus).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import { PluginOptionsError } from '../../src/engine/plugin.js';
import type { Settings, StoredToken } from '../../src/engine/types.js';
import {
  CorruptKeychainEntryError,
  keychain,
  KeychainLockedError,
  KeychainStore,
  keychainStoreOf,
  napiKeyringBackend,
  type KeyringBackend,
  type KeyringEntry,
} from '../../plugins/keychain/index.js';
import { captureLogger } from '../helpers/logger.js';
import { commandExists, testIf } from '../helpers/system.js';
import { REPO_ROOT } from '../helpers/cli.js';

// Token-sized values (SSO access and refresh tokens and client secrets run to about a thousand characters).
const long = (tag: string, n = 1100) => `${tag}${'Ab3'.repeat(n)}`.slice(0, n);

function token(session: string, extra: Partial<StoredToken> = {}): StoredToken {
  return {
    session,
    startUrl: `https://${session}.awsapps.com/start`,
    region: 'eu-west-1',
    accessToken: `aoa-${session}-${long('x', 40)}`,
    expiresAt: new Date('2026-11-21T13:00:00.000Z'),
    refreshToken: `aor-${session}-${long('y', 40)}`,
    clientId: `client-${session}`,
    clientSecret: `secret-${session}-${long('z', 40)}`,
    registrationExpiresAt: new Date('2027-02-19T12:00:00.000Z'),
    ...extra,
  };
}

/** A keyring with @napi-rs/keyring's AsyncEntry semantics; `fail` makes entry() or every call throw. */
class FakeKeyring implements KeyringBackend {
  readonly items = new Map<string, string>();
  readonly accounts: string[] = [];
  entryError: Error | undefined;
  opError: Error | undefined;
  constructor(
    readonly name = 'Fake Keychain',
    readonly maxPasswordLength = Number.POSITIVE_INFINITY,
    /** Rejects longer passwords the way keyring reports TooLong, without announcing the limit up front. */
    private readonly hiddenLimit = Number.POSITIVE_INFINITY,
  ) {}
  entry(service: string, account: string): KeyringEntry {
    if (this.entryError) throw this.entryError;
    const key = `${service}\u0000${account}`;
    this.accounts.push(`${service}/${account}`);
    const guard = () => {
      if (this.opError) throw this.opError;
    };
    return {
      getPassword: async () => (guard(), this.items.get(key) ?? null),
      setPassword: async (password) => {
        guard();
        if (password.length > this.hiddenLimit) {
          throw new Error(
            `Attribute 'password' is longer than platform limit of ${this.hiddenLimit * 2} chars`,
          );
        }
        this.items.set(key, password);
      },
      deletePassword: async () => (guard(), this.items.delete(key)),
    };
  }
  get(service: string, account: string) {
    return this.items.get(`${service}\u0000${account}`);
  }
}

function storeOn(backend: KeyringBackend, service = 'stormtunnel') {
  const logger = captureLogger();
  return { store: new KeychainStore(backend, service, logger), logger };
}

async function rejectsWith<E>(p: Promise<unknown>, type: new (...a: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, type);
    return err as E;
  }
  throw new assert.Assertion({
    message: `expected a ${type.name}`,
    operator: 'rejects',
    expects: type.name,
    actual: 'resolved',
  });
}

// ---------------------------------------------------------------------------------------------------------
const store = suite('keychain store (keyring interface)');

store('round-trips a token record as JSON with ISO dates, one item per session', async () => {
  const kc = new FakeKeyring();
  const { store: s } = storeOn(kc);
  const t = token('work');
  await s.set(t);
  assert.equal(await s.get('work'), t);
  const raw = JSON.parse(kc.get('stormtunnel', 'work') ?? '') as Record<string, unknown>;
  assert.is(raw.expiresAt, '2026-11-21T13:00:00.000Z');
  assert.is(raw.refreshToken, t.refreshToken);
  assert.is(raw.clientSecret, t.clientSecret);
  assert.is(await s.get('other'), null);
  // The index names sessions and holds no secret.
  assert.is(kc.get('stormtunnel-index', 'sessions'), '["work"]');
});

store('optional fields stay absent', async () => {
  const { store: s } = storeOn(new FakeKeyring());
  const t: StoredToken = {
    session: 's',
    startUrl: 'https://s.awsapps.com/start',
    region: 'us-east-1',
    accessToken: 'aoa-1',
    expiresAt: new Date('2026-11-21T13:00:00.000Z'),
  };
  await s.set(t);
  assert.equal(await s.get('s'), t);
});

store("isolation: a session never reads another session's item", async () => {
  const kc = new FakeKeyring();
  const { store: s } = storeOn(kc);
  await s.set(token('a'));
  await s.set(token('b'));
  assert.is((await s.get('a'))?.accessToken, token('a').accessToken);
  assert.is((await s.get('b'))?.accessToken, token('b').accessToken);
  await s.delete('a');
  assert.is(await s.get('a'), null);
  assert.is((await s.get('b'))?.refreshToken, token('b').refreshToken);
  // An item holding another session's record is refused, not handed out.
  kc.items.set('stormtunnel\u0000c', kc.get('stormtunnel', 'b') ?? '');
  const err = await rejectsWith(s.get('c'), CorruptKeychainEntryError);
  assert.match(err.message, /SSO session "c".*belongs to another SSO session/);
});

store('a corrupt entry is a clear error naming the session, leaks nothing, and is kept', async () => {
  const kc = new FakeKeyring();
  const { store: s } = storeOn(kc);
  const secret = 'aoaSECRETvalue1234567890abcdefghijklmnop';
  kc.items.set('stormtunnel\u0000work', `{"accessToken":"${secret}", broken`);
  let err = await rejectsWith(s.get('work'), CorruptKeychainEntryError);
  assert.match(err.message, /SSO session "work" is not a valid token record: not valid JSON/);
  assert.not.match(err.message, /SECRET/);
  assert.match(err.hint ?? '', /stormtunnel logout --sso-session work/);
  kc.items.set(
    'stormtunnel\u0000work',
    JSON.stringify({ session: 'work', accessToken: secret, expiresAt: 'soon' }),
  );
  err = await rejectsWith(s.get('work'), CorruptKeychainEntryError);
  assert.match(err.message, /bad or missing startUrl, region, expiresAt/);
  assert.not.match(err.message, /SECRET/);
  assert.ok(kc.get('stormtunnel', 'work'), 'never deleted silently');
});

store('Windows-sized items: a long record is split into parts and read back whole', async () => {
  const kc = new FakeKeyring('Windows Credential Manager', 1280);
  const { store: s } = storeOn(kc);
  const big = token('win', { accessToken: long('A'), refreshToken: long('R'), clientSecret: long('S') });
  await s.set(big);
  const parts = [...kc.items.keys()].filter((k) => k.startsWith('stormtunnel-part\u0000'));
  assert.ok(parts.length >= 3, `expected several parts, got ${parts.length}`);
  for (const k of parts) assert.ok((kc.items.get(k) ?? '').length <= 1280);
  assert.is(kc.get('stormtunnel', 'win'), JSON.stringify({ stormtunnelParts: parts.length }));
  assert.equal(await s.get('win'), big);
  // A shorter record replaces the parts; none are left behind.
  await s.set(token('win'));
  assert.equal(await s.get('win'), token('win'));
  assert.is([...kc.items.keys()].filter((k) => k.startsWith('stormtunnel-part\u0000')).length, 0);
  await s.set(big);
  await s.delete('win');
  assert.is(kc.items.size, 0);
});

store(
  'a store that only reports its limit when exceeded (TooLong) still gets the record in parts',
  async () => {
    const kc = new FakeKeyring('Windows Credential Manager', Number.POSITIVE_INFINITY, 1280);
    const { store: s } = storeOn(kc);
    const big = token('win', { accessToken: long('A'), refreshToken: long('R'), clientSecret: long('S') });
    await s.set(big);
    assert.equal(await s.get('win'), big);
  },
);

store('parts never split a surrogate pair', async () => {
  const kc = new FakeKeyring('Windows Credential Manager', 7);
  const { store: s } = storeOn(kc);
  const t = token('emoji', { region: 'eu-west-1', startUrl: 'https://😀😀😀😀😀😀.example/start' });
  await s.set(t);
  for (const v of kc.items.values()) assert.ok(!/[\ud800-\udbff]$/.test(v) && !/^[\udc00-\udfff]/.test(v));
  assert.equal(await s.get('emoji'), t);
});

store('no keychain reachable (Linux, no Secret Service): the documented fallback, noted once', async () => {
  const kc = new FakeKeyring('Secret Service');
  kc.entryError = new Error(
    'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
  );
  const { store: s, logger } = storeOn(kc);
  assert.is(await s.available(), false);
  const d = await s.describe();
  assert.is(d.available, false);
  assert.match(
    d.detail,
    /^no OS keychain reachable \(.*org\.freedesktop\.secrets.*\); tokens are kept in the AWS CLI cache only$/,
  );
  await s.set(token('work'));
  assert.is(await s.get('work'), null);
  await s.delete('work');
  await s.set(token('other'));
  // Noted once, at debug level: users hear it at sign-in and in status, not on every command.
  assert.is(logger.records.filter((r) => r.level === 'warn').length, 0);
  const notes = logger.records.filter((r) => /no OS keychain reachable/.test(r.msg));
  assert.is(notes.length, 1);
  assert.is(notes[0]?.level, 'debug');
  assert.match(notes[0]?.msg ?? '', /no OS keychain reachable .*AWS CLI cache only/);
});

store('no keychain reachable (macOS, no keychain file) is the same fallback', async () => {
  const kc = new FakeKeyring('macOS Keychain');
  kc.opError = new Error(
    "Couldn't access platform storage: No keychain is available. You may need to restart your computer.",
  );
  const { store: s } = storeOn(kc);
  assert.is(await s.get('work'), null);
  assert.is((await s.state()).state, 'unavailable');
});

for (const [platform, message, hint] of [
  [
    'Secret Service',
    "Couldn't access platform storage: Secret Service: unlock prompt was dismissed",
    /unlock your login keyring/,
  ],
  [
    'Secret Service',
    "Couldn't access platform storage: Secret Service: no result found",
    /create one if none exists/,
  ],
  [
    'macOS Keychain',
    "Couldn't access platform storage: User interaction is not allowed.",
    /unlock your login keychain/,
  ],
] as const) {
  store(`locked or denied (${platform}: ${message.slice(-30)}) is an error with what to do`, async () => {
    const kc = new FakeKeyring(platform);
    const { store: s } = storeOn(kc);
    kc.opError = new Error(message);
    const err = await rejectsWith(s.set(token('work')), KeychainLockedError);
    assert.match(
      err.message,
      new RegExp(`^${platform} is locked or refused access \\(write session "work"\\)`),
    );
    assert.match(err.hint ?? '', hint);
    await rejectsWith(s.get('work'), KeychainLockedError);
    const state = await s.state();
    assert.is(state.state, 'locked');
    assert.is(await s.available(), true, 'a locked keychain is there: the user unlocks it');
    const d = await s.describe();
    assert.is(d.available, false);
    assert.match(d.detail, hint);
    // Unlocked again: writes work and status recovers.
    kc.opError = undefined;
    await s.set(token('work'));
    assert.is((await s.state()).state, 'available');
  });
}

store('an unknown keyring failure names the operation and does not fall back silently', async () => {
  const kc = new FakeKeyring('Windows Credential Manager');
  kc.opError = new Error('Platform secure storage failure: Windows error 1312');
  const { store: s } = storeOn(kc);
  try {
    await s.set(token('work'));
    assert.unreachable();
  } catch (err) {
    assert.match(
      (err as Error).message,
      /Windows Credential Manager failed \(write session "work"\): .*1312/,
    );
  }
});

store('the real backend pins Linux to Secret Service and knows the Windows item limit', () => {
  assert.is(napiKeyringBackend('linux').name, 'Secret Service');
  assert.is(napiKeyringBackend('darwin').name, 'macOS Keychain');
  assert.is(napiKeyringBackend('win32').maxPasswordLength, 1280);
  assert.is(napiKeyringBackend('darwin').maxPasswordLength, Number.POSITIVE_INFINITY);
});

// ---------------------------------------------------------------------------------------------------------
const plugin = suite('keychain plugin');

async function engineWith(backend: KeyringBackend, settings: Partial<Settings> = {}) {
  const logger = captureLogger();
  const engine = await createEngine({
    plugins: [keychain({ backend })],
    settings: { ...DEFAULT_SETTINGS, ...settings },
    logger,
  });
  return { engine, logger };
}

plugin('provides the token store under service "stormtunnel" when settings.keychain is on', async () => {
  const kc = new FakeKeyring();
  const { engine } = await engineWith(kc);
  assert.is(engine.services.tokenStore.kind, 'keychain');
  const s = keychainStoreOf(engine.services.tokenStore);
  assert.ok(s);
  await engine.services.tokenStore.set(token('work'));
  assert.ok(kc.accounts.includes('stormtunnel/work'));
  assert.equal(engine.describePlugins(), [
    { name: 'keychain', hooks: ['signOut', 'collectStatus'], provides: ['tokenStore'] },
  ]);
});

plugin('settings.keychain off: nothing provided, status says so', async () => {
  const { engine } = await engineWith(new FakeKeyring(), { keychain: false });
  assert.is(engine.services.tokenStore.kind, 'memory');
  assert.is(keychainStoreOf(engine.services.tokenStore), undefined);
  const report = await engine.collectStatus({ profiles: [], live: false });
  assert.equal(
    report.entries.map((e) => [e.kind, e.state]),
    [['token-store', 'off']],
  );
});

plugin(
  'status says whether the keychain keeps tokens, and only that (sharing with the AWS CLI is the sso plugin’s line)',
  async () => {
    let { engine } = await engineWith(new FakeKeyring());
    let [entry] = (await engine.collectStatus({ profiles: [], live: false })).entries;
    assert.is(entry?.state, 'available');
    assert.ok(entry?.ok);
    assert.match(entry?.detail ?? '', /Fake Keychain/);
    assert.not.match(entry?.detail ?? '', /AWS CLI/);

    const gone = new FakeKeyring();
    gone.entryError = new Error(
      'Platform failure: DBus error: Failed to connect to socket /x: No such file or directory',
    );
    ({ engine } = await engineWith(gone, { shareWithAwsCli: false }));
    [entry] = (await engine.collectStatus({ profiles: [], live: false })).entries;
    assert.is(entry?.state, 'unavailable');
    assert.match(entry?.detail ?? '', /no OS keychain reachable/);

    const locked = new FakeKeyring('Secret Service');
    ({ engine } = await engineWith(locked));
    await engine.services.tokenStore.set(token('work'));
    locked.opError = new Error(
      "Couldn't access platform storage: Secret Service: unlock prompt was dismissed",
    );
    [entry] = (await engine.collectStatus({ profiles: [], live: false })).entries;
    assert.is(entry?.state, 'locked');
    assert.is(entry?.ok, false);
  },
);

plugin('sign-out clears the session, or every session with --all', async () => {
  const kc = new FakeKeyring('Windows Credential Manager', 1280);
  const { engine } = await engineWith(kc);
  const ts = engine.services.tokenStore;
  for (const s of ['a', 'b', 'c'])
    await ts.set(token(s, { accessToken: long('A'), refreshToken: long('R') }));
  await engine.signOut({ session: 'b' });
  assert.is(await ts.get('b'), null);
  assert.ok(await ts.get('a'));
  assert.equal(await keychainStoreOf(ts)?.sessions(), ['a', 'c']);
  await engine.signOut({ all: true });
  assert.is(await ts.get('a'), null);
  assert.is(await ts.get('c'), null);
  assert.is(kc.items.size, 0, 'no item, part or index left');
});

plugin('a locked keychain makes sign-out report what is left to do', async () => {
  const kc = new FakeKeyring('Secret Service');
  const { engine } = await engineWith(kc);
  await engine.services.tokenStore.set(token('a'));
  kc.opError = new Error("Couldn't access platform storage: Secret Service: unlock prompt was dismissed");
  try {
    await engine.signOut({ session: 'a' });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /sign-out was incomplete: Secret Service is locked/);
  }
});

plugin('bad options fail when the config loads', () => {
  assert.throws(
    () => keychain({ service: '' }),
    (e: unknown) => e instanceof PluginOptionsError,
  );
  assert.throws(
    () => keychain({ backend: 'nope' } as never),
    (e: unknown) => e instanceof PluginOptionsError && /backend: expected a KeyringBackend/.test(e.message),
  );
});

// ---------------------------------------------------------------------------------------------------------
// Real Secret Service: only on the private bus scripts/run-tests.mjs starts, never the user's own keyring.
const secretService = suite('keychain on the Secret Service (gnome-keyring)');
const hasSecretService =
  process.platform === 'linux' &&
  process.env.STORMTUNNEL_TEST_DBUS === '1' &&
  commandExists('gnome-keyring-daemon') &&
  commandExists('secret-tool');
const withSecretService = testIf(
  secretService,
  hasSecretService,
  'gnome-keyring, secret-tool and the private D-Bus session of scripts/run-tests.mjs',
);
const SERVICE = `stormtunnel-test-${process.pid}`;

function secretTool(...args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync('secret-tool', args, { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout };
}

withSecretService('stores, reads, isolates and clears real entries that secret-tool sees', async () => {
  const { store: s, logger } = storeOn(napiKeyringBackend(), SERVICE);
  assert.is((await s.state()).state, 'available');
  assert.equal(await s.describe(), { available: true, detail: `Secret Service (service "${SERVICE}")` });
  const a = token('work');
  const b = token('play');
  await s.set(a);
  await s.set(b);
  assert.equal(await s.get('work'), a);
  assert.equal(await s.get('play'), b);

  // secret-tool reads our JSON under attributes service + username.
  const seen = secretTool('lookup', 'service', SERVICE, 'username', 'work');
  assert.is(seen.status, 0);
  const record = JSON.parse(seen.stdout) as Record<string, unknown>;
  assert.is(record.session, 'work');
  assert.is(record.accessToken, a.accessToken);
  assert.is(record.refreshToken, a.refreshToken);
  assert.is(record.clientSecret, a.clientSecret);
  assert.is(record.expiresAt, a.expiresAt.toISOString());
  assert.is(
    (JSON.parse(secretTool('lookup', 'service', SERVICE, 'username', 'play').stdout) as StoredToken)
      .accessToken,
    b.accessToken,
  );
  assert.is(
    secretTool('lookup', 'service', `${SERVICE}-index`, 'username', 'sessions').stdout,
    '["work","play"]',
  );

  await s.delete('work');
  assert.is(await s.get('work'), null);
  assert.is(secretTool('lookup', 'service', SERVICE, 'username', 'work').status, 1);
  assert.equal(await s.get('play'), b, 'the other session is untouched');
  await s.delete('play');
  assert.is(secretTool('lookup', 'service', `${SERVICE}-index`, 'username', 'sessions').status, 1);
  assert.is(logger.records.length, 0);
});

withSecretService(
  'a record split into parts round-trips on the real keyring, and sign-out --all clears it',
  async () => {
    const backend: KeyringBackend = { ...napiKeyringBackend(), maxPasswordLength: 1280 };
    const logger = captureLogger();
    const engine = await createEngine({
      plugins: [keychain({ backend, service: SERVICE })],
      settings: DEFAULT_SETTINGS,
      logger,
    });
    const big = token('parted', { accessToken: long('A'), refreshToken: long('R'), clientSecret: long('S') });
    await engine.services.tokenStore.set(big);
    await engine.services.tokenStore.set(token('small'));
    assert.equal(await engine.services.tokenStore.get('parted'), big);
    assert.is(secretTool('lookup', 'service', `${SERVICE}-part`, 'username', 'parted#1').status, 0);
    await engine.signOut({ all: true });
    for (const [svc, user] of [
      [SERVICE, 'parted'],
      [SERVICE, 'small'],
      [`${SERVICE}-part`, 'parted#1'],
      [`${SERVICE}-index`, 'sessions'],
    ] as const) {
      assert.is(secretTool('lookup', 'service', svc, 'username', user).status, 1, `${svc}/${user} is gone`);
    }
  },
);

// ---------------------------------------------------------------------------------------------------------
// No Secret Service: the real binding on a bus address that leads nowhere, in a child process.
const fallback = suite('keychain without a Secret Service');
const withLinux = testIf(fallback, process.platform === 'linux', 'the D-Bus fallback is Linux behaviour');

function runChild(
  env: NodeJS.ProcessEnv,
  wrapper: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [cmd = process.execPath, ...pre] = [...wrapper, process.execPath];
    const child = spawn(cmd, [...pre, '--import', 'tsx', 'test/plugins/keychain-fallback.child.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

withLinux('describe() says unavailable, get is null, set and delete do not throw, noted once', async () => {
  const r = await runChild({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/stormtunnel-test-bus' });
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    available: boolean;
    describe: { available: boolean; detail: string };
    get: unknown;
    status: { state: string; detail: string };
    warnings: string[];
    notes: string[];
  };
  assert.is(out.available, false);
  assert.is(out.describe.available, false);
  assert.match(
    out.describe.detail,
    /^no OS keychain reachable \(.*nonexistent.*\); tokens are kept in the AWS CLI cache only$/,
  );
  assert.is(out.get, null);
  assert.is(out.status.state, 'unavailable');
  assert.is(out.warnings.length, 0, 'no warning on every command: said at sign-in and in status');
  assert.is(out.notes.length, 1);
  assert.not.match(r.stdout + r.stderr, /aoa-fallback/);
});

const withPrivateBus = testIf(
  fallback,
  hasSecretService && commandExists('dbus-run-session'),
  'dbus-run-session and gnome-keyring',
);

withPrivateBus(
  'a real keyring with no unlocked collection is reported as locked, with what to do',
  async () => {
    // A fresh HOME: gnome-keyring starts on demand without a login keyring, and no prompt can appear.
    const home = mkdtempSync(join(tmpdir(), 'stormtunnel-nokeyring-'));
    try {
      const r = await runChild({ HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home }, [
        'dbus-run-session',
        '--',
      ]);
      const out = JSON.parse(r.stdout) as {
        setError?: { name: string; message: string; hint?: string };
        describe: { available: boolean; detail: string };
        status: { state: string; ok: boolean };
      };
      assert.is(out.setError?.name, 'KeychainLockedError');
      assert.match(
        out.setError?.message ?? '',
        /^Secret Service is locked or refused access \(write session "fallback"\)/,
      );
      assert.match(out.setError?.hint ?? '', /unlock your login keyring/);
      assert.not.match(r.stdout, /aoa-fallback/);
      assert.is(out.describe.available, false);
      assert.is(out.status.state, 'locked');
      assert.is(out.status.ok, false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
);

store.run();
plugin.run();
secretService.run();
fallback.run();
