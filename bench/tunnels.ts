// End-to-end tunnel benchmark: a real `stormtunnel up` process (our client) against the emulator in this
// process. Two setups, each with its baseline measured in the same run:
// - realistic (the default figures): the emulator as it is by default, like AWS (agent paced: 1024 bytes
//   per Output message then 1 ms; the service closes a client's WebSocket above 1000 messages/s or for a
//   payload above 1024 bytes), the client with its defaults (900 messages/s, burst 50, 1024-byte payloads).
//   One connection up, one down, against the agent's ceiling measured in the same run; the request log must
//   show no limit crossed and no ResumeSession (the script exits 1 otherwise).
// - unpaced (the client's own cost): agent unpaced, the service's limits off, client unpaced, payloads of
//   1024 (the default) and 32768 bytes, against raw loopback TCP measured in the same run. First byte, ready
//   time, RSS and soak run in this setup too: they measure the client's memory and CPU, and 200 x 1 MiB
//   through a paced session would take minutes.
// Usage: node --import tsx bench/tunnels.ts [realistic MiB] [unpaced MiB]   (default 12 and 64), or
// `npm run bench`. BENCH_RUNS=n repeats the realistic and unpaced throughput parts n times, alternated
// (default 1), and prints medians.
// `up` is started the way users start it, through bin/stormtunnel.js (which re-runs itself for `up` with
// its V8 flags); RSS is the re-run `up` process's. BENCH_BUILT=1 runs the compiled CLI in dist/ (`npm run
// build` first: what an installed stormtunnel runs), otherwise the TypeScript sources through tsx.
// BENCH_ONLY=realistic,throughput,ready,rss runs only those parts (`paced` is an old name of `realistic`);
// soak (a long run: BENCH_SOAK_ROUNDS rounds of 200 connections, RSS after each) runs only when named, and
// so does pool (sessions per tunnel, realistic emulator: BENCH_POOL_MIB per connection, default 8, and a
// BENCH_POOL_BULK_MIB download, default 64, 0 to skip, for the first byte of small requests beside it).
// BENCH_CONFIG=ts|mjs picks the config's format (default: .mjs with BENCH_BUILT, .ts from source);
// BENCH_NODE_ARGS='--heap-prof ...' goes to `up`'s Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sso } from '../plugins/sso/index.js';
import { DEFAULT_SETTINGS } from '../src/config/defaults.js';
import { OutputPump } from '../src/emulator/agent/pump.js';
import { REALISTIC } from '../src/emulator/agent/realism.js';
import { startEmulator } from '../src/emulator/index.js';
import { createEngine } from '../src/engine/engine.js';
import { silentLogger } from '../src/log/logger.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MESSAGE_RATE } from '../src/session-manager/index.js';
import { seedConfig } from '../test/helpers/seed-config.js';
import { testAwsHome } from '../src/testing/index.js';
import { STATIC_CREDENTIALS, UNPACED_EMULATOR } from '../test/tunnels/helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// BENCH_CLI_ROOT=dir: run the bin, dist/ and plugins of another checkout (e.g. a worktree of an older
// commit inside this one, so it finds node_modules) against this checkout's emulator: A/B in one session.
const CLI_ROOT = process.env.BENCH_CLI_ROOT ?? ROOT;
const BUILT = process.env.BENCH_BUILT === '1';
const DIST = join(CLI_ROOT, 'dist');
if (BUILT && !existsSync(join(DIST, 'src/cli/main.js'))) {
  console.error('BENCH_BUILT=1 runs dist/: build it first (npm run build)');
  process.exit(2);
}
const BIN = join(CLI_ROOT, 'bin/stormtunnel.js');
const SRC = (p: string) => (BUILT ? join(DIST, p.replace(/\.ts$/, '.js')) : join(CLI_ROOT, p));
const REAL_MIB = Number(process.argv[2] ?? 12);
const MIB = Number(process.argv[3] ?? 64);
const RUNS = Math.max(1, Math.min(20, Number(process.env.BENCH_RUNS ?? 1)));
const ONLY = process.env.BENCH_ONLY?.split(',').map((p) => (p === 'paced' ? 'realistic' : p));
const run = (part: string) => !ONLY || ONLY.includes(part);
const CONFIG_EXT = process.env.BENCH_CONFIG ?? (BUILT ? 'mjs' : 'ts');
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const SIZE = MIB * 1024 * 1024;
const REAL_SIZE = REAL_MIB * 1024 * 1024;
/** Protocol doc §8-9, measured by others against the real agent code: a fact quoted, not measured here. */
const REFERENCE_CLIENT_UP = [0.55, 0.7] as const;

