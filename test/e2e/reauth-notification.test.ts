// Issue 6's "done when", end to end with real processes: signed in (token in the Secret Service, as
// secret-tool sees it, and in the AWS CLI cache), `stormtunnel up --no-sign-in` on a terminal runs a tunnel;
// the sign-in is revoked and the short-lived token needs a refresh -> exactly ONE desktop notification
// ("SSO Authentication Required", a real Notify call on the session bus); `stormtunnel login` in another
// process -> `up` notices through its monitor and the tunnel carries bytes again. `up` never opens a browser.
//
// Everything D-Bus runs on a session bus of this file alone, with its own gnome-keyring and a recording
// org.freedesktop.Notifications: the suite's shared bus is used by other test files at the same time.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tokenCacheKey } from '../../src/aws/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { queryRunningUp } from '../../src/tunnel-control/index.js';
import type { TunnelStatus } from '../../src/engine/types.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { runCli } from '../helpers/cli.js';
import { startNotificationRecorder, type NotificationRecorder } from '../helpers/notification-recorder.js';
import { commandExists, testIf } from '../helpers/system.js';
import { data, echoThrough, sha256, type TcpServer } from '../tunnels/helpers.js';
import {
  countRequests,
  privateBusAvailable,
  spawnCliInPty,
  ssoConfig,
  ssoProfile,
  uniqueSession,
  waitFor,
  withTimeout,
  type PtyProc,
  startDesktopHarness,
  type DesktopHarness,
} from './helpers.js';

const base = suite('re-authentication notification');
const test = testIf(
  base,
  privateBusAvailable && commandExists('script'),
  'dbus-daemon, gnome-keyring, secret-tool, notify-send (libnotify-bin) and util-linux script',
);

let desktop: DesktopHarness | undefined;
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;
let env: NodeJS.ProcessEnv;
let browserMarker: string;
const session = uniqueSession('reauth');
const other = uniqueSession('other');
const third = uniqueSession('third');

base.before(async () => {
  // Two more sessions, never signed in: for the --no-sign-in checks and for a sign-in elsewhere.
  desktop = await startDesktopHarness(
    'stormtunnel-reauth-',
    (e) =>
      ssoConfig(e.startUrl, session) +
      ssoProfile('other', other, e.startUrl) +
      ssoProfile('third', third, e.startUrl),
  );
  ({ emu, home, echo, dir, env, browserMarker } = desktop);
});
base.after(async () => {
  await desktop?.close();
});

const count = (operation: string, grant?: string) => countRequests(emu, operation, grant);

function writeConfig(name: string, profile: string, settings: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      tunnels: [
        {
          name: 'db',
          profile,
          region: 'us-east-1',
          target: 'i-0123456789abcdef0',
          remotePort: echo.port,
          localPort: 0,
        },
      ],
      settings,
    }),
  );
  return file;
}

/** The tunnel as the running `up` reports it over its control socket. */
async function tunnelStatus(): Promise<{ pid: number; db: TunnelStatus | undefined } | undefined> {
  const running = await queryRunningUp(env);
  const p = running?.processes[0];
  return p ? { pid: p.pid, db: p.tunnels.find((t) => t.name === 'db') } : undefined;
}

