// Tunnels against the emulator's realistic defaults (protocol §7-9): the agent paced at 1024 bytes per
// message, the service closing a client above 1000 messages/s or 1024-byte payloads, basic mode's eager dial.
import { connect } from 'node:net';
import * as assert from 'uvu/assert';
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

const { test, echo } = tunnelSuite('tunnels at the service limits');

const OLD_AGENT = '3.0.161.0';
const dataChannelEvents = (w: World, operation: string) =>
  w.emu.requests().filter((r) => r.service === 'data-channel' && r.operation === operation);
const count = (w: World, operation: string) =>
  w.emu.requests().filter((r) => r.operation === operation && r.status === 200).length;

test('uploads and downloads stay within the rate and payload limits: no cut, no resume', async () => {
  const w = await world([tunnel('db', echo.port)]);
  const set = await startAll(w);
  const port = localPort(set, 'db');
  // Four connections at once, each way: acks for the agent's output and our own data share the budget.
  const payloads = Array.from({ length: 4 }, () => data(384 * 1024));
  const hashes = await Promise.all(payloads.map((p) => echoThrough(port, p, 120_000)));
  hashes.forEach((h, i) => assert.is(h, sha256(payloads[i]!)));
  assert.equal(dataChannelEvents(w, 'rate-limit-exceeded'), []);
  assert.equal(dataChannelEvents(w, 'payload-limit-exceeded'), []);
  assert.is(count(w, 'ResumeSession'), 0, 'the connection was never cut');
});

test('basic mode: a server that speaks first greets the first connection, and the next ones', async () => {
  const banner = Buffer.from('SSH-2.0-OpenSSH_9.2 stormtunnel-test\r\n');
  const server = await serveTcp((s) => {
    s.write(banner);
    s.on('data', (d: Buffer) => s.write(d));
  });
  const w = await world([tunnel('ssh', server.port)]);
  w.emu.admin.setInstance('i-0123456789abcdef0', { agentVersion: OLD_AGENT });
  const set = await startAll(w);
  const port = localPort(set, 'ssh');
  // The client only listens: the greeting must come without it sending anything.
  const greeting = (): Promise<Buffer> =>
    withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let got = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          if (got.length >= banner.length) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
      }),
      20_000,
      'the greeting',
    );
  assert.equal(await greeting(), banner, 'first connection');
  await waitFor(() => statusOf(set, 'ssh').connections === 0, 5000, 'first closed');
  assert.equal(await greeting(), banner, 'second connection');
  await waitFor(() => statusOf(set, 'ssh').connections === 0, 5000, 'second closed');
  assert.equal(await greeting(), banner, 'third connection');
  // Each later connection of a speak-first target costs a new session (the agent redials only on data).
  assert.is(count(w, 'StartSession'), 3);
  assert.ok(w.logs.some((l) => /the target speaks first/.test(l.msg)));
  await server.close();
});

test('basic mode, a port that refuses: backoff, a bounded number of sessions, then one line', async () => {
  const refused = await freePort();
  const w = await world([tunnel('old', refused)]);
  w.emu.admin.setInstance('i-0123456789abcdef0', { agentVersion: OLD_AGENT });
  const set = await startAll(w);
  await waitFor(() => statusOf(set, 'old').state === 'failed', 30_000, 'failed');
  // settings.retry allows 5 attempts per outage: the first session and 4 more, each after a delay.
  assert.is(count(w, 'StartSession'), 5);
  const detail = statusOf(set, 'old').detail ?? '';
  assert.match(detail, new RegExp(`is anything listening on port ${refused}`));
  assert.match(detail, /gave up after 5 attempts/);
  assert.not.match(detail, /\n/);
  const delays = w.logs.filter((l) => /retrying in/.test(l.msg)).map((l) => l.msg);
  assert.is(delays.length, 4, delays.join('\n'));
});

test.run();