// ---- target: 'U'+len: read len bytes, answer 'K'; 'D'+len: send len bytes; 'E': echo -------------------
const block = randomBytes(1024 * 1024);
const target = createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => undefined);
  let head = Buffer.alloc(0);
  const onHead = (d: Buffer) => {
    head = Buffer.concat([head, d]);
    if (head.length < 9) return;
    s.off('data', onHead);
    const kind = String.fromCharCode(head[0]!);
    const len = Number(head.readBigUInt64BE(1));
    const rest = head.subarray(9);
    if (kind === 'E') {
      if (rest.length) s.write(rest);
      s.pipe(s);
    } else if (kind === 'U') {
      let got = rest.length;
      const check = () => got >= len && s.write('K');
      s.on('data', (c: Buffer) => ((got += c.length), check()));
      check();
    } else {
      let sent = 0;
      const pump = () => {
        while (sent < len) {
          const n = Math.min(block.length, len - sent);
          sent += n;
          if (!s.write(block.subarray(0, n))) return void s.once('drain', pump);
        }
      };
      pump();
    }
  };
  s.on('data', onHead);
});
await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
const targetPort = (target.address() as AddressInfo).port;

const header = (kind: string, len: number) => {
  const h = Buffer.alloc(9);
  h.write(kind, 0);
  h.writeBigUInt64BE(BigInt(len), 1);
  return h;
};
const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });

/** MB/s of `len` bytes uploaded (client -> target) on one connection. */
async function upload(port: number, len: number): Promise<number> {
  const s = await open(port);
  const t0 = performance.now();
  const done = new Promise<void>((r) => s.once('data', () => r()));
  s.write(header('U', len));
  for (let sent = 0; sent < len;) {
    const n = Math.min(block.length, len - sent);
    sent += n;
    if (!s.write(block.subarray(0, n))) await new Promise((r) => s.once('drain', r));
  }
  await done;
  const ms = performance.now() - t0;
  s.destroy();
  return len / 1e6 / (ms / 1000);
}

/** MB/s of `len` bytes downloaded (target -> client) on one connection. */
async function download(port: number, len: number): Promise<number> {
  const s = await open(port);
  const t0 = performance.now();
  let got = 0;
  await new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= len) resolve();
    });
    s.write(header('D', len));
  });
  const ms = performance.now() - t0;
  s.destroy();
  return len / 1e6 / (ms / 1000);
}

/** Time to first byte of a new connection: connect, send one byte to the echo, first byte back. */
async function firstByte(port: number): Promise<number> {
  const t0 = performance.now();
  const s = await open(port);
  await new Promise<void>((resolve) => {
    s.once('data', () => resolve());
    s.write(Buffer.concat([header('E', 0), Buffer.from('x')]));
  });
  const ms = performance.now() - t0;
  s.destroy();
  return ms;
}

const roundPayload = randomBytes(1024 * 1024);
const roundWant = createHash('sha256').update(roundPayload).digest('hex');
/** `n` connections at once, each echoing 1 MiB; resolves with how many came back byte-exact. */
async function echoRound(port: number, n: number): Promise<number> {
  const results = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = await open(port);
      const h = createHash('sha256');
      let got = 0;
      await new Promise<void>((resolve, reject) => {
        s.on('data', (d: Buffer) => {
          h.update(d);
          got += d.length;
          if (got >= roundPayload.length) resolve();
        });
        s.once('close', () => got < roundPayload.length && reject(new Error('cut')));
        s.write(header('E', 0));
        s.write(roundPayload);
      });
      s.destroy();
      return h.digest('hex') === roundWant;
    }),
  );
  return results.filter(Boolean).length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(', ');

