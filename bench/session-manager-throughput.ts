// Throughput of a port-forward through our client + the emulator agent vs raw loopback TCP, same run.
// Usage: node --import tsx bench/session-manager-throughput.ts [MiB]
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { openDataChannel } from '../src/session-manager/client.js';
import {
  data,
  echoRoundTrip,
  sessionOptions,
  sha256hex,
  startEchoServer,
  startEmulator,
} from '../test/session-manager/helpers.js';

const mib = Number(process.argv[2] ?? 32);
const emu = await startEmulator();
const echo = await startEchoServer();
const payload = data(mib * 1024 * 1024);

async function measure(label: string, stream: Duplex, bytes: Buffer): Promise<number> {
  const t0 = process.hrtime.bigint();
  const got = await echoRoundTrip(stream, bytes);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== sha256hex(bytes)) throw new Error(`${label}: corrupted`);
  // Echo: every byte crosses each direction once; report per-direction MB/s.
  const rate = bytes.length / 1e6 / s;
  console.log(
    `${label.padEnd(34)} ${(bytes.length / 1048576).toFixed(0).padStart(4)} MiB  ${rate.toFixed(1).padStart(7)} MB/s`,
  );
  stream.destroy();
  return rate;
}

const raw = connect(echo.port, '127.0.0.1');
await new Promise((r) => raw.once('connect', r));
const rawRate = await measure('raw loopback TCP', raw, payload);

const results: [string, number][] = [];
for (const [label, agentVersion, pacing, size] of [
  ['mux (agent 3.3.1802.0)', '3.3.1802.0', false, payload],
  ['basic (agent 3.0.161.0)', '3.0.161.0', false, payload],
  ['mux, paced like the real agent', '3.3.1802.0', true, payload.subarray(0, 2 * 1024 * 1024)],
] as const) {
  const id = `bench-${randomUUID()}`;
  emu.registry.registerSession(sessionOptions(id, echo.port, { agentVersion, pacing }));
  const ch = await openDataChannel({
    streamUrl: emu.url(id),
    tokenValue: `token-${id}-0`,
    clientId: randomUUID(),
  });
  results.push([label, await measure(label, await ch.openStream(), size)]);
  await ch.terminate();
}
for (const [label, rate] of results) console.log(`ratio ${label}: ${(rate / rawRate).toFixed(3)} of raw TCP`);
await emu.close();
await echo.close();