async function waitForState(up: PtyProc, state: string, ms: number): Promise<TunnelStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await tunnelStatus();
    if (s?.db?.state === state) return s.db;
    if (Date.now() > end) {
      throw new Error(
        `tunnel db not ${state} within ${ms} ms (now ${s?.db?.state ?? 'no up'}: ${s?.db?.detail ?? ''})\n${up.text().slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ctrl-C to the `up` inside the terminal; resolves with the exit code. */
async function interrupt(up: PtyProc): Promise<number | null> {
  const s = await tunnelStatus();
  if (s) process.kill(s.pid, 'SIGINT');
  else up.child.kill('SIGKILL');
  const code = await withTimeout(up.exited, 30_000, 'up to exit').catch(() => null);
  up.child.kill('SIGKILL');
  return code;
}

function secretToolLookup(account: string): { status: number | null; stdout: string } {
  const r = spawnSync('secret-tool', ['lookup', 'service', 'stormtunnel', 'username', account], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout };
}

const login = (profile: string) =>
  runCli(['login', '--profile', profile, '--use-device-code', '--no-browser'], {
    cwd: dir,
    env,
    timeoutMs: 60_000,
  });

test('revoked sign-in: ONE notification; `stormtunnel login` elsewhere brings the tunnel back', async () => {
  const recorder: NotificationRecorder = await startNotificationRecorder();
  let up: PtyProc | undefined;
  try {
    // Short-lived tokens (refreshed 4 s before expiry, checked every second) and role credentials under
    // the 5-minute margin, so every new session needs the SSO token.
    emu.admin.setSettings({ accessTokenSeconds: 8, roleCredentialSeconds: 240 });
    const first = await login('dev');
    assert.is(first.code, 0, first.stderr);

    // In the Secret Service (as secret-tool sees it) and in the AWS CLI cache: the same token.
    const cacheFile = join(home.cacheDir, `${tokenCacheKey({ ssoSessionName: session })}.json`);
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as {
      accessToken: string;
      refreshToken: string;
    };
    const found = secretToolLookup(session);
    assert.is(found.status, 0, 'secret-tool finds the session');
    const stored = JSON.parse(found.stdout) as Record<string, string>;
    assert.is(stored.session, session);
    assert.is(stored.accessToken, cached.accessToken);
    assert.is(stored.refreshToken, cached.refreshToken);

    const config = writeConfig('dev.config.json', 'dev', {
      earlyRefreshThreshold: '4s',
      refreshCheckInterval: '1s',
    });
    emu.admin.clearRequests();
    up = spawnCliInPty(['--config', config, 'up', '--no-sign-in'], { cwd: dir, env });
    const ready = await waitForState(up, 'ready', 40_000);
    const port = Number(ready.localAddress?.split(':').pop());
    const payload = data(256 * 1024);
    assert.is(await echoThrough(port, payload, 30_000), sha256(payload));
    // The monitor refreshes the 8-second token silently.
    await waitFor(
      () => count('CreateToken', 'refresh_token') >= 1,
      20_000,
      () => `a silent refresh\n${up?.text().slice(-2000)}`,
    );
    assert.is(recorder.calls.length, 0, 'no notification while refreshes work');

    // The sign-in ends server-side: the next refresh is refused.
    emu.admin.revokeTokens({ all: true });
    await recorder.waitFor(1, 20_000);
    // Make the tunnel need the token: its session ends, the new one needs role credentials.
    const sessionId = ready.sessionId ?? (await tunnelStatus())?.db?.sessionId;
    assert.ok(sessionId, 'the tunnel has a session');
    emu.admin.terminateSession(sessionId, 'ended by the test');
    const waiting = await waitForState(up, 'waiting-for-sign-in', 30_000);
    assert.match(waiting.detail ?? '', /SSO Authentication Required/);
    // Past the token's expiry and several monitor checks later, still one notification.
    const cachedNow = JSON.parse(readFileSync(cacheFile, 'utf8')) as { expiresAt: string };
    const expiry = Date.parse(cachedNow.expiresAt);
    await waitFor(
      () => Date.now() > expiry + 3000,
      15_000,
      () => 'the token to expire',
    );
    assert.is(recorder.calls.length, 1, 'exactly one Notify call');
    // A refused refresh token is not tried again on every check: the monitor's try, and at most what the
    // tunnel's new session tried when the portal refused the token (a retry every check would be 7 or more).
    const refused = emu
      .requests()
      .filter(
        (r) => r.operation === 'CreateToken' && r.params.grantType === 'refresh_token' && r.status !== 200,
      );
    assert.ok(refused.length >= 1 && refused.length <= 3, `refused refreshes: ${refused.length}`);
    const [call] = recorder.calls;
    assert.is(call?.summary, 'SSO Authentication Required');
    assert.is(
      call?.body,
      `Sign-in for ${session} expired: run \`stormtunnel login --sso-session ${session}\``,
    );
    assert.is(call?.appName, 'stormtunnel');

    // A sign-in in another process (tokens are back to an hour). A tunnel waiting for a sign-in comes back
    // only on onTokenChanged, and in `up` only its monitor can see another process's sign-in ("external").
    emu.admin.setSettings({ accessTokenSeconds: 3600, roleCredentialSeconds: 3600 });
    const second = await login('dev');
    assert.is(second.code, 0, second.stderr);
    const back = await waitForState(up, 'ready', 30_000);
    assert.is(back.localAddress, ready.localAddress, 'the same local port');
    assert.is.not(back.sessionId, sessionId, 'a new session');
    assert.is(await echoThrough(port, payload, 30_000), sha256(payload));

    assert.is(recorder.calls.length, 1, 'still exactly one Notify call');
    assert.not.ok(existsSync(browserMarker), 'up never opened a browser');
    const shown = up.text();
    assert.not.match(shown, /confirm the code|in your browser/, 'up never started a sign-in');
    assert.is(await interrupt(up), 0, up.text().slice(-3000));
    up = undefined;
  } finally {
    if (up) await interrupt(up);
    emu.admin.setSettings({ accessTokenSeconds: 3600, roleCredentialSeconds: 3600 });
    await recorder.close();
  }
});