// ---- the world: emulator, AWS home, a config, a `stormtunnel up` process ----------------------------------
// Realistic by default (pacing, the rate and payload limits); each part sets the emulator's settings it
// needs before its sessions start (settings apply to sessions started afterwards).
const emu = await startEmulator({ port: 0, autoApprove: true });
const REALISTIC_EMULATOR = {
  pacing: REALISTIC.pacing,
  clientMessageRateLimit: REALISTIC.clientMessageRateLimit,
  clientPayloadLimit: REALISTIC.clientPayloadLimit,
};
const home = testAwsHome({
  config: seedConfig(emu.startUrl),
  credentials: STATIC_CREDENTIALS,
  emulatorEnv: emu.env(),
});
const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-bench-'));
const env = {
  ...process.env,
  ...home.env,
  XDG_STATE_HOME: join(dir, 'state'),
  STORMTUNNEL_LOG_LEVEL: 'warn',
};

function writeConfig(name: string, plugins: string, tunnels: object[]): string {
  const file = join(dir, name.replace(/\.ts$/, `.${CONFIG_EXT}`));
  const imp = (p: string) => JSON.stringify(SRC(p));
  writeFileSync(
    file,
    `import { ssmTunnel } from ${imp('plugins/ssm-tunnel/index.ts')};
import { retry } from ${imp('plugins/retry/index.ts')};
import { sso } from ${imp('plugins/sso/index.ts')};
import { SEED_STATIC_ACCESS_KEY_ID as K, SEED_STATIC_SECRET_ACCESS_KEY as S } from ${imp('src/emulator/state.ts')};
const keys = { name: 'static-keys', apply(api) { api.hooks.resolveCredentials.tap((r) => r.profile === 'default' ? { accessKeyId: K, secretAccessKey: S } : undefined); } };
export default { plugins: [${plugins}], tunnels: ${JSON.stringify(tunnels)} };
`,
  );
  return file;
}

/** The ssm-tunnel plugin with the client's defaults, or unpaced with a payload size (the client's own cost). */
const SSM_DEFAULT = 'ssmTunnel()';
const ssmUnpaced = (maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES) =>
  `ssmTunnel(${JSON.stringify({ dataChannel: { maxMessagesPerSecond: false, maxPayloadBytes } })})`;

const tunnelDef = (name: string, extra: object = {}) => ({
  name,
  profile: 'default',
  region: 'us-east-1',
  target: 'i-0123456789abcdef0',
  remotePort: targetPort,
  localPort: 0,
  ...extra,
});

interface Up {
  child: ChildProcess;
  ready: Promise<Map<string, number>>;
  readyMs: Promise<number>;
  stop(): Promise<void>;
}

function up(config: string, count: number): Up {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...NODE_ARGS, BIN, '--config', config, 'up'], {
    cwd: dir,
    env: { ...env, STORMTUNNEL_FROM_SOURCE: BUILT ? '0' : '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ports = new Map<string, number>();
  let out = '';
  let err = '';
  let readyAt = 0;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = new Promise<Map<string, number>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const m of out.matchAll(/tunnel (\S+): ready 127\.0\.0\.1:(\d+)/g)) ports.set(m[1]!, Number(m[2]));
      if (ports.size === count && !readyAt) {
        readyAt = performance.now();
        resolve(ports);
      }
    });
    child.once('close', (code) => reject(new Error(`up exited ${code}:\n${out}${err}`)));
  });
  return {
    child,
    ready,
    readyMs: ready.then(() => readyAt - t0),
    async stop() {
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGINT');
      await closed;
    },
  };
}

/** The `up` process: the child bin/stormtunnel.js re-ran itself as, or the process itself if it did not. */
function upPid(launched: number): number {
  const children = readFileSync(`/proc/${launched}/task/${launched}/children`, 'utf8').trim().split(/\s+/);
  return children[0] ? Number(children[0]) : launched;
}

/** CPU seconds (user + system) a process used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const rows: string[] = [];
const say = (s: string) => {
  console.log(s);
  rows.push(s);
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

say(
  `stormtunnel tunnel benchmark: realistic ${REAL_MIB} MiB, unpaced ${MIB} MiB per direction, ${RUNS} run(s), node ${process.version}, ${BUILT ? `compiled CLI (dist/ built ${statSync(join(DIST, 'src/cli/main.js')).mtime.toISOString()})` : 'CLI from source through tsx'}, .${CONFIG_EXT} config, load average ${load()}`,
);

/** What the emulator's request log says about the service's limits and resumes (since entry `afterSeq`). */
function limitEvents(afterSeq = 0) {
  const log = emu.requests().filter((e) => e.seq > afterSeq);
  const count = (service: string, operation: string) =>
    log.filter((e) => e.service === service && e.operation === operation).length;
  return {
    rate: count('data-channel', 'rate-limit-exceeded'),
    payload: count('data-channel', 'payload-limit-exceeded'),
    resumes: count('ssm', 'ResumeSession'),
    details: log
      .filter((e) => e.service === 'data-channel' && e.operation.endsWith('-limit-exceeded'))
      .map((e) => `${e.operation} ${JSON.stringify(e.params)}`),
    lastSeq: log.at(-1)?.seq ?? afterSeq,
  };
}
let limitsCrossed = false;

