// client.ts against the emulator's agent over a real WebSocket on 127.0.0.1, target = local echo server.
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { openDataChannel } from '../../src/session-manager/client.js';
import { ConnectToPortError, HandshakeError } from '../../src/session-manager/errors.js';
import { encodeMessage } from '../../src/session-manager/frame.js';
import type {
  DataChannel,
  DataChannelClosedInfo,
  DataChannelOptions,
} from '../../src/session-manager/types.js';
import {
  closeStream,
  data,
  echoRoundTrip,
  refusedPort,
  sessionOptions,
  sha256hex,
  startEchoServer,
  startEmulator,
  waitFor,
  withTimeout,
} from './helpers.js';

const emu = await startEmulator();
const echo = await startEchoServer();
let n = 0;

function open(id: string, extra: Partial<DataChannelOptions> = {}): Promise<DataChannel> {
  return openDataChannel({
    streamUrl: emu.url(id),
    tokenValue: `token-${id}-0`,
    clientId: randomUUID(),
    ...extra,
  });
}

test('basic mode (old agent): sequential connections, DisconnectToPort between, byte-exact', async () => {
  const id = `basic-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, echo.port, { agentVersion: '3.0.161.0' }));
  const ch = await open(id);
  assert.is(ch.mode, 'basic');
  assert.is(ch.agentVersion, '3.0.161.0');
  assert.is(ch.sessionProperties.portNumber, String(echo.port));
  const before = echo.connections;
  for (let i = 0; i < 3; i++) {
    const s = await ch.openStream();
    const payload = data(512 * 1024 + i);
    assert.is(await withTimeout(echoRoundTrip(s, payload), 20_000, 'basic round trip'), sha256hex(payload));
    await closeStream(s);
  }
  await waitFor(() => agent.stats().targetConnections === 3, 5000, 'three target connections');
  assert.is(echo.connections - before, 3);
  assert.is(agent.stats().mode, 'basic');
  await ch.terminate();
  assert.ok(agent.terminated);
});

test('basic mode: a second openStream waits for the first to close', async () => {
  const id = `basic-${n++}`;
  emu.registry.registerSession(sessionOptions(id, echo.port, { agentVersion: '3.0.161.0' }));
  const ch = await open(id);
  const a = await ch.openStream();
  let bOpened = false;
  const bP = ch.openStream().then((s) => ((bOpened = true), s));
  await new Promise((r) => setTimeout(r, 50));
  assert.not.ok(bOpened);
  const p1 = data(1000);
  assert.is(await echoRoundTrip(a, p1), sha256hex(p1));
  await closeStream(a);
  const b = await withTimeout(bP, 5000, 'second stream');
  const p2 = data(2000);
  assert.is(await echoRoundTrip(b, p2), sha256hex(p2));
  await closeStream(b);
  await ch.terminate();
});

test('mux mode: 50 concurrent streams x 256 KiB byte-exact', async () => {
  const id = `mux-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, echo.port));
  const ch = await open(id);
  assert.is(ch.mode, 'mux');
  assert.is(agent.stats().smuxKeepAlive, false);
  const streams = await Promise.all(Array.from({ length: 50 }, () => ch.openStream()));
  const payloads = streams.map(() => data(256 * 1024));
  const hashes = await withTimeout(
    Promise.all(streams.map((s, i) => echoRoundTrip(s, payloads[i] ?? Buffer.alloc(0)))),
    40_000,
    'mux round trips',
  );
  hashes.forEach((h, i) => assert.is(h, sha256hex(payloads[i] ?? Buffer.alloc(0))));
  await Promise.all(streams.map((s) => closeStream(s)));
  assert.is(agent.stats().targetConnections, 50);
  assert.is(agent.stats().bytesFromClient, 50 * 256 * 1024);
  await ch.terminate();
});

test('mux mode: 8 MiB on one stream byte-exact', async () => {
  const id = `mux-${n++}`;
  emu.registry.registerSession(sessionOptions(id, echo.port));
  const ch = await open(id);
  const s = await ch.openStream();
  const payload = data(8 * 1024 * 1024);
  assert.is(await withTimeout(echoRoundTrip(s, payload), 40_000, '8 MiB'), sha256hex(payload));
  await closeStream(s);
  await ch.terminate();
});

test('mux mode with realistic pacing (1024-byte payloads split smux frames anywhere)', async () => {
  const id = `mux-${n++}`;
  emu.registry.registerSession(sessionOptions(id, echo.port, { pacing: true }));
  const ch = await open(id);
  const streams = await Promise.all([ch.openStream(), ch.openStream()]);
  const payloads = [data(40_000), data(25_000)];
  const hashes = await withTimeout(
    Promise.all(streams.map((s, i) => echoRoundTrip(s, payloads[i] ?? Buffer.alloc(0), 7000))),
    30_000,
    'paced',
  );
  hashes.forEach((h, i) => assert.is(h, sha256hex(payloads[i] ?? Buffer.alloc(0))));
  await ch.terminate();
});

