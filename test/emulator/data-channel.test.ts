// The emulator's data channel behaves like AWS by default (issue 15; docs/session-manager-protocol.md
// §5-§9): each realistic behaviour seen on the wire by a bare client, and its switch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'node:net';
import { ResumeSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { REALISTIC } from '../../src/emulator/agent/realism.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { encodeAck } from '../../src/session-manager/ack.js';
import { MessageType, PayloadType, PortFlag } from '../../src/session-manager/types.js';
import { freePort, serveTcp, startEchoServer, type TcpServer } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';
import { rejects, ssmClient } from './helpers.js';
import { RawChannel, startRaw, STATIC } from './raw-channel.js';

const MUX = 'i-0123456789abcdef0';
const BASIC = 'i-0fedcba9876543210';
const BANNER = 'SSH-2.0-emulated-target\r\n';

interface Ctx {
  emu: RunningEmulator;
  echo: TcpServer;
  /** Greets every connection with BANNER (a server that speaks first); keeps its sockets. */
  greeter: TcpServer;
  greeted: Socket[];
  channels: RawChannel[];
}
const test = suite<Ctx>('data channel realism');

test.before(async (ctx) => {
  ctx.emu = await startEmulator({ port: 0 });
  // §7: an agent this old gives basic mode whatever the client.
  ctx.emu.admin.setInstance(BASIC, { agentVersion: '3.0.161.0' });
  ctx.echo = await startEchoServer();
  ctx.greeted = [];
  ctx.greeter = await serveTcp((s) => {
    ctx.greeted.push(s);
    s.write(BANNER);
  });
  ctx.channels = [];
});
test.after.each((ctx) => {
  for (const c of ctx.channels.splice(0)) c.close();
  ctx.emu.admin.setSettings({ ...REALISTIC });
});
test.after(async (ctx) => {
  await ctx.emu.close();
  await ctx.echo.close();
  await ctx.greeter.close();
});

async function open(ctx: Ctx, instance: string, port: number) {
  const s = await startRaw(ctx.emu, instance, port);
  ctx.channels.push(s.ch);
  return s;
}

const agentStats = (ctx: Ctx, id: string) =>
  ctx.emu.admin.listSessions().find((s) => s.sessionId === id)?.stats as
    { retransmits: number; bytesToClient: number; targetConnections: number } | undefined;
const logged = (ctx: Ctx, operation: string) =>
  ctx.emu.requests().filter((e) => e.service === 'data-channel' && e.operation === operation);

test('§5 agent_session_state comes before the handshake, outside the agent stream numbering', async (ctx) => {
  const { ch, sessionId } = await open(ctx, MUX, ctx.echo.port);
  await ch.next((m) => m.payloadType === PayloadType.HandshakeRequest, 'HandshakeRequest');
  const [first, second] = ch.arrivals.map((a) => a.msg);
  assert.is(first?.messageType, 'agent_session_state');
  assert.is(first?.sequenceNumber, 0);
  assert.is(first?.flags, 3);
  assert.equal(JSON.parse(first?.payload.toString() ?? ''), {
    SchemaVersion: 1,
    SessionState: 'Connected',
    SessionId: sessionId,
  });
  // The HandshakeRequest still has sequence number 0: agent_session_state took none.
  assert.is(second?.messageType, MessageType.OutputStreamData);
  assert.is(second?.sequenceNumber, 0);

  ctx.emu.admin.setSettings({ agentSessionState: false });
  const off = await open(ctx, MUX, ctx.echo.port);
  await off.ch.next((m) => m.payloadType === PayloadType.HandshakeRequest, 'HandshakeRequest');
  assert.is(off.ch.arrivals[0]?.msg.messageType, MessageType.OutputStreamData);
});

test('§8 pacing: at most 1024 payload bytes per Output, at least 256 messages (and 1 ms sleeps) for 256 KiB', async (ctx) => {
  const size = 256 * 1024;
  const big = await serveTcp((s) => s.end(Buffer.alloc(size, 0x61)));
  try {
    const { ch } = await open(ctx, BASIC, big.port);
    await ch.handshake();
    await ch.until(() => ch.outputText().length >= size, '256 KiB of Output', 60_000);
    const outs = ch.outputs();
    assert.ok(
      outs.every((m) => m.payload.length <= 1024),
      'every payload <= 1024 bytes',
    );
    assert.ok(outs.length >= 256, `${outs.length} messages`);
    // 255 sleeps of at least 1 ms between the first and the last (loose: timers fire late, never early).
    const arrivals = ch.arrivals.filter((a) => a.msg.payloadType === PayloadType.Output);
    const spanMs = arrivals.at(-1)!.at - arrivals[0]!.at;
    assert.ok(spanMs >= 200, `256 KiB took ${spanMs.toFixed(0)} ms`);

    ctx.emu.admin.setSettings({ pacing: false });
    const fast = await open(ctx, BASIC, big.port);
    await fast.ch.handshake();
    await fast.ch.until(() => fast.ch.outputText().length >= size, '256 KiB unpaced', 60_000);
    assert.ok(
      fast.ch.outputs().some((m) => m.payload.length > 1024),
      'pacing: false sends larger payloads',
    );
  } finally {
    await big.close();
  }
});

test('§9 rate limit: 2000 messages as fast as possible close the WebSocket (1008); the session survives', async (ctx) => {
  const { ch, sessionId } = await open(ctx, BASIC, ctx.echo.port);
  await ch.handshake();
  const complete = await ch.next((m) => m.payloadType === PayloadType.HandshakeComplete, 'HandshakeComplete');
  // Acks of an already acked message: harmless to the agent, but every binary frame counts.
  const ack = encodeAck(complete, Date.now());
  for (let i = 0; i < 2000 && ch.isOpen; i++) ch.send(ack);
  const closed = await ch.closed;
  assert.equal(closed, { code: 1008, reason: 'rate exceeded' });
  const events = logged(ctx, 'rate-limit-exceeded');
  assert.is(events.length, 1);
  assert.is(events[0]?.params.sessionId, sessionId);
  assert.is(events[0]?.params.limitPerSecond, 1000);
  assert.is(events[0]?.params.burst, 250);
  // Not an end of the session: the client resumes with a new token.
  assert.is(ctx.emu.admin.listSessions().find((s) => s.sessionId === sessionId)?.status, 'Connected');
  const resumed = await ssmClient(ctx.emu, STATIC).send(new ResumeSessionCommand({ SessionId: sessionId }));
  // Sequence 0 was the HandshakeResponse; the handshake is not repeated.
  const again = await RawChannel.open(resumed.StreamUrl!, resumed.TokenValue!, 1);
  ctx.channels.push(again);
  again.sendData(PayloadType.Output, Buffer.from('after resume'));
  await again.until(() => again.outputText() === 'after resume', 'the echo on the resumed channel');
});

test('§9 rate limit: 1200 messages at 500/s keep the WebSocket open', async (ctx) => {
  const { ch, sessionId } = await open(ctx, MUX, ctx.echo.port);
  await ch.handshake();
  const complete = await ch.next((m) => m.payloadType === PayloadType.HandshakeComplete, 'HandshakeComplete');
  const ack = encodeAck(complete, Date.now());
  // 5 messages per >= 10 ms: never more than 500 in any second.
  const base = ch.sent;
  for (let i = 0; i < 240 && ch.isOpen; i++) {
    for (let k = 0; k < 5; k++) ch.send(ack);
    await new Promise((r) => setTimeout(r, 10));
  }
  await ch.settle();
  assert.ok(ch.isOpen, `closed after ${ch.sent} messages`);
  assert.is(ch.sent - base, 1200);
  assert.is(logged(ctx, 'rate-limit-exceeded').filter((e) => e.params.sessionId === sessionId).length, 0);
});

test('§9 payload limit: 1024 bytes pass, 1025 close the WebSocket (1008); false lifts it', async (ctx) => {
  const { ch, sessionId } = await open(ctx, BASIC, ctx.echo.port);
  await ch.handshake();
  ch.sendData(PayloadType.Output, Buffer.alloc(1024, 0x62));
  await ch.until(() => ch.outputText().length === 1024, 'the echo of 1024 bytes');
  ch.sendData(PayloadType.Output, Buffer.alloc(1025, 0x63));
  assert.equal(await ch.closed, { code: 1008, reason: 'payload too large' });
  const ev = logged(ctx, 'payload-limit-exceeded');
  assert.is(ev.length, 1);
  assert.is(ev[0]?.params.sessionId, sessionId);
  assert.is(ev[0]?.params.payloadBytes, 1025);
  assert.is(ev[0]?.params.limitBytes, 1024);

  ctx.emu.admin.setSettings({ clientPayloadLimit: false });
  const lifted = await open(ctx, BASIC, ctx.echo.port);
  await lifted.ch.handshake();
  lifted.ch.sendData(PayloadType.Output, Buffer.alloc(32 * 1024, 0x64));
  await lifted.ch.until(() => lifted.ch.outputText().length === 32 * 1024, 'the echo of 32 KiB');
  assert.ok(lifted.ch.isOpen);
});

test('§7 basic mode dials at session start: a banner arrives before the client sent any data', async (ctx) => {
  const before = ctx.greeter.connections;
  const { ch, sessionId } = await open(ctx, BASIC, ctx.greeter.port);
  await ch.handshake();
  await ch.until(() => ch.outputText() === BANNER, 'the banner');
  // The client sent only the HandshakeResponse and acks.
  assert.is(ch.arrivals.filter((a) => a.msg.payloadType === PayloadType.Output).length, 1);
  assert.is(ctx.greeter.connections, before + 1);

  // §7: after DisconnectToPort the agent closes the target and redials only on the next client data.
  ch.sendFlag(PortFlag.DisconnectToPort);
  await waitFor(() => ctx.greeted.at(-1)?.readableEnded === true, 5000, 'target closed');
  await ch.settle();
  assert.is(ctx.greeter.connections, before + 1, 'no redial without client data');
  ch.sendData(PayloadType.Output, Buffer.from('hello'));
  await ch.until(() => ch.outputText() === BANNER + BANNER, 'the second banner');
  assert.is(ctx.greeter.connections, before + 2);
  assert.is(agentStats(ctx, sessionId)?.targetConnections, 2);
});

test('§7 basic mode, refused port: no Flag 3, channel_closed, socket dropped, session terminated', async (ctx) => {
  const { ch, sessionId } = await open(ctx, BASIC, await freePort());
  await ch.handshake();
  const cc = await ch.next((m) => m.messageType === MessageType.ChannelClosed, 'channel_closed');
  const body = JSON.parse(cc.payload.toString()) as Record<string, unknown>;
  assert.is(body.MessageType, 'channel_closed');
  assert.is(body.SessionId, sessionId);
  assert.is((await ch.closed).code, 1006);
  assert.is(ch.outputs(PayloadType.Flag).length, 0, 'no Flag message at all');
  assert.is(ctx.emu.admin.listSessions().find((s) => s.sessionId === sessionId)?.status, 'Terminated');
  const failed = logged(ctx, 'target-connect-failed').filter((e) => e.params.sessionId === sessionId);
  assert.is(failed[0]?.params.code, 'ECONNREFUSED');
  const ended = logged(ctx, 'terminated').filter((e) => e.params.sessionId === sessionId);
  assert.is(ended[0]?.params.reason, 'target dial failed');
  const err = await rejects(
    ssmClient(ctx.emu, STATIC).send(new ResumeSessionCommand({ SessionId: sessionId })),
  );
  assert.is(err.name, 'DoesNotExistException');
});

test('§7 mux mode keeps Flag 3 for a stream whose dial fails', async (ctx) => {
  const { ch } = await open(ctx, MUX, await freePort());
  await ch.handshake();
  // smux v1 SYN for stream 3 (length and stream id little-endian).
  ch.sendData(PayloadType.Output, Buffer.from([1, 0, 0, 0, 3, 0, 0, 0]));
  const flag = await ch.next((m) => m.payloadType === PayloadType.Flag, 'Flag 3');
  assert.is(flag.payload.readUInt32BE(0), PortFlag.ConnectToPortError);
});

test('§5 pause_publication holds while the client is silent and is cleared by its next ack', async (ctx) => {
  for (const clears of [true, false]) {
    ctx.emu.admin.setSettings({ clientClearsPause: clears });
    const { ch, sessionId } = await open(ctx, BASIC, ctx.greeter.port);
    await ch.handshake();
    await ch.until(() => ch.outputText() === BANNER, 'the banner');
    const target = ctx.greeted.at(-1)!;
    // Our ack of the banner must have reached the agent first: it would clear the pause.
    await ch.settle();
    ctx.emu.admin.pauseSession(sessionId);
    await ch.next((m) => m.messageType === MessageType.PausePublication, 'pause_publication');
    const bytes = agentStats(ctx, sessionId)!.bytesToClient;
    target.write('more');
    await waitFor(() => agentStats(ctx, sessionId)!.bytesToClient === bytes + 4, 5000, 'agent got it');
    await ch.settle();
    assert.is(ch.outputText(), BANNER, 'paused: nothing sent');
    // An ack (of the banner, again) from the client.
    const banner = ch.outputs()[0]!;
    ch.ack(banner);
    if (clears) {
      await ch.until(() => ch.outputText() === BANNER + 'more', 'the data after the ack');
    } else {
      await ch.settle();
      assert.is(ch.outputText(), BANNER, 'clientClearsPause: false keeps the pause');
      ctx.emu.admin.startSession(sessionId);
      await ch.until(() => ch.outputText() === BANNER + 'more', 'the data after start_publication');
    }
  }
});

test('§5 the agent resends only the oldest unacked message per 100 ms tick', async (ctx) => {
  const { ch, sessionId } = await open(ctx, BASIC, ctx.greeter.port);
  await ch.handshake();
  await ch.until(() => ch.outputText() === BANNER, 'the banner');
  const target = ctx.greeted.at(-1)!;
  ctx.emu.admin.sessionFaults(sessionId, { dropRate: 1 });
  target.write(Buffer.alloc(5 * 1024, 0x65)); // five paced messages, all lost
  // A resend (lost too) means the five went out long ago.
  await waitFor(() => agentStats(ctx, sessionId)!.retransmits >= 1, 5000, 'a lost resend');
  const startArrivals = ch.arrivals.length;
  const r0 = agentStats(ctx, sessionId)!.retransmits;
  ctx.emu.admin.sessionFaults(sessionId, { dropRate: 0 });
  await ch.until(() => ch.outputText().length === BANNER.length + 5 * 1024, 'the five messages', 10_000);
  const got = ch.arrivals.slice(startArrivals).filter((a) => a.msg.payloadType === PayloadType.Output);
  assert.is(got.length, 5, 'each arrived once');
  // Agent sequence: 0 HandshakeRequest, 1 HandshakeComplete, 2 banner, then the five.
  assert.equal(
    got.map((a) => a.msg.sequenceNumber),
    [3, 4, 5, 6, 7],
    'in order',
  );
  for (let i = 1; i < got.length; i++) {
    const gap = got[i]!.at - got[i - 1]!.at;
    assert.ok(gap >= 60, `message ${i} came ${gap.toFixed(0)} ms after the previous one: not one per tick`);
  }
  assert.is(agentStats(ctx, sessionId)!.retransmits - r0, 5);
});

test('§6 ending: the agent waits for its acks, then channel_closed, then the socket drops without a close frame', async (ctx) => {
  const { ch, sessionId } = await open(ctx, BASIC, ctx.greeter.port);
  await ch.handshake();
  ch.autoAck = false;
  await ch.until(() => ch.outputText() === BANNER, 'the banner');
  await ssmClient(ctx.emu, STATIC).send(new TerminateSessionCommand({ SessionId: sessionId }));
  // Still waiting: the unacked banner is resent, and no channel_closed yet.
  await ch.until(() => ch.outputs().length >= 2, 'a resend of the banner');
  assert.not.ok(ch.trace.includes(MessageType.ChannelClosed));
  ch.ack(ch.outputs()[0]!);
  const cc = await ch.next((m) => m.messageType === MessageType.ChannelClosed, 'channel_closed');
  assert.equal(Object.keys(JSON.parse(cc.payload.toString()) as object).sort(), [
    'CreatedDate',
    'DestinationId',
    'MessageId',
    'MessageType',
    'Output',
    'SchemaVersion',
    'SessionId',
  ]);
  assert.is((await ch.closed).code, 1006, 'no close frame');
  assert.equal(ch.trace.slice(-2), [MessageType.ChannelClosed, 'close 1006']);
});

test('§6 ending: without acks the agent gives up after 2 s; a client Flag 2 ends the same way', async (ctx) => {
  const { ch, sessionId } = await open(ctx, BASIC, ctx.greeter.port);
  await ch.handshake();
  ch.autoAck = false;
  await ch.until(() => ch.outputText() === BANNER, 'the banner');
  const t0 = performance.now();
  ctx.emu.admin.terminateSession(sessionId);
  await ch.next((m) => m.messageType === MessageType.ChannelClosed, 'channel_closed', 10_000);
  const waited = performance.now() - t0;
  assert.ok(waited >= 1900, `channel_closed after ${waited.toFixed(0)} ms`);
  assert.is((await ch.closed).code, 1006);

  const flag = await open(ctx, MUX, ctx.echo.port);
  await flag.ch.handshake();
  flag.ch.sendFlag(PortFlag.TerminateSession);
  await flag.ch.next((m) => m.messageType === MessageType.ChannelClosed, 'channel_closed');
  assert.is((await flag.ch.closed).code, 1006);
  assert.is(ctx.emu.admin.listSessions().find((s) => s.sessionId === flag.sessionId)?.status, 'Terminated');
});

test('§6 agentStyleEnding: false closes with code 1000 at once; admin channel_closed still works', async (ctx) => {
  ctx.emu.admin.setSettings({ agentStyleEnding: false });
  const { ch, sessionId } = await open(ctx, BASIC, ctx.greeter.port);
  await ch.handshake();
  ch.autoAck = false;
  await ch.until(() => ch.outputText() === BANNER, 'the banner');
  ctx.emu.admin.terminateSession(sessionId);
  assert.is((await ch.closed).code, 1000);
  assert.equal(ch.trace.slice(-2), [MessageType.ChannelClosed, 'close 1000']);

  ctx.emu.admin.setSettings({ agentStyleEnding: true });
  const other = await open(ctx, MUX, ctx.echo.port);
  await other.ch.handshake();
  ctx.emu.admin.channelClosed(other.sessionId, 'bye');
  const cc = await other.ch.next((m) => m.messageType === MessageType.ChannelClosed, 'channel_closed');
  assert.is((JSON.parse(cc.payload.toString()) as { Output: string }).Output, 'bye');
  assert.is((await other.ch.closed).code, 1006);
});

test('realism switches over the HTTP admin API: shown, validated, applied to new sessions', async (ctx) => {
  const url = `${ctx.emu.url}/_emulator/settings`;
  const get = (await (await fetch(url)).json()) as { dataChannel: Record<string, unknown>; pacing: boolean };
  assert.equal(get.dataChannel, { ...REALISTIC });
  assert.is(get.pacing, true);
  const post = (body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  let r = await post({ clientMessageRateLimit: 'fast' });
  assert.is(r.status, 400);
  await r.body?.cancel();
  r = await post({ pacing: 'yes' });
  assert.is(r.status, 400);
  await r.body?.cancel();
  r = await post({ clientMessageRateLimit: 0, clientPayloadLimit: 4096, pacing: false });
  const after = (await r.json()) as { dataChannel: Record<string, unknown> };
  assert.is(after.dataChannel.clientMessageRateLimit, false);
  assert.is(after.dataChannel.clientPayloadLimit, 4096);
  assert.is(after.dataChannel.pacing, false);
  // Rate limit off for the next session: 2000 messages as fast as possible are fine.
  const { ch } = await open(ctx, MUX, ctx.echo.port);
  await ch.handshake();
  const complete = await ch.next((m) => m.payloadType === PayloadType.HandshakeComplete, 'HandshakeComplete');
  const ack = encodeAck(complete, Date.now());
  for (let i = 0; i < 2000; i++) ch.send(ack);
  await ch.settle();
  assert.ok(ch.isOpen);
});

test.run();