// ---- realistic: the emulator and the client as they are by default ----------------------------------------
// The agent's ceiling, in the same run: a download through the same path (a `stormtunnel up` process, one
// local connection) with the client's limits out of the way: the client unpaced (maxMessagesPerSecond:
// false, so its acks never wait for a token; payloads stay 1024 bytes) against the same emulator with the
// agent paced and only the service's rate limit off (the unpaced acks would cross it). That is the whole
// agent side of a session (pump, sequencer, send window, WebSocket, acks coming back) as a tunnel sees it,
// so download / ceiling is the cost of the client's own pacing and nothing else. Tried first and dropped:
// our data-channel client in this process, which shares the event loop with the agent and delays its 1 ms
// timers (it measured below the paced tunnel's download, 0.847 vs 0.884 MB/s). The OutputPump alone into a
// sink (printed beside it) leaves out everything but the 1 ms sleeps: an upper bound.
async function agentCeiling(len: number): Promise<number> {
  emu.admin.setSettings({ ...REALISTIC_EMULATOR, clientMessageRateLimit: false });
  try {
    const u = up(ceilingCfg, 1);
    try {
      return await download((await u.ready).get('db')!, len);
    } finally {
      await u.stop();
    }
  } finally {
    emu.admin.setSettings(REALISTIC_EMULATOR);
  }
}

/** The emulator agent's paced OutputPump alone, sending into nothing: only its 1024 bytes + 1 ms sleeps. */
function pumpAlone(n: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let sent = 0;
    const t0 = performance.now();
    const pump = new OutputPump({
      send: (c) => {
        sent += c.length;
        if (sent >= n) {
          pump.close();
          resolve(n / 1e6 / ((performance.now() - t0) / 1000));
        }
      },
      canSend: () => true,
      pacing: true,
      highWater: Infinity,
      onDrain: () => undefined,
    });
    pump.enqueue(Buffer.alloc(n));
  });
}

// Raw loopback TCP (the unpaced part's baseline), same run.
const rawUps: number[] = [];
const rawDowns: number[] = [];
const unpaced = new Map<
  number,
  { up: number[]; down: number[]; upCpu: [number, number][]; downCpu: [number, number][] }
>();
const UNPACED_PAYLOADS = [DEFAULT_MAX_PAYLOAD_BYTES, 32768];
const real = { up: [] as number[], down: [] as number[], ceiling: [] as number[], pump: [] as number[] };
const unpacedCfg = (payload: number) =>
  writeConfig(`unpaced-${payload}.config.ts`, `keys, ${ssmUnpaced(payload)}, retry()`, [tunnelDef('db')]);
const realisticCfg = writeConfig('realistic.config.ts', `keys, ${SSM_DEFAULT}, retry()`, [tunnelDef('db')]);
const ceilingCfg = unpacedCfg(DEFAULT_MAX_PAYLOAD_BYTES);
let firstByteDone = false;