test('not signed in: `up --no-sign-in` on a terminal waits and opens no browser; without the flag it opens one', async () => {
  const recorder = await startNotificationRecorder();
  const config = writeConfig('other.config.json', 'other', {});
  let up: PtyProc | undefined;
  try {
    emu.admin.clearRequests();
    up = spawnCliInPty(['--config', config, 'up', '--no-sign-in'], { cwd: dir, env });
    const waiting = await waitForState(up, 'waiting-for-sign-in', 40_000);
    assert.match(waiting.detail ?? '', /not signed in/);
    await recorder.waitFor(1, 15_000);
    assert.is(recorder.calls[0]?.summary, 'SSO Authentication Required');
    assert.is(await interrupt(up), 0, up.text().slice(-3000));
    up = undefined;
    assert.not.ok(existsSync(browserMarker), 'no browser');
    assert.is(count('RegisterClient') + count('StartDeviceAuthorization') + count('Authorize'), 0);

    // The same on a terminal without the flag: a browser sign-in starts (so the check above means something).
    up = spawnCliInPty(['--config', config, 'up'], { cwd: dir, env });
    await waitFor(
      () => existsSync(browserMarker),
      40_000,
      () => `a browser to open\n${up?.text().slice(-3000)}`,
    );
    assert.match(readFileSync(browserMarker, 'utf8'), new RegExp(`^${emu.url}/authorize\\?`));
  } finally {
    if (up) await interrupt(up);
    rmSync(browserMarker, { force: true });
    await recorder.close();
  }
});

test('never signed in: the port listens while `up` waits; `login` in another terminal brings the tunnel back and serves the waiting connection', async () => {
  const recorder = await startNotificationRecorder();
  const config = writeConfig('third.config.json', 'third', { refreshCheckInterval: '1s' });
  let up: PtyProc | undefined;
  try {
    up = spawnCliInPty(['--config', config, 'up', '--no-sign-in'], { cwd: dir, env });
    const waiting = await waitForState(up, 'waiting-for-sign-in', 40_000);
    assert.match(waiting.detail ?? '', /not signed in/);
    assert.not.match(waiting.detail ?? '', /expired/);
    // What the warning and the notification say is true: nothing expired, the session was never signed in.
    await recorder.waitFor(1, 15_000);
    assert.is(
      recorder.calls[0]?.body,
      `Not signed in to ${third}: run \`stormtunnel login --sso-session ${third}\``,
    );
    let address = waiting.localAddress;
    for (let i = 0; i < 150 && !address; i++) {
      await new Promise((r) => setTimeout(r, 100));
      address = (await tunnelStatus())?.db?.localAddress;
    }
    assert.ok(address, `the port listens while waiting\n${up.text().slice(-2000)}`);
    const port = Number(address.split(':').pop());
    // A client connects now: it is accepted and waits for the sign-in instead of being refused.
    const payload = data(64 * 1024);
    const served = echoThrough(port, payload, 60_000).catch((e: Error) => e.message);
    const signedIn = await login('third');
    assert.is(signedIn.code, 0, signedIn.stderr);
    const back = await waitForState(up, 'ready', 30_000);
    assert.is(Number(back.localAddress?.split(':').pop()), port, 'the same port');
    assert.is(await served, sha256(payload), 'the connection made while waiting is served');
    assert.not.ok(existsSync(browserMarker), 'up never opened a browser');
    assert.is(await interrupt(up), 0, up.text().slice(-3000));
    up = undefined;
  } finally {
    if (up) await interrupt(up);
    await recorder.close();
  }
});

base.run();
