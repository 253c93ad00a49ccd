// The background service on a desktop: detached by `stormtunnel start`, with its own stdio and no terminal,
// it still shows the desktop notification when a sign-in expires and cannot be refreshed (a real Notify call on
// a session bus of this file, reached through the DBUS_SESSION_BUS_ADDRESS `start` passes on), and it notices
// a wake (the process frozen with SIGSTOP, as a suspended machine's timers are) by checking its sign-ins and
// its tunnels at once. Temporary HOME and XDG_STATE_HOME; every service is stopped, checked by process group.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { instanceOf } from '../../src/service/instance.js';
import { queryRunningUp } from '../../src/tunnel-control/index.js';
import type { TunnelStatus } from '../../src/engine/types.js';
import { runCli } from '../helpers/cli.js';
import { startNotificationRecorder } from '../helpers/notification-recorder.js';
import { testIf } from '../helpers/system.js';
import { data, echoThrough, sha256, type TcpServer } from '../tunnels/helpers.js';
import {
  countRequests,
  privateBusAvailable,
  ssoConfig,
  uniqueSession,
  waitFor,
  startDesktopHarness,
  type DesktopHarness,
} from '../e2e/helpers.js';

const base = suite('background service on a desktop');
const test = testIf(base, privateBusAvailable, 'dbus-daemon, gnome-keyring, secret-tool, notify-send');

let desktop: DesktopHarness | undefined;
let emu: RunningEmulator;
let echo: TcpServer;
let dir: string;
let env: NodeJS.ProcessEnv;
let browserMarker: string;
const session = uniqueSession('svc');
const groups = new Set<number>();

base.before(async () => {
  desktop = await startDesktopHarness('stormtunnel-svc-desktop-', (e) => ssoConfig(e.startUrl, session));
  ({ emu, echo, dir, env, browserMarker } = desktop);
});
base.after(async () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGCONT');
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await desktop?.close();
});

function writeConfig(name: string, settings: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      tunnels: [
        {
          name: 'db',
          profile: 'dev',
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

const cli = (args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 120_000 });
const login = () => cli(['login', '--profile', 'dev', '--use-device-code', '--no-browser']);
const refreshes = () => countRequests(emu, 'CreateToken', 'refresh_token');

/** Starts the service of `config`; returns its pid (the process group `start` made). */
async function start(config: string): Promise<number> {
  const r = await cli(['--config', config, 'start']);
  for (const p of (await queryRunningUp(env))?.processes ?? []) groups.add(p.pid);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^tunnel db: ready /m);
  return Number(/started \(pid (\d+)\)/.exec(r.stderr)?.[1]);
}

async function db(): Promise<TunnelStatus | undefined> {
  return (await queryRunningUp(env))?.tunnels.find((t) => t.name === 'db');
}

const logOf = (config: string) => readFileSync(instanceOf(config, env).logFile, 'utf8');

test('a sign-in that cannot be refreshed: the detached service shows ONE desktop notification, opens no browser', async () => {
  const recorder = await startNotificationRecorder();
  const config = writeConfig('expiring.config.json', {
    earlyRefreshThreshold: '4s',
    refreshCheckInterval: '1s',
  });
  try {
    // Short-lived tokens that the service's monitor refreshes (4 s before expiry, checked every second).
    emu.admin.setSettings({ accessTokenSeconds: 8, roleCredentialSeconds: 240 });
    const first = await login();
    assert.is(first.code, 0, first.stderr);
    emu.admin.clearRequests();
    await start(config);
    await waitFor(
      () => refreshes() >= 1,
      30_000,
      () => `a silent refresh by the service\n${logOf(config).slice(-2000)}`,
    );
    assert.is(recorder.calls.length, 0, 'no notification while refreshes work');

    // The sign-in ends server-side: the service's next refresh is refused.
    emu.admin.revokeTokens({ all: true });
    await recorder.waitFor(1, 30_000);
    const [call] = recorder.calls;
    assert.is(call?.summary, 'SSO Authentication Required');
    assert.is(
      call?.body,
      `Sign-in for ${session} expired: run \`stormtunnel login --sso-session ${session}\``,
    );
    assert.is(call?.appName, 'stormtunnel');
    // The log says it too (the service's stderr), and nothing tried to sign in without a person there.
    await waitFor(
      () => /SSO Authentication Required/.test(logOf(config)),
      10_000,
      () => `the warning in the service log\n${logOf(config).slice(-2000)}`,
    );
    assert.not.ok(existsSync(browserMarker), 'the service never opened a browser');
    assert.is(countRequests(emu, 'StartDeviceAuthorization'), 0, 'no device sign-in either');

    const stopped = await cli(['--config', config, 'stop']);
    assert.is(stopped.code, 0, stopped.stderr);
    assert.is(recorder.calls.length, 1, 'exactly one Notify call');
  } finally {
    emu.admin.setSettings({ accessTokenSeconds: 3600, roleCredentialSeconds: 3600 });
    await recorder.close();
  }
});

test('after a freeze longer than the wake threshold the service checks its sign-ins and its tunnel at once', async () => {
  const first = await login();
  assert.is(first.code, 0, first.stderr);
  // Every check refreshes (the threshold is above the 1 h token lifetime), and the periodic check is an
  // hour away: a refresh after the freeze can only come from the wake.
  const config = writeConfig('wake.config.json', {
    earlyRefreshThreshold: '2h',
    refreshCheckInterval: '1h',
  });
  const pid = await start(config);
  const before = await db();
  assert.ok(before?.sessionId, 'the tunnel has a session');
  const refreshed = refreshes();
  const resumed = countRequests(emu, 'ResumeSession');

  // The lid closes: the process stops (its timers with it) and its connection goes silent meanwhile.
  process.kill(-pid, 'SIGSTOP');
  emu.admin.freezeSession(before.sessionId);
  // The stimulus, not a wait for an event: a sleep of 16 s is what the detector must see (a 5 s timer that
  // fires 10 s or more late, src/engine/wake-detector.ts).
  await new Promise((r) => setTimeout(r, 16_000));
  process.kill(-pid, 'SIGCONT');

  await waitFor(
    () => /woke after about \d+ s away: checking sign-ins and tunnels/.test(logOf(config)),
    30_000,
    () => `the wake in the service log\n${logOf(config).slice(-2000)}`,
  );
  await waitFor(
    () => refreshes() > refreshed,
    30_000,
    () => `a token check after the wake\n${logOf(config).slice(-2000)}`,
  );
  await waitFor(
    () => countRequests(emu, 'ResumeSession') > resumed,
    30_000,
    () => `the silent connection resumed\n${logOf(config).slice(-2000)}`,
  );
  let after = await db();
  for (const end = Date.now() + 30_000; after?.state !== 'ready'; after = await db()) {
    if (Date.now() > end) assert.unreachable(`ready again: ${JSON.stringify(after)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.is(after?.sessionId, before.sessionId, 'the same session, resumed');
  const port = Number(after?.localAddress?.split(':').pop());
  const payload = data(64 * 1024);
  assert.is(await echoThrough(port, payload, 30_000), sha256(payload));

  const stopped = await cli(['--config', config, 'stop']);
  assert.is(stopped.code, 0, stopped.stderr);
});

base.run();