for (let r = 0; r < RUNS; r++) {
  if (run('realistic')) {
    emu.admin.setSettings(REALISTIC_EMULATOR);
    const mark = limitEvents().lastSeq;
    real.ceiling.push(await agentCeiling(REAL_SIZE));
    real.pump.push(await pumpAlone(2 * 1024 * 1024));
    // The service counts a client's messages when they arrive: a stall of this process (the emulator's event
    // loop) delivers late messages in a bunch, so its longest stall is printed beside the counts.
    const stall = monitorEventLoopDelay({ resolution: 10 });
    stall.enable();
    const u = up(realisticCfg, 1);
    const port = (await u.ready).get('db')!;
    real.up.push(await upload(port, REAL_SIZE));
    real.down.push(await download(port, REAL_SIZE));
    await u.stop();
    stall.disable();
    const ev = limitEvents(mark);
    if (ev.rate + ev.payload + ev.resumes > 0) limitsCrossed = true;
    for (const d of ev.details) say(`    ${d}`);
    say(
      `  run ${r + 1}: realistic  up ${real.up.at(-1)!.toFixed(3)} MB/s  down ${real.down.at(-1)!.toFixed(3)} MB/s  agent ceiling ${real.ceiling.at(-1)!.toFixed(3)} MB/s (pump alone ${real.pump.at(-1)!.toFixed(3)})  rate-limit-exceeded ${ev.rate}  payload-limit-exceeded ${ev.payload}  ResumeSession ${ev.resumes}  emulator's longest event-loop stall ${(stall.max / 1e6).toFixed(0)} ms  load ${load()}`,
    );
  }
  if (run('throughput')) {
    emu.admin.setSettings(UNPACED_EMULATOR);
    rawUps.push(await upload(targetPort, SIZE));
    rawDowns.push(await download(targetPort, SIZE));
    for (const payload of UNPACED_PAYLOADS) {
      const u = up(unpacedCfg(payload), 1);
      const port = (await u.ready).get('db')!;
      const row = unpaced.get(payload) ?? { up: [], down: [], upCpu: [], downCpu: [] };
      unpaced.set(payload, row);
      // CPU milliseconds per MiB moved: of the `up` process (our client) and of this process (the emulator's
      // service and agent, and the bench's own sockets), so a slow figure says which side paid.
      const pid = upPid(u.child.pid!);
      const cpu = async (f: () => Promise<number>, rates: number[], cpus: [number, number][]) => {
        const [c0, b0] = [cpuSeconds(pid), process.cpuUsage()];
        rates.push(await f());
        const b = process.cpuUsage(b0);
        cpus.push([((cpuSeconds(pid) - c0) * 1000) / MIB, (b.user + b.system) / 1000 / MIB]);
      };
      await cpu(() => upload(port, SIZE), row.up, row.upCpu);
      await cpu(() => download(port, SIZE), row.down, row.downCpu);
      const ms = (c: [number, number]) => `${c[0].toFixed(1)} / ${c[1].toFixed(1)}`;
      say(
        `  run ${r + 1}: unpaced, ${String(payload).padStart(5)}-byte payloads  up ${row.up.at(-1)!.toFixed(1)} MB/s  down ${row.down.at(-1)!.toFixed(1)} MB/s  (raw TCP ${rawUps.at(-1)!.toFixed(0)} / ${rawDowns.at(-1)!.toFixed(0)} MB/s)  CPU ms per MiB, up process / emulator: upload ${ms(row.upCpu.at(-1)!)}, download ${ms(row.downCpu.at(-1)!)}  load ${load()}`,
      );
      if (payload === DEFAULT_MAX_PAYLOAD_BYTES && !firstByteDone) {
        firstByteDone = true;
        // First byte of new connections on the warm mux tunnel.
        for (let i = 0; i < 5; i++) await firstByte(port);
        const fb: number[] = [];
        for (let i = 0; i < 100; i++) fb.push(await firstByte(port));
        const rawFb: number[] = [];
        for (let i = 0; i < 100; i++) rawFb.push(await firstByte(targetPort));
        say(
          `first byte, warm mux, unpaced (1024-byte payloads)  median ${median(fb).toFixed(2)} ms   p95 ${p95(fb).toFixed(2)} ms   (raw TCP median ${median(rawFb).toFixed(2)} ms)`,
        );
      }
      await u.stop();
    }
  }
}

