// One recovery path: every "try again or give up" about a tunnel goes through onError, whose decision
// stands; sessions that die young are retried with backoff and a bound; endings an application can trust.
import { connect, type Socket } from 'node:net';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../src/engine/plugin.js';
import { FakeClock } from '../../src/engine/clock.js';
import {
  data,
  echoThrough,
  freePort,
  localPort,
  serveTcp,
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

const { test, echo } = tunnelSuite('tunnel recovery');

const startSessions = (w: World) =>
  w.emu.requests().filter((r) => r.operation === 'StartSession' && r.status === 200).length;

/** How a local connection ended: RST (ECONNRESET), or a clean FIN after `bytes`. */
function ending(socket: Socket): Promise<{ how: 'reset' | 'fin' | 'other'; bytes: number }> {
  let bytes = 0;
  socket.on('data', (d: Buffer) => (bytes += d.length));
  return new Promise((resolve) => {
    socket.once('error', (e: NodeJS.ErrnoException) =>
      resolve({ how: e.code === 'ECONNRESET' ? 'reset' : 'other', bytes }),
    );
    socket.once('end', () => resolve({ how: 'fin', bytes }));
  });
}

test('a target that refuses the port ends every local connection with RST and a warning (mux)', async () => {
  const refused = await freePort();
  const w = await world([tunnel('dead', refused)]);
  const set = await startAll(w);
  const port = localPort(set, 'dead');
  const endings: string[] = [];
  for (let i = 0; i < 8; i++) {
    const s = connect(port, '127.0.0.1');
    s.write('hello');
    endings.push((await withTimeout(ending(s), 10_000, 'connection end')).how);
    s.destroy();
  }
  assert.equal(endings, Array(8).fill('reset'));
  await waitFor(
    () => w.logs.filter((l) => l.level === 'warn' && /refused the connection/.test(l.msg)).length === 8,
    5000,
    'a warning per connection',
  );
});

test('data cut short by the end of the session is reset, never a clean end', async () => {
  const payload = data(8 * 1024 * 1024);
  const source = await serveTcp((s) => s.end(payload));
  const w = await world([tunnel('dl', source.port)]);
  const set = await startAll(w);
  const id = statusOf(set, 'dl').sessionId!;
  const s = connect(localPort(set, 'dl'), '127.0.0.1');
  const end = ending(s);
  await waitFor(() => statusOf(set, 'dl').bytesIn > 64 * 1024, 10_000, 'data flowing');
  w.emu.admin.terminateSession(id, 'ended by an administrator');
  const got = await withTimeout(end, 10_000, 'connection end');
  assert.ok(got.bytes < payload.length, `the transfer finished before the session ended (${got.bytes})`);
  assert.is(got.how, 'reset', `ended by ${got.how} after ${got.bytes} bytes`);
  s.destroy();
  await source.close();
});

test("a team's fail decision stands: a lost session ends the tunnel as failed, no new session", async () => {
  const asked: string[] = [];
  const noRetry = definePlugin({
    name: 'no-retry',
    apply(api) {
      api.hooks.onError.tap((info) => {
        asked.push(`${info.operation}#${info.attempt}`);
        return { action: 'fail', reason: 'team policy', message: 'Stopped by team policy' };
      });
    },
  });
  const w = await world([tunnel('db', echo.port)], { extraPlugins: [noRetry] });
  const set = await startAll(w);
  const id = statusOf(set, 'db').sessionId!;
  w.emu.admin.terminateSession(id, 'ended by an administrator');
  await waitFor(() => statusOf(set, 'db').state === 'failed', 10_000, 'failed');
  assert.match(statusOf(set, 'db').detail ?? '', /Stopped by team policy/, statusOf(set, 'db').detail);
  assert.equal(asked, ['tunnel db#1']);
  assert.is(statusOf(set, 'db').localAddress, undefined, 'port closed');
  assert.is(startSessions(w), 1, 'no new session');
});

test('sessions that die right after they start: one outage, backoff, then failed (bounded StartSessions)', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  // The service ends every session as soon as it is there (like a basic-mode target that refuses).
  let killed = 0;
  const killer = setInterval(() => {
    for (const s of w.emu.admin.listSessions()) {
      if (s.status === 'Connected') {
        killed++;
        w.emu.admin.terminateSession(s.sessionId, 'the agent could not reach the target');
      }
    }
  }, 20);
  try {
    await waitFor(() => statusOf(set, 'db').state === 'failed', 30_000, 'failed');
  } finally {
    clearInterval(killer);
  }
  // settings.retry: 5 attempts per outage. The first session, then 4 retries, each after a delay.
  assert.is(startSessions(w), 5, `StartSession calls (killed ${killed})`);
  assert.match(statusOf(set, 'db').detail ?? '', /gave up after 5 attempts/);
  // The last session died after its handshake, or (on a busy machine) during it.
  assert.match(statusOf(set, 'db').detail ?? '', /ended \d+ ms after it started|did not open/);
  const retries = w.logs.filter((l) => /retrying in/.test(l.msg));
  assert.is(retries.length, 4);
});

