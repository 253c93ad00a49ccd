// Byte-exact transfers through real tunnels (engine + ssm-tunnel plugin + emulator), SHA-256 compared.
import { connect, type Socket } from 'node:net';
import * as assert from 'uvu/assert';
import {
  agentStats,
  data,
  echoThrough,
  localPort,
  serveTcp,
  sha256,
  startAll,
  statusOf,
  tunnel,
  tunnelSuite,
  waitFor,
  world,
} from './helpers.js';

const { test, echo } = tunnelSuite('tunnel transfers');

test('64 MiB on one connection, both ways, byte-exact; counters and the request log follow', async () => {
  // 128 MiB moved: at the realistic ~1 MB/s per session that would take minutes.
  const w = await world([tunnel('db', echo.port)], { unpaced: true });
  const set = await startAll(w);
  assert.is(statusOf(set, 'db').state, 'ready');
  const payload = data(64 * 1024 * 1024);
  assert.is(await echoThrough(localPort(set, 'db'), payload, 90_000), sha256(payload));
  await waitFor(() => statusOf(set, 'db').connections === 0, 5000, 'connection closed');
  const st = statusOf(set, 'db');
  assert.is(st.bytesOut, payload.length);
  assert.is(st.bytesIn, payload.length);
  assert.is(st.totalConnections, 1);
  assert.match(st.target, /^i-0123456789abcdef0:\d+$/);
  const start = w.emu.requests().filter((r) => r.operation === 'StartSession');
  assert.is(start.length, 1);
  assert.is(start[0]!.params.documentName, 'AWS-StartPortForwardingSession');
  assert.is(start[0]!.params.portNumber, String(echo.port));
  await set.stop();
  assert.is(statusOf(set, 'db').state, 'stopped');
  const term = w.emu.requests().filter((r) => r.operation === 'TerminateSession');
  assert.is(term.length, 1);
  assert.is(term[0]!.params.sessionId, st.sessionId);
  assert.ok(w.emu.admin.listSessions().every((s) => s.status === 'Terminated'));
});

test('200 concurrent connections of 1 MiB through one mux tunnel, each byte-exact', async () => {
  // 400 MiB moved: at the realistic ~1 MB/s per session that would take minutes.
  const w = await world([tunnel('web', echo.port, { maxSessions: 1 })], { unpaced: true });
  const set = await startAll(w);
  const port = localPort(set, 'web');
  const payloads = Array.from({ length: 200 }, () => data(1024 * 1024));
  const hashes = await Promise.all(payloads.map((p) => echoThrough(port, p, 90_000)));
  hashes.forEach((h, i) => assert.is(h, sha256(payloads[i]!), `connection ${i}`));
  assert.is(statusOf(set, 'web').totalConnections, 200);
  const sessions = w.emu.admin.listSessions();
  assert.is(sessions.length, 1, 'one session carries every connection');
  assert.is(agentStats(w)?.mode, 'mux');
  assert.is(agentStats(w)?.targetConnections, 200);
});

test('a local client that stops reading holds the target back (bounded buffering), then gets every byte', async () => {
  // The target sends 128 MiB as fast as its socket takes it; `offered` is what it got rid of.
  const payload = data(128 * 1024 * 1024);
  let offered = 0;
  const source = await serveTcp((s) => {
    const pump = () => {
      while (offered < payload.length) {
        const chunk = payload.subarray(offered, Math.min(payload.length, offered + 64 * 1024));
        offered += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  // Up to 128 MiB downloaded: at the realistic ~1 MB/s per session that would take minutes.
  const w = await world([tunnel('dl', source.port)], { unpaced: true });
  const set = await startAll(w);
  const client: Socket = connect(localPort(set, 'dl'), '127.0.0.1');
  client.pause();
  // Wait until the target can hand over no more (stable for half a second; bounded).
  let last = -1;
  let stable = 0;
  for (let i = 0; i < 200 && stable < 5; i++) {
    await new Promise((r) => setTimeout(r, 100));
    stable = offered === last && offered > 0 ? stable + 1 : 0;
    last = offered;
  }
  assert.ok(stable >= 5, `the target kept sending (${offered} bytes)`);
  // Between the target and the paused client: TCP buffers of three loopback hops, the agent's window, our
  // receive buffers. Far from all of it: the client not reading stopped the target.
  assert.ok(
    offered < 96 * 1024 * 1024,
    `the target handed over ${offered} bytes to a client that reads nothing`,
  );
  const got = await new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    client.on('data', (d: Buffer) => parts.push(d));
    client.once('end', () => resolve(sha256(Buffer.concat(parts))));
    client.once('error', reject);
    client.resume();
  });
  assert.is(got, sha256(payload), 'every byte, in order, once');
  client.destroy();
  await source.close();
});

test('basic mode (old agent): sequential connections byte-exact, a second one waits for the first', async () => {
  const w = await world([tunnel('old', echo.port)]);
  w.emu.admin.setInstance('i-0123456789abcdef0', { agentVersion: '3.0.161.0' });
  const set = await startAll(w);
  const port = localPort(set, 'old');
  for (let i = 0; i < 3; i++) {
    const p = data(128 * 1024 + i);
    assert.is(await echoThrough(port, p), sha256(p));
    await waitFor(() => statusOf(set, 'old').connections === 0, 5000, 'connection closed');
  }
  // Two at once: the second is queued behind the first (documented), and both come out exact.
  const a = data(64 * 1024);
  const b = data(64 * 1024);
  const [ha, hb] = await Promise.all([echoThrough(port, a), echoThrough(port, b)]);
  assert.is(ha, sha256(a));
  assert.is(hb, sha256(b));
  assert.is(agentStats(w)?.mode, 'basic');
  assert.ok(w.logs.some((l) => /basic mode carries one connection at a time/.test(l.msg)));
});

test('remote-host tunnel uses AWS-StartPortForwardingSessionToRemoteHost and forwards byte-exact', async () => {
  const w = await world([tunnel('rds', echo.port, { remoteHost: '127.0.0.1' })]);
  const set = await startAll(w);
  assert.is(statusOf(set, 'rds').target, `i-0123456789abcdef0 -> 127.0.0.1:${echo.port}`);
  const p = data(512 * 1024);
  assert.is(await echoThrough(localPort(set, 'rds'), p), sha256(p));
  const start = w.emu.requests().find((r) => r.operation === 'StartSession');
  assert.is(start?.params.documentName, 'AWS-StartPortForwardingSessionToRemoteHost');
  assert.is(start?.params.host, '127.0.0.1');
});

test('a token refresh does not cut open connections; resumes use freshly resolved credentials', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const port = localPort(set, 'db');
  const callsBefore = w.keys.calls;
  const payload = data(2 * 1024 * 1024);
  const transfer = echoThrough(port, payload);
  // What the sso plugin raises after a silent refresh.
  await w.keys.api!.emit.tokenChanged({
    session: 'work',
    expiresAt: new Date(Date.now() + 3600_000),
    how: 'refresh',
  });
  const id = statusOf(set, 'db').sessionId!;
  w.emu.admin.closeSession(id, 1000);
  assert.is(await transfer, sha256(payload));
  assert.ok(w.emu.requests().some((r) => r.operation === 'ResumeSession' && r.status === 200));
  assert.ok(w.keys.calls > callsBefore, 'credentials resolved again for ResumeSession');
  assert.is(statusOf(set, 'db').sessionId, id, 'same session');
  assert.is(statusOf(set, 'db').state, 'ready');
});

test.run();
