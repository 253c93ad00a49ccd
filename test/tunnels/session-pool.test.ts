// The session pool's decisions on a FakeClock, without a network: where connections go, when the pool
// grows (and how fast it may call StartSession), when an extra session is ended, and what happens when a
// session is lost or cannot be opened.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../src/engine/clock.js';
import type { Clock } from '../../src/engine/types.js';
import { ACTIVE_WINDOW_MS, MIN_START_GAP_MS, placeConnection } from '../../plugins/ssm-tunnel/pool-policy.js';
import { SessionPool, type PoolPlacement } from '../../plugins/ssm-tunnel/session-pool.js';

const test = suite('session pool');

interface FakeSession {
  id: string;
  channel: { closed: boolean; mode: 'mux' | 'basic' };
}

function fakeSession(id: string, mode: 'mux' | 'basic' = 'mux'): FakeSession {
  return { id, channel: { closed: false, mode } };
}

/** A pool whose `open` is answered by the test (resolve / fail), on a FakeClock (or `poolClock`, made from one). */
function harness(maxSessions: number, idleMs = 60_000, poolClock?: Clock) {
  const clock = new FakeClock();
  const opens: {
    at: number;
    resolve: (s: FakeSession) => void;
    fail: (err: Error) => void;
    attemptFailed: () => void;
  }[] = [];
  const ended: string[] = [];
  const logs: string[] = [];
  const pool = new SessionPool<FakeSession>({
    clock: poolClock ?? clock,
    maxSessions,
    idleMs,
    canPool: (own) => own.channel.mode === 'mux',
    open: (attemptFailed) =>
      new Promise<FakeSession>((resolve, fail) =>
        opens.push({ at: clock.now(), resolve, fail, attemptFailed }),
      ),
    end: async (s, why) => {
      s.channel.closed = true;
      ended.push(`${s.id}:${why}`);
    },
    log: (m) => logs.push(m),
  });
  return { clock, pool, opens, ended, logs };
}

const settle = () => new Promise((r) => setImmediate(r));

async function sessionOf(p: PoolPlacement<FakeSession>): Promise<string | undefined> {
  return (await p.session)?.id;
}

test('placement: least active first, then fewest open, then a session that is up; grow only when all are busy', () => {
  const idle = { active: 0, open: 3, starting: false };
  const busy = { active: 1, open: 1, starting: false };
  assert.equal(placeConnection([busy, idle], true), { member: 1 }, 'an idle session takes it, no growth');
  assert.equal(placeConnection([busy, busy], true), 'grow');
  assert.equal(placeConnection([busy, { active: 2, open: 2, starting: false }], false), { member: 0 });
  assert.equal(
    placeConnection([{ active: 1, open: 1, starting: true }, busy], false),
    { member: 1 },
    'a tie goes to the session already up',
  );
  assert.equal(placeConnection([], true), 'grow');
});

test('maxSessions 1: every connection on the one session, no StartSession', async () => {
  const h = harness(1);
  const own = fakeSession('s-own');
  const ps = [h.pool.place(own), h.pool.place(own), h.pool.place(own)];
  for (const p of ps) assert.is(await sessionOf(p), 's-own');
  assert.is(h.opens.length, 0);
  assert.equal(h.pool.status(own), [{ id: 's-own', connections: 3, primary: true }]);
});

test('basic mode is never pooled (one connection per session at a time)', async () => {
  const h = harness(4);
  const own = fakeSession('s-own', 'basic');
  h.pool.place(own);
  assert.is(await sessionOf(h.pool.place(own)), 's-own');
  assert.is(h.opens.length, 0);
});

test('connections arriving together spread over new sessions, StartSessions spaced by the rate limit', async () => {
  const h = harness(4);
  const own = fakeSession('s-own');
  const placements = Array.from({ length: 8 }, () => h.pool.place(own));
  await settle();
  // The first grows at once; the next two wait for their turn on the clock.
  assert.is(h.opens.length, 1);
  await h.clock.advance(MIN_START_GAP_MS);
  assert.is(h.opens.length, 2);
  await h.clock.advance(MIN_START_GAP_MS);
  assert.is(h.opens.length, 3, 'at most maxSessions - 1 extra sessions');
  assert.equal(
    h.opens.map((o) => o.at - h.opens[0]!.at),
    [0, MIN_START_GAP_MS, 2 * MIN_START_GAP_MS],
  );
  h.opens.forEach((o, i) => o.resolve(fakeSession(`s-extra${i + 1}`)));
  const ids = await Promise.all(placements.map(sessionOf));
  const perSession = new Map<string, number>();
  for (const id of ids) perSession.set(id!, (perSession.get(id!) ?? 0) + 1);
  assert.equal(
    [...perSession.entries()].sort(),
    [
      ['s-extra1', 2],
      ['s-extra2', 2],
      ['s-extra3', 2],
      ['s-own', 2],
    ],
    'two connections per session',
  );
  assert.is(h.pool.status(own).length, 4);
});

test('a connection goes to an idle session instead of growing; one that stopped moving data no longer counts as busy', async () => {
  const h = harness(4);
  const own = fakeSession('s-own');
  const first = h.pool.place(own);
  assert.is(await sessionOf(first), 's-own');
  // Busy just now: the next connection makes the pool grow.
  const second = h.pool.place(own);
  h.opens[0]!.resolve(fakeSession('s-extra'));
  assert.is(await sessionOf(second), 's-extra');
  // Both sessions are quiet after the active window: a new connection joins one, no growth.
  await h.clock.advance(ACTIVE_WINDOW_MS);
  const third = h.pool.place(own);
  assert.is(await sessionOf(third), 's-own');
  assert.is(h.opens.length, 1);
  // Data moved on the first connection: it counts as busy again, so the next one takes the quieter extra.
  await h.clock.advance(ACTIVE_WINDOW_MS);
  first.activity.lastActiveAt = h.clock.now();
  third.activity.lastActiveAt = h.clock.now();
  assert.is(await sessionOf(h.pool.place(own)), 's-extra');
});