if (run('realistic')) {
  const [up0, down0, ceil, pump] = [
    median(real.up),
    median(real.down),
    median(real.ceiling),
    median(real.pump),
  ];
  const ev = limitEvents();
  const clientCap = (DEFAULT_MESSAGE_RATE * (DEFAULT_MAX_PAYLOAD_BYTES - 8)) / 1e6;
  say(
    `REALISTIC (emulator defaults: agent paced 1024 B + 1 ms, rate limit 1000/s, payload limit 1024 B; client defaults: ${DEFAULT_MESSAGE_RATE} msg/s burst 50, ${DEFAULT_MAX_PAYLOAD_BYTES}-byte payloads), ${REAL_MIB} MiB, one connection each way, median of ${real.up.length}`,
  );
  say(
    `  agent ceiling (download through up, client unpaced, emulator paced with the rate limit off)  ${ceil.toFixed(3)} MB/s  (${list(real.ceiling, 3)}); paced pump alone into a sink ${pump.toFixed(3)} MB/s`,
  );
  say(
    `  upload    ${up0.toFixed(3)} MB/s  (${list(real.up, 3)})  ratio ${(up0 / ceil).toFixed(3)} of the agent ceiling; ${(up0 / clientCap).toFixed(3)} of the client's own cap (${DEFAULT_MESSAGE_RATE} x ${DEFAULT_MAX_PAYLOAD_BYTES - 8} smux bytes = ${clientCap.toFixed(3)} MB/s)`,
  );
  say(
    `  download  ${down0.toFixed(3)} MB/s  (${list(real.down, 3)})  ratio ${(down0 / ceil).toFixed(3)} of the agent ceiling`,
  );
  say(
    `  upload vs the reference client's ${REFERENCE_CLIENT_UP[0]}-${REFERENCE_CLIENT_UP[1]} MB/s (protocol doc §8-9, measured by others against the real agent code; NOT measured here): ${(up0 / REFERENCE_CLIENT_UP[1]).toFixed(2)}-${(up0 / REFERENCE_CLIENT_UP[0]).toFixed(2)}x`,
  );
  say(
    `  request log over the whole run: rate-limit-exceeded ${ev.rate}, payload-limit-exceeded ${ev.payload}, ResumeSession ${ev.resumes}${limitsCrossed ? '   LIMITS CROSSED OR SESSION RESUMED' : '   (must all be 0)'}`,
  );
}

if (run('throughput')) {
  const [ru, rd] = [median(rawUps), median(rawDowns)];
  say(
    `UNPACED, the client's own cost (emulator: pacing off, rate and payload limits off; client: maxMessagesPerSecond false), ${MIB} MiB, one connection each way, median of ${rawUps.length}`,
  );
  say(
    `  raw loopback TCP           upload ${ru.toFixed(0).padStart(6)} MB/s   download ${rd.toFixed(0).padStart(6)} MB/s`,
  );
  for (const [payload, row] of unpaced) {
    const [tu, td] = [median(row.up), median(row.down)];
    const cpu = (cs: [number, number][]) =>
      `${median(cs.map((c) => c[0])).toFixed(1)} / ${median(cs.map((c) => c[1])).toFixed(1)}`;
    say(
      `  tunnel, ${String(payload).padStart(5)}-byte payloads upload ${tu.toFixed(1).padStart(6)} MB/s   download ${td.toFixed(1).padStart(6)} MB/s   (ratio ${(tu / ru).toFixed(3)} / ${(td / rd).toFixed(3)} of raw; CPU ms per MiB, up process / emulator: upload ${cpu(row.upCpu)}, download ${cpu(row.downCpu)})`,
    );
  }
}

// The parts below measure the client's memory and CPU: emulator and client unpaced, default payload size.
emu.admin.setSettings(UNPACED_EMULATOR);
const unpacedDefault = ssmUnpaced();

// Ready time with a cached SSO token: sign in once (device code, auto-approved), then `up` on profile dev.
if (run('ready')) {
  const engine = await createEngine({
    plugins: [sso({ sessions: { work: { useDeviceCode: true } } })],
    settings: DEFAULT_SETTINGS,
    logger: silentLogger(),
    services: {
      prompt: {
        interactive: false,
        text: () => Promise.reject(new Error('no terminal')),
        confirm: () => Promise.reject(new Error('no terminal')),
        say: () => undefined,
        progress: () => ({ update() {}, succeed() {}, fail() {}, stop() {} }),
      },
    },
  });
  await engine.signIn({ profile: 'dev', noBrowser: true, useDeviceCode: true });
  await engine.shutdown({ reason: 'command-done' });
  const ssoCfg = writeConfig('sso.config.ts', `sso(), ${unpacedDefault}, retry()`, [
    tunnelDef('db', { profile: 'dev' }),
  ]);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const u = up(ssoCfg, 1);
    times.push(await u.readyMs);
    await u.stop();
  }
  say(
    `up -> ready, unpaced, cached SSO token (whole process: node start, config, GetRoleCredentials, StartSession, handshake)  median ${median(times).toFixed(0)} ms  (${times.map((t) => t.toFixed(0)).join(', ')})`,
  );
}