test('remote-host document: host is passed in the handshake properties', async () => {
  const id = `mux-${n++}`;
  emu.registry.registerSession(
    sessionOptions(id, echo.port, {
      documentName: 'AWS-StartPortForwardingSessionToRemoteHost',
      localPortNumber: '0',
    }),
  );
  const ch = await open(id);
  assert.is(ch.sessionProperties.host, '127.0.0.1');
  assert.is(ch.sessionProperties.localPortNumber, '0');
  const s = await ch.openStream();
  const p = data(10_000);
  assert.is(await echoRoundTrip(s, p), sha256hex(p));
  await ch.terminate();
});

test('ConnectToPortError: mux stream fails clearly, other streams keep working', async () => {
  const id = `mux-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, await refusedPort()));
  const ch = await open(id);
  const s = await ch.openStream();
  const err = await withTimeout(new Promise<Error>((r) => s.once('error', r)), 10_000, 'stream error');
  assert.instance(err, ConnectToPortError);
  assert.match(err.message, /Connection to destination port failed/);
  assert.not.ok(ch.closed);
  assert.not.ok(agent.terminated);
  await ch.terminate();
});

test('basic mode, refused port: the agent ends the session at its eager dial; the client hears channel_closed', async () => {
  const id = `basic-${n++}`;
  // §7: basic mode dials at session start; a failed dial ends the session without a Flag 3, and the
  // service tells the client with channel_closed.
  emu.registry.registerSession(sessionOptions(id, await refusedPort(), { agentVersion: '3.0.161.0' }));
  const closed = new Promise<DataChannelClosedInfo>((r) => {
    void open(id).then(
      (ch) => {
        ch.once('closed', r);
      },
      () => r({ reason: 'protocol-error' }),
    );
  });
  const info = await withTimeout(closed, 10_000, 'the session to end');
  assert.is(info.reason, 'channel-closed');
});

test('invalid token: the agent closes with policy violation and open fails', async () => {
  const id = `tok-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, echo.port));
  try {
    await open(id, { tokenValue: 'wrong' });
    assert.unreachable('opened with a wrong token');
  } catch (err) {
    assert.instance(err, HandshakeError);
    assert.match((err as Error).message, /token rejected.*1008/);
  }
  assert.is(agent.stats().rejectedTokens, 1);
  assert.is(agent.stats().connections, 0);
  agent.terminate();
});

test('unknown session: upgrade answered 404', async () => {
  assert.not.ok(emu.registry.get('nope'));
  try {
    await open('nope', { tokenValue: 'x' });
    assert.unreachable('opened an unknown session');
  } catch (err) {
    assert.match((err as Error).message, /404/);
  }
});

test('agent fails the session without a HandshakeResponse in time, and on a failed action status', async () => {
  const id = `hs-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, echo.port, { handshakeTimeoutMs: 200 }));
  const ws = new WebSocket(emu.url(id));
  await new Promise((r) => ws.once('open', r));
  ws.send(
    JSON.stringify({
      MessageSchemaVersion: '1.0',
      RequestId: randomUUID(),
      TokenValue: `token-${id}-0`,
      ClientId: 'x',
      ClientVersion: '1.2.707.0',
    }),
  );
  await waitFor(() => agent.terminated, 5000, 'handshake timeout');
  ws.terminate();

  const id2 = `hs-${n++}`;
  const agent2 = emu.registry.registerSession(sessionOptions(id2, echo.port));
  const ws2 = new WebSocket(emu.url(id2));
  await new Promise((r) => ws2.once('open', r));
  ws2.send(
    JSON.stringify({
      MessageSchemaVersion: '1.0',
      RequestId: randomUUID(),
      TokenValue: `token-${id2}-0`,
      ClientId: 'x',
      ClientVersion: '1.2.707.0',
    }),
  );
  const resp = {
    ClientVersion: '1.2.707.0',
    ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 2, ActionResult: null, Error: 'no' }],
    Errors: [],
  };
  ws2.send(
    encodeMessage({
      messageType: 'input_stream_data',
      sequenceNumber: 0,
      payloadType: 6,
      payload: Buffer.from(JSON.stringify(resp)),
    }),
  );
  await waitFor(() => agent2.terminated, 5000, 'failed handshake');
  ws2.terminate();
});

test.after(async () => {
  await emu.close();
  await echo.close();
});

test.run();
