// End-to-end tunnel benchmark: a real `stormtunnel up` process (our client) against the emulator in this
// process, compared with raw loopback TCP measured in the same run. Prints figures and ratios.
// Usage: node --import tsx bench/tunnels.ts [MiB]   (default 64), or `npm run bench`
// `up` is started the way users start it, through bin/stormtunnel.js (which re-runs itself for `up` with
// its V8 flags); RSS is the re-run `up` process's. BENCH_BUILT=1 runs the compiled CLI in dist/ (`npm run
// build` first: what an installed stormtunnel runs), otherwise the TypeScript sources through tsx.
// BENCH_ONLY=throughput,paced,ready,rss runs only those parts; soak (a long run: BENCH_SOAK_ROUNDS rounds of
// 200 connections, RSS after each) runs only when named. BENCH_CONFIG=ts|mjs picks the config's format
// (default: .mjs with BENCH_BUILT, .ts from source); BENCH_NODE_ARGS='--heap-prof ...' goes to `up`'s Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sso } from '../plugins/sso/index.js';
import { DEFAULT_SETTINGS } from '../src/config/defaults.js';
import { OutputPump } from '../src/emulator/agent/pump.js';
import { startEmulator } from '../src/emulator/index.js';
import { createEngine } from '../src/engine/engine.js';
import { silentLogger } from '../src/log/logger.js';
import { makeAwsHome, seedConfig } from '../test/helpers/aws-home.js';
import { STATIC_CREDENTIALS } from '../test/tunnels/helpers.js';

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
const MIB = Number(process.argv[2] ?? 64);
const ONLY = process.env.BENCH_ONLY?.split(',');
const run = (part: string) => !ONLY || ONLY.includes(part);
const CONFIG_EXT = process.env.BENCH_CONFIG ?? (BUILT ? 'mjs' : 'ts');
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const SIZE = MIB * 1024 * 1024;

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

// ---- the world: emulator, AWS home, a config, a `stormtunnel up` process ----------------------------------
const emu = await startEmulator({ port: 0, autoApprove: true });
const home = makeAwsHome({
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

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const rows: string[] = [];
const say = (s: string) => {
  console.log(s);
  rows.push(s);
};

say(
  `stormtunnel tunnel benchmark: ${MIB} MiB per direction, node ${process.version}, ${BUILT ? `compiled CLI (dist/ built ${statSync(join(DIST, 'src/cli/main.js')).mtime.toISOString()})` : 'CLI from source through tsx'}, .${CONFIG_EXT} config, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

// Raw loopback TCP, same run.
const rawUp = await upload(targetPort, SIZE);
const rawDown = await download(targetPort, SIZE);
say(
  `raw loopback TCP           upload ${rawUp.toFixed(0).padStart(6)} MB/s   download ${rawDown.toFixed(0).padStart(6)} MB/s`,
);

// Through the tunnel, unpaced agent.
const staticCfg = writeConfig('static.config.ts', `keys, ssmTunnel(), retry()`, [tunnelDef('db')]);
if (run('throughput')) {
  const u = up(staticCfg, 1);
  const port = (await u.ready).get('db')!;
  const tu = await upload(port, SIZE);
  const td = await download(port, SIZE);
  say(
    `tunnel, unpaced agent      upload ${tu.toFixed(1).padStart(6)} MB/s   download ${td.toFixed(1).padStart(6)} MB/s   (ratio ${(tu / rawUp).toFixed(3)} / ${(td / rawDown).toFixed(3)} of raw)`,
  );
  // First byte of new connections on the warm mux tunnel.
  for (let i = 0; i < 5; i++) await firstByte(port);
  const fb: number[] = [];
  for (let i = 0; i < 100; i++) fb.push(await firstByte(port));
  const rawFb: number[] = [];
  for (let i = 0; i < 100; i++) rawFb.push(await firstByte(targetPort));
  say(
    `first byte, warm mux       median ${median(fb).toFixed(2)} ms   p95 ${p95(fb).toFixed(2)} ms   (raw TCP median ${median(rawFb).toFixed(2)} ms)`,
  );
  await u.stop();
}

// Realistic agent pacing (1024 bytes then 1 ms, like the real agent): the agent is the bottleneck.
if (run('paced')) {
  emu.admin.setSettings({ pacing: true });
  // The ceiling: the emulator agent's paced output pump alone, sending into nothing.
  const pumpRate = await new Promise<number>((resolve) => {
    const n = 2 * 1024 * 1024;
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
  const u = up(staticCfg, 1);
  const port = (await u.ready).get('db')!;
  const n = 8 * 1024 * 1024;
  const tu = await upload(port, n);
  const td = await download(port, n);
  say(
    `tunnel, paced agent        upload ${tu.toFixed(1).padStart(6)} MB/s   download ${td.toFixed(2).padStart(6)} MB/s   (8 MiB; the paced agent alone emits ${pumpRate.toFixed(2)} MB/s: download is ${(td / pumpRate).toFixed(3)} of that ceiling; uploads are not paced by the emulator's agent)`,
  );
  await u.stop();
  emu.admin.setSettings({ pacing: false });
}

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
  const ssoCfg = writeConfig('sso.config.ts', `sso(), ssmTunnel(), retry()`, [
    tunnelDef('db', { profile: 'dev' }),
  ]);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const u = up(ssoCfg, 1);
    times.push(await u.readyMs);
    await u.stop();
  }
  say(
    `up -> ready, cached SSO token (whole process: node start, config, GetRoleCredentials, StartSession, handshake)  median ${median(times).toFixed(0)} ms  (${times.map((t) => t.toFixed(0)).join(', ')})`,
  );
}

// RSS of the `up` process: 10 idle tunnels; then 200 connections of 1 MiB each way at once on one tunnel.
if (run('rss')) {
  const cfg = writeConfig(
    'ten.config.ts',
    `keys, ssmTunnel(), retry()`,
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
    `RSS of up, 10 idle tunnels ${idle.toFixed(0)} MB${wrapper === undefined ? '' : `  (bin/stormtunnel.js, which started it and waits: ${wrapper.toFixed(0)} MB, mostly shared)`}`,
  );
  say(
    `RSS of up, 200 connections peak ${peak.toFixed(0)} MB  (200 x 1 MiB echoed in ${(ms / 1000).toFixed(1)} s, ${exact}/200 byte-exact)`,
  );
  await u.stop();
}

// Soak (not run by default: BENCH_ONLY=soak): rounds of 200 x 1 MiB echoed on one tunnel, RSS after each.
// Memory that creeps up round after round is a leak (per-stream state, waiters); flat is bounded.
if (ONLY?.includes('soak')) {
  const rounds = Number(process.env.BENCH_SOAK_ROUNDS ?? 20);
  const cfg = writeConfig('soak.config.ts', `keys, ssmTunnel(), retry()`, [tunnelDef('s')]);
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
    `soak: ${rounds} rounds of 200 x 1 MiB echoed in ${s.toFixed(0)} s, ${exact}/${rounds * 200} byte-exact; RSS of up after each round ${after.map((m) => m.toFixed(0)).join(' ')} MB; peak ${peak.toFixed(0)} MB; second half vs first half ${(avg(after.slice(half)) / avg(after.slice(0, half))).toFixed(3)}`,
  );
  await u.stop();
}

await emu.close();
target.close();
home.cleanup();
rmSync(dir, { recursive: true, force: true });