// RSS of the `up` process: 10 idle tunnels; then 200 connections of 1 MiB each way at once on one tunnel.
if (run('rss')) {
  const cfg = writeConfig(
    'ten.config.ts',
    `keys, ${unpacedDefault}, retry()`,
    Array.from({ length: 10 }, (_, i) => tunnelDef(`t${i}`)),
  );
  const u = up(cfg, 10);
  const ports = await u.ready;
  await new Promise((r) => setTimeout(r, 1000));
  const pid = upPid(u.child.pid!);
  const idle = rssMb(pid);
  const wrapper = pid === u.child.pid ? undefined : rssMb(u.child.pid!);
  const port = ports.get('t0')!;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const t0 = performance.now();
  const exact = await echoRound(port, 200);
  const ms = performance.now() - t0;
  clearInterval(sampler);
  say(
    `RSS of up, unpaced, 10 idle tunnels ${idle.toFixed(0)} MB${wrapper === undefined ? '' : `  (bin/stormtunnel.js, which started it and waits: ${wrapper.toFixed(0)} MB, mostly shared)`}`,
  );
  say(
    `RSS of up, unpaced, 200 connections peak ${peak.toFixed(0)} MB  (200 x 1 MiB echoed in ${(ms / 1000).toFixed(1)} s, ${exact}/200 byte-exact)`,
  );
  await u.stop();
}

// Soak (not run by default: BENCH_ONLY=soak): rounds of 200 x 1 MiB echoed on one tunnel, RSS after each.
// Memory that creeps up round after round is a leak (per-stream state, waiters); flat is bounded.
if (ONLY?.includes('soak')) {
  const rounds = Number(process.env.BENCH_SOAK_ROUNDS ?? 20);
  const cfg = writeConfig('soak.config.ts', `keys, ${unpacedDefault}, retry()`, [tunnelDef('s')]);
  const u = up(cfg, 1);
  const port = (await u.ready).get('s')!;
  const pid = upPid(u.child.pid!);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const after: number[] = [];
  let exact = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    exact += await echoRound(port, 200);
    await new Promise((res) => setTimeout(res, 200));
    after.push(rssMb(pid));
  }
  clearInterval(sampler);
  const s = (performance.now() - t0) / 1000;
  const half = Math.floor(rounds / 2);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  say(
    `soak, unpaced: ${rounds} rounds of 200 x 1 MiB echoed in ${s.toFixed(0)} s, ${exact}/${rounds * 200} byte-exact; RSS of up after each round ${after.map((m) => m.toFixed(0)).join(' ')} MB; peak ${peak.toFixed(0)} MB; second half vs first half ${(avg(after.slice(half)) / avg(after.slice(0, half))).toFixed(3)}`,
  );
  await u.stop();
}

