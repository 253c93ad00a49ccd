// Throughput of an echoed port-forward through our data-channel client (in this process, no `up`, no local
// socket) + the emulator's agent, each figure with its baseline measured in the same run:
// - realistic (the default figures): the agent paced (1024 bytes then 1 ms) and the service's limits on
//   (1000 messages/s, 1024-byte payloads), the client with its defaults (900 messages/s, 1024-byte
//   payloads), against the agent's ceiling: the same paced agent with the rate limit off and the client
//   unpaced. An echo loads both directions at once: the client's data and its acks for the agent's data share
//   its 900 messages/s. Any limit crossed, or a connection lost, exits 1.
// - unpaced (the client's own cost): agent unpaced, limits off, client unpaced, 1024- and 32768-byte
//   payloads, against raw loopback TCP.
// The client and the agent share this process's event loop (bench/tunnels.ts runs the client as `up`).
// Usage: node --import tsx bench/session-manager-throughput.ts [realistic MiB] [unpaced MiB]  (default 4, 32)
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import type { Duplex } from 'node:stream';
import type { DataChannelRealism } from '../src/emulator/agent/types.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, openDataChannel } from '../src/session-manager/index.js';
import type { DataChannelOptions } from '../src/session-manager/types.js';
import {
  data,
  echoRoundTrip,
  sessionOptions,
  sha256hex,
  startEchoServer,
  startEmulator,
} from '../test/session-manager/helpers.js';

const realMib = Number(process.argv[2] ?? 4);
const mib = Number(process.argv[3] ?? 32);
const emu = await startEmulator();
const echo = await startEchoServer();
const payload = data(Math.max(mib, realMib) * 1024 * 1024);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(
  `session-manager throughput (echo, per-direction MB/s), node ${process.version}, load average ${load()}`,
);

async function measure(label: string, stream: Duplex, bytes: Buffer): Promise<number> {
  const t0 = process.hrtime.bigint();
  const got = await echoRoundTrip(stream, bytes);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== sha256hex(bytes)) throw new Error(`${label}: corrupted`);
  // Echo: every byte crosses each direction once; report per-direction MB/s.
  const rate = bytes.length / 1e6 / s;
  console.log(
    `${label.padEnd(64)} ${(bytes.length / 1048576).toFixed(0).padStart(4)} MiB  ${rate.toFixed(3).padStart(8)} MB/s`,
  );
  stream.destroy();
  return rate;
}

const REALISTIC: Partial<DataChannelRealism> = {
  pacing: true,
  clientMessageRateLimit: 1000,
  clientPayloadLimit: 1024,
};
const UNPACED: Partial<DataChannelRealism> = {
  pacing: false,
  clientMessageRateLimit: false,
  clientPayloadLimit: false,
};
const limitEvents: string[] = [];
let lostConnections = 0;

async function session(
  label: string,
  agentVersion: string,
  realism: Partial<DataChannelRealism>,
  client: Partial<DataChannelOptions>,
  size: number,
): Promise<number> {
  const id = `bench-${randomUUID()}`;
  const agent = emu.registry.registerSession(
    sessionOptions(id, echo.port, {
      agentVersion,
      ...realism,
      onEvent: (event, detail) => {
        if (event.endsWith('-limit-exceeded'))
          limitEvents.push(`${label}: ${event} ${JSON.stringify(detail)}`);
      },
    }),
  );
  const ch = await openDataChannel({
    streamUrl: emu.url(id),
    tokenValue: `token-${id}-0`,
    clientId: randomUUID(),
    ...client,
  });
  try {
    return await measure(label, await ch.openStream(), payload.subarray(0, size));
  } finally {
    lostConnections += agent.stats().connections - 1;
    await ch.terminate();
  }
}

const raw = connect(echo.port, '127.0.0.1');
await new Promise((r) => raw.once('connect', r));
const rawRate = await measure('raw loopback TCP', raw, payload.subarray(0, mib * 1024 * 1024));

const realSize = realMib * 1024 * 1024;
const unpacedSize = mib * 1024 * 1024;
const mux = '3.3.1802.0';
const basic = '3.0.161.0';
const ceiling = await session(
  'agent ceiling: mux, agent paced, rate limit off, client unpaced',
  mux,
  { ...REALISTIC, clientMessageRateLimit: false },
  { maxMessagesPerSecond: false },
  realSize,
);
const realistic: [string, number][] = [];
for (const [label, agentVersion] of [
  ['realistic: mux, emulator and client defaults', mux],
  ['realistic: basic (agent 3.0.161.0), emulator and client defaults', basic],
] as const) {
  realistic.push([label, await session(label, agentVersion, REALISTIC, {}, realSize)]);
}
const unpaced: [string, number][] = [];
for (const [label, agentVersion, maxPayloadBytes] of [
  ['unpaced: mux, 1024-byte payloads', mux, DEFAULT_MAX_PAYLOAD_BYTES],
  ['unpaced: mux, 32768-byte payloads', mux, 32768],
  ['unpaced: basic (agent 3.0.161.0), 1024-byte payloads', basic, DEFAULT_MAX_PAYLOAD_BYTES],
  ['unpaced: basic (agent 3.0.161.0), 32768-byte payloads', basic, 32768],
] as const) {
  unpaced.push([
    label,
    await session(
      label,
      agentVersion,
      UNPACED,
      { maxMessagesPerSecond: false, maxPayloadBytes },
      unpacedSize,
    ),
  ]);
}
for (const [label, rate] of realistic)
  console.log(`ratio ${label}: ${(rate / ceiling).toFixed(3)} of the agent ceiling`);
for (const [label, rate] of unpaced) console.log(`ratio ${label}: ${(rate / rawRate).toFixed(3)} of raw TCP`);
console.log(
  `limits: ${limitEvents.length} limit events, ${lostConnections} connections lost${limitEvents.length ? `\n${limitEvents.join('\n')}` : ''}; load average ${load()}`,
);
await emu.close();
await echo.close();
if (limitEvents.length > 0 || lostConnections > 0) process.exitCode = 1;
