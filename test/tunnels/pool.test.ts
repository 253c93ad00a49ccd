// A tunnel's pool of sessions against the emulator in its realistic default (agent pacing, the service's
// limits): connections spread over sessions opened on demand, each prepared afresh; idle extra sessions end;
// faults on every session; losing one session resets only its connections.
import * as assert from 'uvu/assert';
import type { AgentSessionStats } from '../../src/emulator/agent/index.js';
import {
  data,
  echoThrough,
  localPort,
  sha256,
  startAll,
  statusOf,
  tunnel,
  tunnelSuite,
  waitFor,
  world,
  type World,
} from './helpers.js';

const { test, echo } = tunnelSuite('tunnel session pool');

const requests = (w: World, operation: string) =>
  w.emu.requests().filter((r) => r.operation === operation && r.status === 200);

/** Echoes `n` payloads of `size` at once through the tunnel; each must come back exact. */
async function parallelEchoes(port: number, n: number, size: number): Promise<void> {
  const payloads = Array.from({ length: n }, () => data(size));
  const hashes = await Promise.all(payloads.map((p) => echoThrough(port, p)));
  hashes.forEach((h, i) => assert.is(h, sha256(payloads[i]!), `transfer ${i} exact`));
}

test('connections arriving together spread over new sessions, each prepared afresh; idle extras end', async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 4 })], { plugin: { poolIdle: '300ms' } });
  const set = await startAll(w);
  const callsBefore = w.keys.calls;
  await parallelEchoes(localPort(set, 'db'), 6, 128 * 1024);
  assert.is(requests(w, 'StartSession').length, 4, 'the own session and three extra ones');
  assert.ok(w.keys.calls - callsBefore >= 3, 'every extra session resolved its own credentials (prepare)');
  const sessions = statusOf(set, 'db').sessions ?? [];
  assert.is(sessions.filter((s) => s.primary).length, 1);
  // The agents saw the data: every session of the pool carried some.
  const carried = w.emu.admin
    .listSessions()
    .filter((s) => (s.stats as AgentSessionStats | undefined)?.bytesFromClient);
  assert.ok(carried.length >= 3, `data went over ${carried.length} sessions`);
  // Idle shrink: the three extra sessions are terminated, the own one stays.
  // Waits on the pool itself (the own session left alone), then counts what the emulator saw.
  const own = statusOf(set, 'db').sessionId;
  await waitFor(
    () => (statusOf(set, 'db').sessions ?? []).length === 1,
    60_000,
    () =>
      `extra sessions ended when idle (sessions now ${JSON.stringify(statusOf(set, 'db').sessions)}, ${requests(w, 'TerminateSession').length} TerminateSession)`,
  );
  await waitFor(() => requests(w, 'TerminateSession').length >= 3, 30_000, 'three TerminateSession requests');
  assert.is(requests(w, 'TerminateSession').length, 3, 'the three extra sessions, not the own one');
  assert.equal(statusOf(set, 'db').sessions, [{ id: own, connections: 0, primary: true }]);
  assert.is(statusOf(set, 'db').state, 'ready');
  await set.stop();
  assert.is(requests(w, 'TerminateSession').length, 4, 'stop ends the own session too');
});

test('maxSessions 1: one session carries every connection, as without a pool', async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 1 })]);
  const set = await startAll(w);
  await parallelEchoes(localPort(set, 'db'), 4, 64 * 1024);
  assert.is(requests(w, 'StartSession').length, 1);
  assert.is(statusOf(set, 'db').sessions, undefined);
});

test('faults on every session of the pool: every transfer byte-exact', async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 3 })], { plugin: { poolIdle: '60s' } });
  const set = await startAll(w);
  const port = localPort(set, 'db');
  await parallelEchoes(port, 3, 16 * 1024);
  assert.is(requests(w, 'StartSession').length, 3);
  for (const s of w.emu.admin.listSessions()) {
    w.emu.admin.sessionFaults(s.sessionId, { dropRate: 0.05, duplicateRate: 0.05, reorderRate: 0.05 });
  }
  await parallelEchoes(port, 6, 192 * 1024);
  assert.is(requests(w, 'StartSession').length, 3, 'no new sessions: the pool was not busy');
});

