// Faults, publication control, resume, dead endpoints, channel_closed and termination, end to end.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentSession } from '../../src/emulator/agent/index.js';
import { openDataChannel } from '../../src/session-manager/client.js';
import { resumeWithBackoff } from '../../src/session-manager/resume-policy.js';
import type {
  DataChannel,
  DataChannelClosedInfo,
  DataChannelOptions,
} from '../../src/session-manager/types.js';
import {
  closeStream,
  data,
  echoRoundTrip,
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

/** A session plus a client whose resume() rotates the agent's token, like ResumeSession would. */
async function setup(
  extra: Parameters<typeof sessionOptions>[2] = {},
  client: Partial<DataChannelOptions> = {},
): Promise<{ agent: AgentSession; ch: DataChannel; resumes: () => number }> {
  const id = `res-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, echo.port, extra));
  let gen = 0;
  let resumeCalls = 0;
  const ch = await openDataChannel({
    streamUrl: emu.url(id),
    tokenValue: `token-${id}-0`,
    clientId: randomUUID(),
    resume: resumeWithBackoff(
      async () => {
        resumeCalls++;
        if (agent.terminated) throw new Error('session terminated');
        const token = `token-${id}-${++gen}`;
        agent.rotateToken(token);
        return { tokenValue: token };
      },
      { maxAttempts: 10 },
    ),
    ...client,
  });
  return { agent, ch, resumes: () => resumeCalls };
}

function parallelEcho(ch: DataChannel, count: number, size: number, timeoutMs = 40_000): Promise<void> {
  return withTimeout(
    (async () => {
      const streams = await Promise.all(Array.from({ length: count }, () => ch.openStream()));
      const payloads = streams.map(() => data(size));
      const hashes = await Promise.all(
        streams.map((s, i) => echoRoundTrip(s, payloads[i] ?? Buffer.alloc(0))),
      );
      hashes.forEach((h, i) => assert.is(h, sha256hex(payloads[i] ?? Buffer.alloc(0)), `stream ${i}`));
      await Promise.all(streams.map((s) => closeStream(s)));
    })(),
    timeoutMs,
    'parallel echo',
  );
}

test('mux under 1% drop + 1% duplicate + 1% reorder, both directions', async () => {
  const { agent, ch } = await setup({ faultSeed: 7 });
  agent.setFaults({ dropRate: 0.01, duplicateRate: 0.01, reorderRate: 0.01 });
  await parallelEcho(ch, 10, 256 * 1024);
  await ch.terminate();
});

test('mux under 10% drop + 10% duplicate + 10% reorder: retransmissions happen, data exact', async () => {
  const { agent, ch } = await setup({ faultSeed: 11 });
  agent.setFaults({ dropRate: 0.1, duplicateRate: 0.1, reorderRate: 0.1 });
  await parallelEcho(ch, 8, 128 * 1024);
  const a = agent.stats();
  const c = ch.stats().sequencer;
  assert.ok(a.retransmits + c.retransmits > 0, 'no retransmission seen');
  assert.ok(a.duplicatesReceived + c.duplicates > 0, 'no duplicate seen');
  assert.ok(a.outOfOrderReceived + c.outOfOrder > 0, 'no reordering seen');
  await ch.terminate();
});

test('basic mode under faults', async () => {
  const { agent, ch } = await setup({ agentVersion: '3.0.161.0', faultSeed: 3 });
  agent.setFaults({ dropRate: 0.02, duplicateRate: 0.02, reorderRate: 0.02 });
  for (let i = 0; i < 2; i++) {
    const s = await ch.openStream();
    const p = data(300 * 1024);
    assert.is(await withTimeout(echoRoundTrip(s, p), 30_000, 'basic faults'), sha256hex(p));
    await closeStream(s);
  }
  await ch.terminate();
});

test('pause_publication stops agent output; start_publication resumes; data exact', async () => {
  const { agent, ch } = await setup();
  const s = await ch.openStream();
  const p = data(2 * 1024 * 1024);
  let received = 0;
  s.on('data', (d: Buffer) => (received += d.length));
  agent.pausePublication();
  const done = echoRoundTrip(s, p);
  await new Promise((r) => setTimeout(r, 150));
  const during = received;
  await new Promise((r) => setTimeout(r, 300));
  assert.is(received, during, 'output kept flowing while paused');
  assert.ok(received < p.length);
  agent.startPublication();
  assert.is(await withTimeout(done, 30_000, 'after start_publication'), sha256hex(p));
  await ch.terminate();
});

test('closeConnection(1000) several times mid-transfer: client resumes with fresh tokens, nothing lost', async () => {
  const { agent, ch, resumes } = await setup();
  const resumed: number[] = [];
  ch.on('resumed', (info) => resumed.push(info.attempt));
  const transfer = parallelEcho(ch, 8, 512 * 1024, 60_000);
  for (let i = 0; i < 4; i++) {
    const before = agent.stats().connections;
    await new Promise((r) => setTimeout(r, 60));
    agent.closeConnection(1000);
    await waitFor(() => agent.stats().connections > before, 10_000, `resume ${i}`);
  }
  await transfer;
  assert.is(resumed.length, 4);
  assert.is(resumes(), 4);
  assert.is(agent.stats().connections, 5);
  assert.is(ch.stats().resumes, 4);
  await ch.terminate();
});

test('killed connection (no close frame) mid-transfer: resumes, nothing lost or duplicated', async () => {
  const { agent, ch } = await setup();
  const transfer = parallelEcho(ch, 4, 1024 * 1024, 60_000);
  await new Promise((r) => setTimeout(r, 80));
  agent.killConnection();
  await waitFor(() => agent.stats().connections === 2, 10_000, 'resume after kill');
  await transfer;
  await ch.terminate();
});

test('silent network: missing pongs detected, connection replaced by a resume', async () => {
  const { agent, ch } = await setup({}, { pingIntervalMs: 100, deadAfterMs: 600 });
  const s = await ch.openStream();
  const p1 = data(100_000);
  assert.is(await echoRoundTrip(s, p1), sha256hex(p1));
  const resumed = new Promise((r) => ch.once('resumed', r));
  agent.freezeConnection();
  await withTimeout(resumed, 10_000, 'dead endpoint detection');
  await waitFor(() => agent.stats().connections === 2, 5000, 'agent sees the new connection');
  // The same stream keeps working after the resume.
  const p2 = data(100_000);
  s.removeAllListeners('data');
  assert.is(await withTimeout(echoRoundTrip(s, p2), 10_000, 'after resume'), sha256hex(p2));
  await ch.terminate();
});

test('stale token on resume is refused (1008) and the next attempt succeeds', async () => {
  const id = `res-${n++}`;
  const agent = emu.registry.registerSession(sessionOptions(id, echo.port));
  let calls = 0;
  const ch = await openDataChannel({
    streamUrl: emu.url(id),
    tokenValue: `token-${id}-0`,
    clientId: randomUUID(),
    resume: resumeWithBackoff(async () => {
      calls++;
      if (calls === 1) return { tokenValue: `token-${id}-0` }; // old token, rotated below
      agent.rotateToken(`token-${id}-${calls}`);
      return { tokenValue: `token-${id}-${calls}` };
    }),
  });
  agent.rotateToken(`token-${id}-x`);
  const resumed = new Promise((r) => ch.once('resumed', r));
  agent.closeConnection(1000);
  await withTimeout(resumed, 10_000, 'resume');
  await waitFor(() => agent.stats().connections === 2, 5000, 'second connection');
  assert.ok(agent.stats().rejectedTokens >= 1);
  assert.ok(calls >= 2);
  const s: Duplex = await ch.openStream();
  const p = data(50_000);
  assert.is(await echoRoundTrip(s, p), sha256hex(p));
  await ch.terminate();
});

test('resume budget exhausted: closed with resume-failed', async () => {
  const errors: Error[] = [];
  const { agent, ch } = await setup(
    {},
    {
      resume: resumeWithBackoff(async () => Promise.reject(new Error('ResumeSession denied')), {
        maxAttempts: 2,
        onAttemptFailed: (_attempt, e) => errors.push(e),
      }),
    },
  );
  const closed = new Promise<DataChannelClosedInfo>((r) => ch.once('closed', r));
  agent.closeConnection(1000);
  const info = await withTimeout(closed, 10_000, 'closed');
  assert.is(info.reason, 'resume-failed');
  assert.match(String(info.error?.message), /after 2 attempts.*ResumeSession denied/);
  assert.is(errors.length, 2);
  assert.ok(ch.closed);
  agent.terminate();
});

test('channel_closed: Output surfaced, channel closed, streams ended', async () => {
  const { agent, ch } = await setup();
  const s = await ch.openStream();
  const sClosed = new Promise((r) => s.once('close', r));
  const output = new Promise<string>((r) => ch.once('channelClosed', r));
  const closed = new Promise<DataChannelClosedInfo>((r) => ch.once('closed', r));
  agent.sendChannelClosed('Session expired, bye');
  assert.is(await withTimeout(output, 5000, 'channelClosed'), 'Session expired, bye');
  const info = await closed;
  assert.is(info.reason, 'channel-closed');
  assert.is(info.output, 'Session expired, bye');
  await withTimeout(sClosed, 5000, 'stream closed');
  assert.ok(agent.terminated);
  try {
    await ch.openStream();
    assert.unreachable('opened a stream on a closed channel');
  } catch (err) {
    assert.match((err as Error).message, /closed/);
  }
});

test('TerminateSession flag from the client ends the agent session and its target connections', async () => {
  const { agent, ch } = await setup();
  const s = await ch.openStream();
  const p = data(10_000);
  assert.is(await echoRoundTrip(s, p), sha256hex(p));
  const closed = new Promise<DataChannelClosedInfo>((r) => ch.once('closed', r));
  await ch.terminate();
  assert.is((await closed).reason, 'terminated');
  await waitFor(() => agent.terminated, 5000, 'agent terminated');
  assert.ok(s.destroyed);
});

test('TerminateSession API on the agent: client sees channel_closed and does not resume', async () => {
  const { agent, ch, resumes } = await setup();
  const closed = new Promise<DataChannelClosedInfo>((r) => ch.once('closed', r));
  agent.terminate('api');
  const info = await withTimeout(closed, 5000, 'closed');
  assert.is(info.reason, 'channel-closed');
  assert.match(String(info.output), /Exiting session/);
  assert.is(resumes(), 0);
});

test.after(async () => {
  await emu.close();
  await echo.close();
});

test.run();