test('idle shrink: an extra session with no connection for poolIdle is ended; the own session stays', async () => {
  const h = harness(4, 60_000);
  const own = fakeSession('s-own');
  const a = h.pool.place(own);
  const b = h.pool.place(own);
  h.opens[0]!.resolve(fakeSession('s-extra'));
  assert.is(await sessionOf(b), 's-extra');
  b.release();
  await h.clock.advance(59_000);
  assert.equal(h.ended, [], 'not before poolIdle');
  // A connection arriving in between keeps it (and restarts the idle time when it leaves).
  a.activity.lastActiveAt = h.clock.now();
  const c = h.pool.place(own);
  assert.is(await sessionOf(c), 's-extra');
  c.release();
  await h.clock.advance(59_999);
  assert.equal(h.ended, []);
  await h.clock.advance(1);
  assert.equal(h.ended, ['s-extra:idle']);
  a.release();
  await h.clock.advance(600_000);
  assert.equal(h.ended, ['s-extra:idle'], 'the own session is never shrunk');
  assert.equal(h.pool.status(own), [{ id: 's-own', connections: 0, primary: true }]);
});

test('idle shrink when the timer fires before now() says the delay has passed (a Node timer can, by 1 ms)', async () => {
  // Node's timers run on a monotonic clock, the real clock's now() on Date.now(): a 300 ms timer may find
  // 299 ms passed (8 of 60 such timers did on this machine). Here now() falls 1 ms behind while it idles.
  const fake = new FakeClock();
  let lag = 0;
  const clock: Clock = {
    now: () => fake.now() - lag,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (t) => fake.clearTimeout(t),
    sleep: (ms, signal) => fake.sleep(ms, signal),
  };
  const h = harness(4, 300, clock);
  const own = fakeSession('s-own');
  h.pool.place(own);
  const b = h.pool.place(own);
  h.opens[0]!.resolve(fakeSession('s-extra'));
  assert.is(await sessionOf(b), 's-extra');
  b.release();
  lag = 1;
  await fake.advance(300);
  assert.equal(h.ended, [], 'now() says 299 ms');
  await fake.advance(1);
  assert.equal(h.ended, ['s-extra:idle'], 'ended once the rest has passed, not left open for good');
});

test('a failed StartSession attempt sends the waiting connections to a session that is up at once', async () => {
  const h = harness(2);
  const own = fakeSession('s-own');
  h.pool.place(own);
  const waiting = h.pool.place(own);
  await settle();
  h.opens[0]!.attemptFailed();
  assert.is(await sessionOf(waiting), 's-own');
  // Still retrying: no second StartSession while that one is under way, and it joins when it comes up.
  h.pool.place(own);
  assert.is(h.opens.length, 1);
  h.opens[0]!.resolve(fakeSession('s-late'));
  await settle();
  assert.equal(
    h.pool.status(own).map((s) => s.id),
    ['s-own', 's-late'],
  );
});

test('onError gives up on an extra session: it is dropped, the pool may grow again later', async () => {
  const h = harness(2);
  const own = fakeSession('s-own');
  h.pool.place(own);
  const p = h.pool.place(own);
  h.opens[0]!.fail(new Error('throttled'));
  assert.is(await sessionOf(p), 's-own');
  assert.ok(h.logs.some((l) => /could not be opened: throttled/.test(l)));
  await h.clock.advance(MIN_START_GAP_MS);
  h.pool.place(own);
  await settle();
  assert.is(h.opens.length, 2);
});

test('a lost extra session leaves the pool; promote hands the own role to an extra that is up', async () => {
  const h = harness(3);
  const own = fakeSession('s-own');
  h.pool.place(own);
  const p1 = h.pool.place(own);
  h.opens[0]!.resolve(fakeSession('s-a'));
  const a = (await p1.session)!;
  await h.clock.advance(MIN_START_GAP_MS);
  const p2 = h.pool.place(own);
  await settle();
  h.opens[1]!.resolve(fakeSession('s-b'));
  const b = (await p2.session)!;
  a.channel.closed = true;
  assert.ok(h.pool.lost(a), 'an extra session');
  assert.equal(
    h.pool.extras().map((s) => s.id),
    ['s-b'],
  );
  own.channel.closed = true;
  assert.is(h.pool.promote()?.id, 's-b');
  assert.equal(h.pool.status(b), [{ id: 's-b', connections: 1, primary: true }]);
  await h.clock.advance(600_000);
  assert.equal(h.ended, [], 'the promoted session is not shrunk');
});

test('stop, then endExtras: every extra session ends, no idle timer is left, the pool does not grow again', async () => {
  const h = harness(4);
  const own = fakeSession('s-own');
  h.pool.place(own);
  const p = h.pool.place(own);
  h.opens[0]!.resolve(fakeSession('s-a'));
  await p.session;
  p.release();
  h.pool.stop();
  await h.pool.endExtras('stopped');
  assert.equal(h.ended, ['s-a:stopped']);
  assert.is(h.clock.pending, 0, 'no timer left behind');
  h.pool.place(own);
  h.pool.place(own);
  await settle();
  assert.is(h.opens.length, 1);
});

test.run();