test('the service ends an unused session: the tunnel idles, the port listens, the next connection starts one', async () => {
  const w = await world([tunnel('db', echo.port)], { plugin: { stableAfter: '100ms' } });
  const set = await startAll(w);
  const first = statusOf(set, 'db').sessionId!;
  const port = localPort(set, 'db');
  const readyAt = Date.now();
  // Older than stableAfter: its end is not a start-up failure.
  await waitFor(() => Date.now() - readyAt > 150, 5000, 'the session to be stable');
  w.emu.admin.terminateSession(first, 'Your session timed out due to inactivity and has been terminated.');
  await waitFor(() => statusOf(set, 'db').state === 'idle', 10_000, 'idle');
  assert.match(statusOf(set, 'db').detail ?? '', /^session ended by the service \(.+\); the next connection/);
  assert.is(startSessions(w), 1, 'no session started while nobody uses the tunnel');
  const p = data(64 * 1024);
  assert.is(await echoThrough(port, p), sha256(p));
  assert.is(startSessions(w), 2);
  assert.is(statusOf(set, 'db').state, 'ready');
  assert.is(localPort(set, 'db'), port, 'same port');
});

test('after a wake from sleep a dead connection is found and resumed at once, not after deadAfter', async () => {
  // The monotonic clock stops during suspend while the wall clock goes on (Linux): the test moves it back.
  let monoOffset = 0;
  const w = await world([tunnel('db', echo.port)], {
    plugin: { dataChannel: { deadAfter: '10m' } },
    wakeDetection: { monotonicNow: () => performance.now() - monoOffset, intervalMs: 50, thresholdMs: 2000 },
  });
  await w.engine.start({ longRunning: true });
  const set = await startAll(w);
  const id = statusOf(set, 'db').sessionId!;
  // The network died while the lid was closed: the connection is silent, nothing closed it.
  w.emu.admin.freezeSession(id);
  monoOffset = 60_000;
  await waitFor(
    () => w.emu.requests().some((r) => r.operation === 'ResumeSession' && r.status === 200),
    20_000,
    'a resume after the wake',
  );
  assert.ok(w.logs.some((l) => /woke after about 60 s away/.test(l.msg)));
  await waitFor(() => statusOf(set, 'db').state === 'ready', 10_000, 'ready again');
  const p = data(64 * 1024);
  assert.is(await echoThrough(localPort(set, 'db'), p), sha256(p));
  assert.is(statusOf(set, 'db').sessionId, id, 'the same session');
});

test('resume delays are the engine clock: a FakeClock holds ResumeSession until it moves', async () => {
  const clock = new FakeClock(Date.now());
  const wait = definePlugin({
    name: 'slow-resume',
    apply(api) {
      api.hooks.onError.tap((info) =>
        info.operation === 'ResumeSession'
          ? { action: 'retry', afterMs: 60_000, reason: 'test: one minute' }
          : undefined,
      );
    },
  });
  const w = await world([tunnel('db', echo.port)], { extraPlugins: [wait], clock });
  let started = false;
  const setP = startAll(w).finally(() => (started = true));
  // The data channel's pacer and timers run on the fake clock too: move it in small steps until ready.
  for (let i = 0; i < 400 && !started; i++) {
    await clock.advance(5);
    await new Promise((r) => setTimeout(r, 2));
  }
  const set = await setP;
  const id = statusOf(set, 'db').sessionId!;
  // The first resume goes out at once; make it fail, then the next one waits for onError's minute.
  w.emu.admin.injectFault({ operation: 'ResumeSession', kind: '5xx', count: 1 });
  w.emu.admin.killSession(id);
  const resumes = () => w.emu.requests().filter((r) => r.operation === 'ResumeSession').length;
  for (let i = 0; i < 100 && resumes() < 1; i++) {
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.is(resumes(), 1, 'first ResumeSession');
  // The failure reached onError and its minute began on the fake clock: only that clock can end it.
  await waitFor(
    () => w.logs.some((l) => /ResumeSession failed .*retrying in 60 s/.test(l.msg)),
    10_000,
    'the retry decision',
  );
  await clock.advance(59_000);
  assert.is(resumes(), 1, 'nothing before the minute is up');
  for (let i = 0; i < 100 && statusOf(set, 'db').state !== 'ready'; i++) {
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.is(resumes(), 2);
  assert.is(statusOf(set, 'db').state, 'ready');
  assert.is(statusOf(set, 'db').sessionId, id, 'same session');
});

test.run();