// Pool (only when named: BENCH_ONLY=pool): the realistic emulator (agent paced, the service's limits on),
// `up` with the client's defaults and maxSessions 1, 4 and 16. One session's figure is measured in the same
// run (one connection, maxSessions 1); every other figure is a ratio to it.
if (ONLY?.includes('pool')) {
  emu.admin.setSettings(REALISTIC_EMULATOR);
  const mark = limitEvents().lastSeq;
  const perConn = Number(process.env.BENCH_POOL_MIB ?? 8) * 1024 * 1024;
  const bulk = Number(process.env.BENCH_POOL_BULK_MIB ?? 64) * 1024 * 1024;
  const poolCfg = (n: number) =>
    writeConfig(`pool-${n}.config.ts`, `keys, ${SSM_DEFAULT}, retry()`, [
      tunnelDef('db', { maxSessions: n }),
    ]);
  const starts = () => emu.requests().filter((e) => e.operation === 'StartSession').length;
  /** Aggregate MB/s of `n` downloads of `len` at once (first connect to last byte). */
  const parallel = async (port: number, n: number, len: number) => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => download(port, len)));
    return (n * len) / 1e6 / ((performance.now() - t0) / 1000);
  };
  /** CPU seconds of the `up` process and of this one (emulator), and wall seconds, while `f` runs. */
  let usage = { up: 0, emulator: 0, wall: 0 };
  const withUp = async <T>(sessions: number, f: (port: number) => Promise<T>) => {
    const u = up(poolCfg(sessions), 1);
    try {
      const before = starts();
      const port = (await u.ready).get('db')!;
      const pid = upPid(u.child.pid!);
      const [c0, b0, t0] = [cpuSeconds(pid), process.cpuUsage(), performance.now()];
      const out = await f(port);
      const b = process.cpuUsage(b0);
      usage = {
        up: cpuSeconds(pid) - c0,
        emulator: (b.user + b.system) / 1e6,
        wall: (performance.now() - t0) / 1000,
      };
      return { out, startSessions: starts() - before };
    } finally {
      await u.stop();
    }
  };
  const one = (await withUp(1, (port) => download(port, perConn))).out;
  say(`POOL (realistic emulator, client defaults), ${perConn / 1048576} MiB per connection; load ${load()}`);
  say(`  one connection, one session (maxSessions 1)      ${one.toFixed(3)} MB/s  = the session figure`);
  // BENCH_POOL_CASES=4x8,16x16 (maxSessions x connections) runs only those cases.
  const cases = (process.env.BENCH_POOL_CASES ?? '1x8,4x8,16x16')
    .split(',')
    .map((c) => c.split('x').map(Number) as [number, number]);
  for (const [sessions, conns] of cases) {
    // Cold: the pool grows while the connections wait (one StartSession per 500 ms); warm: the same again
    // at once, on the sessions the first round opened (they idle out only after poolIdle, 60 s).
    const r = await withUp(sessions, async (port) => {
      const cold = await parallel(port, conns, perConn);
      const warm = sessions > 1 ? await parallel(port, conns, perConn) : cold;
      return { cold, warm };
    });
    const { cold, warm } = r.out;
    const cap = Math.min(sessions, conns);
    say(
      `  ${String(conns).padStart(2)} connections, maxSessions ${String(sessions).padStart(2)}   aggregate ${warm.toFixed(3)} MB/s${sessions > 1 ? ` warm (cold, the pool growing: ${cold.toFixed(3)} = ${(cold / one).toFixed(2)}x)` : ''}  = ${(warm / one).toFixed(2)}x one session; ${(warm / (conns * one)).toFixed(2)} of ${conns} x the session figure; ${(warm / (cap * one)).toFixed(2)} of the pool's cap (${cap} x the session figure)  StartSession ${r.startSessions}  CPU s up / emulator ${usage.up.toFixed(1)} / ${usage.emulator.toFixed(1)} in ${usage.wall.toFixed(1)} s  load ${load()}`,
    );
  }
  // First byte of small requests (a new connection, one byte echoed) while one connection downloads `bulk`
  // on the same tunnel: one sample every 250 ms until the download ends.
  for (const sessions of bulk > 0 ? [1, 4] : []) {
    const r = await withUp(sessions, async (port) => {
      const big = download(port, bulk);
      let done = false;
      void big.then(() => (done = true));
      await new Promise((res) => setTimeout(res, 2000)); // under way, every queue as full as it gets
      const fb: number[] = [];
      while (!done) {
        fb.push(await firstByte(port));
        await new Promise((res) => setTimeout(res, 250));
      }
      return { fb, mbps: await big };
    });
    const { fb, mbps } = r.out;
    say(
      `  first byte during a ${bulk / 1048576} MiB download, maxSessions ${sessions}: median ${median(fb).toFixed(0)} ms  p95 ${p95(fb).toFixed(0)} ms  (${fb.length} samples; the download ${mbps.toFixed(3)} MB/s; StartSession ${r.startSessions})  load ${load()}`,
    );
  }
  const ev = limitEvents(mark);
  if (ev.rate + ev.payload + ev.resumes > 0) limitsCrossed = true;
  say(
    `  request log of the pool part: rate-limit-exceeded ${ev.rate}, payload-limit-exceeded ${ev.payload}, ResumeSession ${ev.resumes}${ev.rate + ev.payload + ev.resumes > 0 ? '   LIMITS CROSSED OR SESSION RESUMED' : '   (must all be 0)'}`,
  );
}

await emu.close();
target.close();
home.cleanup();
rmSync(dir, { recursive: true, force: true });
if (limitsCrossed) {
  console.error(
    'the realistic part crossed the service limits or resumed a session: see the request log counts above',
  );
  process.exitCode = 1;
}
