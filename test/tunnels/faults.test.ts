// Tunnels under data-channel faults (injected through the emulator's admin API): every transfer is
// byte-exact, or fails loudly (the connection ends short), never corrupted.
import * as assert from 'uvu/assert';
import {
  agentStats,
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
} from './helpers.js';

const { test, echo } = tunnelSuite('tunnels under data-channel faults');

/** Either the exact bytes came back, or the transfer failed with an error: never different bytes. */
async function exactOrLoud(port: number, size: number): Promise<'exact' | 'failed'> {
  const p = data(size);
  try {
    const h = await echoThrough(port, p, 60_000);
    assert.is(h, sha256(p), 'bytes came back different: corrupted');
    return 'exact';
  } catch (err) {
    assert.match((err as Error).message, /closed after|ECONNRESET|EPIPE|timed out/);
    return 'failed';
  }
}

test('1% drop + 1% duplicate + 1% reorder both ways: 8 connections x 256 KiB byte-exact', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  w.emu.admin.sessionFaults(statusOf(set, 'db').sessionId!, {
    dropRate: 0.01,
    duplicateRate: 0.01,
    reorderRate: 0.01,
  });
  const port = localPort(set, 'db');
  const payloads = Array.from({ length: 8 }, () => data(256 * 1024));
  const hashes = await Promise.all(payloads.map((p) => echoThrough(port, p, 60_000)));
  hashes.forEach((h, i) => assert.is(h, sha256(payloads[i]!)));
  const st = agentStats(w);
  assert.ok((st?.retransmits ?? 0) > 0 || (st?.duplicatesReceived ?? 0) > 0, 'faults really happened');
});

test('pause_publication then start_publication mid-transfer: byte-exact', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const id = statusOf(set, 'db').sessionId!;
  const p = data(2 * 1024 * 1024);
  const transfer = echoThrough(localPort(set, 'db'), p);
  await waitFor(() => statusOf(set, 'db').bytesIn > 0, 10_000, 'data flowing');
  w.emu.admin.pauseSession(id);
  await new Promise((r) => setTimeout(r, 300));
  w.emu.admin.startSession(id);
  assert.is(await transfer, sha256(p));
});

test('close-1000 every 400 ms during transfers: resumes (same session), every transfer exact', async () => {
  const w = await world([tunnel('db', echo.port, { maxSessions: 1 })]);
  const set = await startAll(w);
  const id = statusOf(set, 'db').sessionId!;
  const port = localPort(set, 'db');
  let closes = 0;
  const timer = setInterval(() => {
    closes++;
    w?.emu.admin.closeSession(id, 1000);
  }, 400);
  try {
    for (let round = 0; round < 3; round++) {
      const payloads = Array.from({ length: 4 }, () => data(512 * 1024));
      const hashes = await Promise.all(payloads.map((p) => echoThrough(port, p, 60_000)));
      hashes.forEach((h, i) => assert.is(h, sha256(payloads[i]!)));
    }
  } finally {
    clearInterval(timer);
  }
  assert.ok(closes >= 2, `forced ${closes} closes`);
  const resumes = w.emu.requests().filter((r) => r.operation === 'ResumeSession' && r.status === 200);
  assert.ok(resumes.length >= 1, 'ResumeSession was called');
  assert.is(statusOf(set, 'db').sessionId, id, 'the session survived');
  assert.is(w.emu.requests().filter((r) => r.operation === 'StartSession').length, 1);
});

test('killed agent connection (no close frame) mid-transfer: resumed, byte-exact', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const id = statusOf(set, 'db').sessionId!;
  const p = data(2 * 1024 * 1024);
  const transfer = echoThrough(localPort(set, 'db'), p);
  await waitFor(() => statusOf(set, 'db').bytesIn > 256 * 1024, 10_000, 'data flowing');
  w.emu.admin.killSession(id);
  assert.is(await transfer, sha256(p));
  assert.ok(w.emu.requests().some((r) => r.operation === 'ResumeSession'));
});

test('faults + closes + a kill together: every transfer exact or loudly failed, never corrupted', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const id = statusOf(set, 'db').sessionId!;
  w.emu.admin.sessionFaults(id, { dropRate: 0.01, duplicateRate: 0.01, reorderRate: 0.02 });
  const port = localPort(set, 'db');
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    if (tick % 3 === 0) w?.emu.admin.killSession(id);
    else w?.emu.admin.closeSession(id, 1000);
  }, 500);
  const outcomes: string[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      outcomes.push(...(await Promise.all(Array.from({ length: 4 }, () => exactOrLoud(port, 512 * 1024)))));
    }
  } finally {
    clearInterval(timer);
  }
  assert.ok(outcomes.includes('exact'), `outcomes: ${outcomes.join(',')}`);
});

test('the service ends the session: open connections fail loudly, the tunnel starts a new session', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const first = statusOf(set, 'db').sessionId!;
  const port = localPort(set, 'db');
  const p = data(4 * 1024 * 1024);
  const transfer = echoThrough(port, p).then(
    (h) => (assert.is(h, sha256(p)), 'exact'),
    (err: Error) => err.message,
  );
  await waitFor(() => statusOf(set, 'db').bytesIn > 256 * 1024, 10_000, 'data flowing');
  w.emu.admin.terminateSession(first, 'ended by an administrator');
  const outcome = await transfer;
  assert.ok(outcome === 'exact' || /closed after|ECONNRESET/.test(outcome), outcome);
  await waitFor(
    () => statusOf(set, 'db').state === 'ready' && statusOf(set, 'db').sessionId !== first,
    15_000,
    'a new session',
  );
  assert.is(localPort(set, 'db'), port, 'same local port');
  const q = data(256 * 1024);
  assert.is(await echoThrough(port, q), sha256(q));
  assert.is(w.emu.requests().filter((r) => r.operation === 'StartSession').length, 2);
});

test.run();
