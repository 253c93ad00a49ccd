// Issue 5 end to end: one `stormtunnel up` with 10 tunnels and 20 `stormtunnel credential-process`
// processes all need the same expired (but refreshable) SSO token at the same moment: exactly ONE refresh
// (CreateToken, refresh_token grant) reaches IAM Identity Center, and nobody signs in. Then the same with a
// refresh window (earlyRefreshThreshold) longer than the token lifetime, where "fresh" never holds and only
// "the token changed while I waited" keeps the waiters from refreshing in turn.
//
// "At the same moment" is made exact: the test holds the token's cross-process lock itself until every
// process is queued on it (seen by the lock attempts they make in the cache folder), then lets go.
import { spawnSync } from 'node:child_process';
import { watch, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tokenCacheKey, withTokenLock } from '../../src/aws/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { runCli } from '../helpers/cli.js';
import { echoThrough, data, sha256, startEchoServer, type TcpServer } from '../tunnels/helpers.js';
import { commandExists } from '../helpers/system.js';
import {
  countRequests,
  spawnCli,
  ssoConfig,
  uniqueSession,
  waitFor,
  withTimeout,
  type Proc,
} from './helpers.js';

const TUNNELS = 10;
const CREDENTIAL_PROCESSES = 20;

const test = suite('refresh storm');
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const session = uniqueSession('storm');
const key = tokenCacheKey({ ssoSessionName: session });

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = testAwsHome({ config: ssoConfig(emu.startUrl, session), emulatorEnv: emu.env() });
  echo = await startEchoServer();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-storm-'));
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
});
test.after(async () => {
  await echo.close();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const count = (operation: string, grant?: string) => countRequests(emu, operation, grant);

/** Sign in with a token that lives 1 s (the refresh token, the sign-in session, lives 8 h); wait it out. */
async function signInExpired(): Promise<void> {
  emu.admin.setSettings({ accessTokenSeconds: 1 });
  const login = await runCli(['login', '--profile', 'dev', '--use-device-code', '--no-browser'], {
    cwd: dir,
    env,
    timeoutMs: 60_000,
  });
  emu.admin.setSettings({ accessTokenSeconds: 3600 });
  assert.is(login.code, 0, login.stderr);
  const cached = JSON.parse(readFileSync(join(home.cacheDir, `${key}.json`), 'utf8')) as {
    expiresAt: string;
    refreshToken?: string;
  };
  assert.ok(cached.refreshToken, 'refreshable');
  const expiresAt = Date.parse(cached.expiresAt);
  await waitFor(
    () => Date.now() > expiresAt + 50,
    5000,
    () => 'the 1-second token to expire',
  );
}

/**
 * One `up` with TUNNELS tunnels and `credentialProcesses` credential-process, all queued on the token lock
 * before any of them may refresh; checks what they got and returns how many were queued.
 */
async function storm(label: string, credentialProcesses: number, settings: object): Promise<number> {
  const cwd = join(dir, label);
  mkdirSync(cwd);
  // In the working folder: `up` is given it, credential-process finds it there.
  const config = join(cwd, 'stormtunnel.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tunnels: Array.from({ length: TUNNELS }, (_, i) => ({
        name: `t${i}`,
        profile: 'dev',
        region: 'us-east-1',
        target: 'i-0123456789abcdef0',
        remotePort: echo.port,
        localPort: 0,
      })),
      // Not about notifications: keep the shared session bus of the test run quiet.
      settings: { notifications: false, ...settings },
    }),
  );
  emu.admin.clearRequests();
  // Lock attempts of a waiter: `<key>.json.lock.<pid>.<hex>.tmp`, made and removed every few ms.
  const attempt = new RegExp(`^${key}\\.json\\.lock\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  const waiting = new Set<number>();
  const watcher = watch(home.cacheDir, (_event, name) => {
    const m = name ? attempt.exec(name.toString()) : null;
    if (m) waiting.add(Number(m[1]));
  });
  const procs: Proc[] = [];
  let up: Proc | undefined;
  try {
    let queued = 0;
    await withTokenLock(
      key,
      async () => {
        up = spawnCli(['--config', config, 'up', '--no-sign-in'], { cwd, env, killAfterMs: 150_000 });
        for (let i = 0; i < credentialProcesses; i++) {
          procs.push(
            spawnCli(['credential-process', '--profile', 'dev'], { cwd, env, killAfterMs: 150_000 }),
          );
        }
        const pids = new Set([up, ...procs].map((p) => p.child.pid));
        const inQueue = () => [...pids].filter((pid) => pid !== undefined && waiting.has(pid)).length;
        // Until every process is queued, but well inside the 30 s a waiter waits for the lock: at most 15 s
        // after the first one queued (starting many Node processes on a busy 2-core machine takes a while).
        await waitFor(
          () => inQueue() > 0,
          60_000,
          () => `a process to queue on the lock\n${up?.stderr()}`,
        );
        const end = Date.now() + 15_000;
        while (inQueue() < pids.size && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
        queued = inQueue();
        assert.is(count('CreateToken'), 0, 'nobody got past the lock');
      },
      { env, timeoutMs: 5000 },
    );
    assert.ok(queued >= 2, `a herd formed on the lock: ${queued} processes queued`);
    watcher.close();

    const outputs = await withTimeout(
      Promise.all(procs.map(async (p) => ({ code: await p.exited, out: p.stdout(), err: p.stderr() }))),
      90_000,
      'credential-process to finish',
    );
    for (const o of outputs) {
      assert.is(o.code, 0, o.err);
      const j = JSON.parse(o.out) as { Version: number; AccessKeyId: string; AccountId?: string };
      assert.is(j.Version, 1);
      assert.is(j.AccountId, '111111111111');
    }
    const u = up!;
    await waitFor(
      () => (u.stdout().match(/^tunnel t\d+: ready/gm) ?? []).length === TUNNELS,
      90_000,
      () => `all tunnels ready; got:\n${u.stdout()}${u.stderr()}`,
    );
    // Every tunnel carries bytes.
    const ports = [...u.stdout().matchAll(/^tunnel t\d+: ready 127\.0\.0\.1:(\d+) ->/gm)].map((m) =>
      Number(m[1]),
    );
    assert.is(ports.length, TUNNELS);
    const payload = data(64 * 1024);
    for (const port of ports) assert.is(await echoThrough(port, payload, 30_000), sha256(payload));

    assert.is(count('StartDeviceAuthorization'), 0, 'no device sign-in');
    assert.is(count('Authorize'), 0, 'no browser sign-in');
    assert.is(count('GetRoleCredentials'), credentialProcesses + 1, 'one per process');

    // On the Secret Service of the test run (when there is one), the keychain has the refreshed token too.
    const newToken = (
      JSON.parse(readFileSync(join(home.cacheDir, `${key}.json`), 'utf8')) as { accessToken: string }
    ).accessToken;
    if (process.env.STORMTUNNEL_TEST_DBUS === '1' && commandExists('secret-tool')) {
      const r = spawnSync('secret-tool', ['lookup', 'service', 'stormtunnel', 'username', session], {
        encoding: 'utf8',
        timeout: 15_000,
      });
      assert.is(r.status, 0, 'the keychain has the session');
      assert.is((JSON.parse(r.stdout) as { accessToken: string }).accessToken, newToken);
    }

    assert.is(await u.stop(), 0, u.stderr());
    assert.match(u.stdout(), /stopped\n$/);
    return queued;
  } finally {
    watcher.close();
    await Promise.all([...procs, ...(up ? [up] : [])].map((p) => p.stop(2000)));
  }
}

test(`${TUNNELS} tunnels and ${CREDENTIAL_PROCESSES} credential-process need an expired token at once: one refresh, no sign-in`, async () => {
  await signInExpired();
  await storm('expired', CREDENTIAL_PROCESSES, {});
  assert.is(count('CreateToken', 'refresh_token'), 1, 'exactly one refresh');
  assert.is(count('CreateToken'), 1, 'no other token request');
});

test('a refresh window longer than the token lifetime: still one refresh for those that waited together', async () => {
  // Hour-long tokens are never "fresh" with a 2-hour window: each process would refresh in turn unless it
  // sees that the token changed while it waited for the lock.
  const queued = await storm('window', 6, { earlyRefreshThreshold: '2h' });
  const refreshes = count('CreateToken', 'refresh_token');
  // A process that came after the others had gone (not queued) rightly refreshes a token that is not fresh.
  assert.ok(refreshes >= 1 && refreshes <= 1 + (7 - queued), `refreshes: ${refreshes}, queued: ${queued}/7`);
  assert.is(count('CreateToken'), refreshes, 'no other token request');
});

test.run();