test('an extra session lost mid-transfer: its connection is reset, the others finish, the tunnel stays ready', async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 2 })]);
  const set = await startAll(w);
  const port = localPort(set, 'db');
  const own = statusOf(set, 'db').sessionId!;
  const a = data(768 * 1024);
  const b = data(768 * 1024);
  const ta = echoThrough(port, a).then(
    (h) => ({ ok: true as const, h }),
    (e: Error) => ({ ok: false as const, e }),
  );
  const tb = echoThrough(port, b).then(
    (h) => ({ ok: true as const, h }),
    (e: Error) => ({ ok: false as const, e }),
  );
  await waitFor(() => (statusOf(set, 'db').sessions ?? []).length === 2, 15_000, 'the extra session');
  const extra = statusOf(set, 'db').sessions!.find((s) => !s.primary)!.id;
  const agentBytes = () =>
    (w.emu.admin.listSessions().find((s) => s.sessionId === extra)?.stats as AgentSessionStats | undefined)
      ?.bytesFromClient ?? 0;
  await waitFor(() => agentBytes() > 64 * 1024, 15_000, 'data on the extra session');
  w.emu.admin.terminateSession(extra, 'test: lost');
  const results = await Promise.all([ta, tb]);
  const failed = results.filter((r) => !r.ok);
  assert.is(failed.length, 1, 'only the connection of the lost session failed');
  const done = results.find((r) => r.ok);
  assert.ok(done && [sha256(a), sha256(b)].includes(done.h), 'the other finished exact');
  assert.ok(w.logs.some((l) => new RegExp(`extra session ${extra} ended`).test(l.msg)));
  assert.is(statusOf(set, 'db').state, 'ready');
  assert.is(statusOf(set, 'db').sessionId, own);
  const c = data(32 * 1024);
  assert.is(await echoThrough(port, c), sha256(c));
});

test("an extra session's connection dropped mid-transfer is resumed like the tunnel's own: byte-exact", async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 2 })]);
  const set = await startAll(w);
  const port = localPort(set, 'db');
  const a = data(512 * 1024);
  const b = data(512 * 1024);
  const transfers = Promise.all([echoThrough(port, a), echoThrough(port, b)]);
  await waitFor(() => (statusOf(set, 'db').sessions ?? []).length === 2, 15_000, 'the extra session');
  const extra = statusOf(set, 'db').sessions!.find((s) => !s.primary)!.id;
  const agentBytes = () =>
    (w.emu.admin.listSessions().find((s) => s.sessionId === extra)?.stats as AgentSessionStats | undefined)
      ?.bytesFromClient ?? 0;
  await waitFor(() => agentBytes() > 64 * 1024, 15_000, 'data on the extra session');
  w.emu.admin.killSession(extra);
  assert.equal(await transfers, [sha256(a), sha256(b)]);
  const resumed = w.emu.requests().filter((r) => r.operation === 'ResumeSession' && r.status === 200);
  assert.ok(
    resumed.some((r) => JSON.stringify(r.params).includes(extra)),
    'ResumeSession for the extra session',
  );
  assert.is(requests(w, 'StartSession').length, 2);
});

test("the tunnel's own session lost while an extra is up: the extra goes on, no StartSession", async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 2 })], { plugin: { poolIdle: '60s' } });
  const set = await startAll(w);
  const port = localPort(set, 'db');
  const own = statusOf(set, 'db').sessionId!;
  await parallelEchoes(port, 2, 32 * 1024);
  await waitFor(() => (statusOf(set, 'db').sessions ?? []).length === 2, 15_000, 'the extra session');
  const extra = statusOf(set, 'db').sessions!.find((s) => !s.primary)!.id;
  w.emu.admin.terminateSession(own, 'test: lost');
  await waitFor(() => statusOf(set, 'db').sessionId === extra, 15_000, 'the extra session promoted');
  assert.is(statusOf(set, 'db').state, 'ready');
  const c = data(32 * 1024);
  assert.is(await echoThrough(port, c), sha256(c));
  assert.is(requests(w, 'StartSession').length, 2, 'no StartSession for the loss');
});

test.run();
