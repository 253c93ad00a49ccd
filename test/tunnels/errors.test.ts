// Tunnels that cannot run: one clear line each (the tunnel's state detail), the other tunnels keep running.
import { createServer, type AddressInfo } from 'node:net';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../src/engine/plugin.js';
import {
  data,
  echoThrough,
  EMULATOR_STATE_WITH_DENIED_USER,
  freePort,
  localPort,
  OFFLINE,
  sha256,
  startAll,
  statusOf,
  tunnel,
  tunnelSuite,
  waitFor,
  withTimeout,
  world,
  type World,
} from './helpers.js';

const { test, echo } = tunnelSuite('tunnel failures');

async function assertStillWorks(w: World, set: Awaited<ReturnType<typeof startAll>>, name: string) {
  assert.is(statusOf(set, name).state, 'ready');
  const p = data(512 * 1024);
  assert.is(await echoThrough(localPort(set, name), p), sha256(p));
  void w;
}

test('the target refuses the port: that connection is closed with a warning, the tunnel stays ready', async () => {
  const refused = await freePort();
  const w = await world([tunnel('dead', refused)]);
  const set = await startAll(w);
  assert.is(statusOf(set, 'dead').state, 'ready');
  const err = await echoThrough(localPort(set, 'dead'), data(1000), 10_000).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(err?.message ?? 'the transfer succeeded', /closed after 0\/1000|ECONNRESET/);
  await waitFor(
    () => w.logs.some((l) => l.level === 'warn' && /refused the connection to port/.test(l.msg)),
    5000,
    'a warning',
  );
  assert.is(statusOf(set, 'dead').state, 'ready');
});

test('agent offline, unknown instance, denied, port in use: one clear line each, the others keep running', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as AddressInfo).port;
  try {
    const w = await world(
      [
        tunnel('ok', echo.port),
        tunnel('offline', echo.port, { target: OFFLINE }),
        tunnel('unknown', echo.port, { target: 'i-0000000000000dead' }),
        tunnel('denied', echo.port, { profile: 'denied' }),
        tunnel('busy', echo.port, { localPort: taken }),
      ],
      { emulator: { state: EMULATOR_STATE_WITH_DENIED_USER } },
    );
    const set = await startAll(w);
    for (const n of ['offline', 'unknown', 'denied', 'busy']) assert.is(statusOf(set, n).state, 'failed', n);
    assert.match(
      statusOf(set, 'offline').detail ?? '',
      /^Target Unavailable: i-0deadbeefdeadbeef is not connected/,
    );
    assert.match(
      statusOf(set, 'unknown').detail ?? '',
      /^Target Unavailable: i-0000000000000dead is not connected/,
    );
    assert.match(
      statusOf(set, 'denied').detail ?? '',
      /^Contact AWS Administrator: ssm:StartSession was denied/,
    );
    assert.match(
      statusOf(set, 'busy').detail ?? '',
      /^Invalid Input: local port \d+ on 127\.0\.0\.1 is already in use by another program; pick another localPort/,
    );
    for (const n of ['offline', 'unknown', 'denied', 'busy']) {
      assert.not.match(statusOf(set, n).detail ?? '', /\n/, 'one line');
      assert.is(statusOf(set, n).localAddress, undefined);
    }
    // The busy tunnel binds its port before StartSession: no session is started for it.
    const started = w.emu.requests().filter((r) => r.operation === 'StartSession' && r.status === 200);
    assert.is(started.length, 1, 'only ok got a session');
    // Denied and offline are not retried (the retry plugin fails them at once).
    assert.is(
      w.emu
        .requests()
        .filter((r) => r.operation === 'StartSession' && r.errorCode === 'AccessDeniedException').length,
      1,
    );
    await assertStillWorks(w, set, 'ok');
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test('a beforeConnect veto fails the tunnel with the plugin and its reason; no session is started', async () => {
  const veto = definePlugin({
    name: 'office-hours',
    apply(api) {
      api.hooks.beforeConnect.tap((draft) =>
        draft.tunnel === 'prod' ? { veto: true, reason: 'not after 18:00' } : undefined,
      );
    },
  });
  const w = await world([tunnel('prod', echo.port), tunnel('dev', echo.port)], { extraPlugins: [veto] });
  const set = await startAll(w);
  assert.is(statusOf(set, 'prod').state, 'failed');
  assert.match(
    statusOf(set, 'prod').detail ?? '',
    /Connection Stopped by Plugin: .*"office-hours": not after 18:00/,
  );
  assert.is(w.emu.requests().filter((r) => r.operation === 'StartSession').length, 1);
  await assertStillWorks(w, set, 'dev');
});

test('credentials need a sign-in: waiting-for-sign-in, back by itself on onTokenChanged', async () => {
  const w = await world([tunnel('db', echo.port)]);
  w.keys.signedIn = false;
  const set = await startAll(w);
  assert.is(statusOf(set, 'db').state, 'waiting-for-sign-in');
  assert.match(statusOf(set, 'db').detail ?? '', /SSO Authentication Required/);
  assert.is(w.emu.requests().filter((r) => r.operation === 'StartSession').length, 0);
  // A token change without a usable sign-in keeps it waiting.
  await w.keys.api!.emit.tokenChanged({
    session: 'work',
    expiresAt: new Date(Date.now() + 3600_000),
    how: 'external',
  });
  await waitFor(() => statusOf(set, 'db').state === 'waiting-for-sign-in', 5000);
  // `stormtunnel login` in another terminal: the sso monitor raises onTokenChanged (how: external).
  w.keys.signedIn = true;
  await w.keys.api!.emit.tokenChanged({
    session: 'work',
    expiresAt: new Date(Date.now() + 3600_000),
    how: 'external',
  });
  await withTimeout(set.settled(), 10_000, 'settled');
  await waitFor(() => statusOf(set, 'db').state === 'ready', 10_000, 'ready after sign-in');
  await assertStillWorks(w, set, 'db');
});

test('sign-in lost while running: the lost session comes back only after a sign-in', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const first = statusOf(set, 'db').sessionId!;
  const port = localPort(set, 'db');
  w.keys.signedIn = false;
  w.emu.admin.terminateSession(first, 'ended');
  await waitFor(() => statusOf(set, 'db').state === 'waiting-for-sign-in', 10_000, 'waiting');
  assert.is(statusOf(set, 'db').localAddress, `127.0.0.1:${port}`, 'keeps its local port while waiting');
  w.keys.signedIn = true;
  await w.keys.api!.emit.tokenChanged({
    session: 'work',
    expiresAt: new Date(Date.now() + 3600_000),
    how: 'sign-in',
  });
  await waitFor(() => statusOf(set, 'db').state === 'ready', 10_000, 'ready');
  assert.is.not(statusOf(set, 'db').sessionId, first);
  assert.is(localPort(set, 'db'), port);
  await assertStillWorks(w, set, 'db');
});

test.run();
