// `stormtunnel up` as a real process against the in-process emulator: plain lines when not a TTY, the
// control socket answers `status`, Ctrl-C terminates every session and exits 0, usage mistakes exit 2.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { queryRunningUp, stateDir } from '../../src/tunnel-control/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import {
  data,
  echoThrough,
  sha256,
  startEchoServer,
  staticKeysHome,
  waitFor,
  withTimeout,
  writeStaticKeysConfig,
  type TcpServer,
} from './helpers.js';

const test = suite('stormtunnel up');
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = staticKeysHome(emu);
  echo = await startEchoServer();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-up-'));
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
});
test.after(async () => {
  await echo.close();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A config with the emulator's static keys (a stand-in for the profile-credentials plugin). */
function writeConfig(name: string, tunnels: object[]): string {
  return writeStaticKeysConfig(join(dir, name), tunnels, { fastRetry: true });
}

interface Up {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function spawnUp(args: string[]): Up {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, ...env, NO_COLOR: '1', ...CLI_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Never leave a process behind, whatever happens in the test.
  const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exited.then(() => clearTimeout(kill));
  return { child, stdout: () => out, stderr: () => err, exited };
}

test('up: ready lines, one line for a busy port, status over the socket, Ctrl-C mid-transfer terminates', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const busyPort = (blocker.address() as AddressInfo).port;
  const config = writeConfig('both.config.ts', [
    {
      name: 'db',
      profile: 'default',
      region: 'us-east-1',
      target: 'i-0123456789abcdef0',
      remotePort: echo.port,
      localPort: 0,
    },
    {
      name: 'busy',
      profile: 'default',
      region: 'us-east-1',
      target: 'i-0123456789abcdef0',
      remotePort: echo.port,
      localPort: busyPort,
    },
  ]);
  emu.admin.clearRequests();
  const up = spawnUp(['--config', config, 'up']);
  try {
    await waitFor(
      () => /tunnel db: ready/.test(up.stdout()) && /tunnel busy: failed/.test(up.stdout()),
      30_000,
      `ready lines; got:\n${up.stdout()}${up.stderr()}`,
    );
    // The first change (connecting) happens inside startTunnels, before up subscribes: still printed.
    const lines = up.stdout().split('\n');
    assert.ok(lines.indexOf('tunnel db: connecting') >= 0, up.stdout());
    assert.ok(
      lines.indexOf('tunnel db: connecting') < lines.findIndex((l) => l.startsWith('tunnel db: ready')),
      up.stdout(),
    );
    assert.ok(lines.includes('tunnel busy: connecting'), up.stdout());
    const m = /tunnel db: ready 127\.0\.0\.1:(\d+) -> i-0123456789abcdef0:(\d+)/.exec(up.stdout());
    assert.ok(m, up.stdout());
    const port = Number(m[1]);
    assert.match(
      up.stdout(),
      /tunnel busy: failed: Invalid Input: local port \d+ on 127\.0\.0\.1 is already in use by another program; pick another localPort/,
    );
    assert.is(
      up
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('tunnel busy: failed')).length,
      1,
      'one line',
    );

    const p = data(2 * 1024 * 1024);
    assert.is(await echoThrough(port, p), sha256(p));

    // `stormtunnel status` from another terminal reaches us over the control socket.
    const running = await queryRunningUp(env);
    assert.ok(running, 'a running up answers');
    assert.is(running.processes[0]!.pid, up.child.pid);
    const db = running.tunnels.find((t) => t.name === 'db');
    assert.is(db?.state, 'ready');
    assert.is(db?.localAddress, `127.0.0.1:${port}`);
    assert.ok((db?.bytesIn ?? 0) >= p.length);
    assert.is(running.tunnels.find((t) => t.name === 'busy')?.state, 'failed');
    const sock = join(stateDir(env), `up-${up.child.pid}.sock`);
    assert.is(statSync(stateDir(env)).mode & 0o777, 0o700);
    assert.is(statSync(sock).mode & 0o777, 0o600);

    // Ctrl-C in the middle of a transfer.
    const big = data(64 * 1024 * 1024);
    const transfer = echoThrough(port, big, 60_000).then(
      (h) => (h === sha256(big) ? 'exact' : 'CORRUPTED'),
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 200));
    up.child.kill('SIGINT');
    const code = await withTimeout(up.exited, 30_000, 'up to exit');
    assert.is(code, 0, up.stderr());
    assert.match(up.stdout(), /stopped\n$/);
    const outcome = await transfer;
    // Cut mid-write shows as a reset or a broken pipe, depending on which side notices first.
    assert.ok(outcome === 'exact' || /closed after|ECONNRESET|EPIPE/.test(outcome), outcome);
    const terminated = emu.requests().filter((r) => r.operation === 'TerminateSession' && r.status === 200);
    assert.is(terminated.length, 1, 'db at Ctrl-C (busy never started a session: its port is bound first)');
    assert.ok(emu.admin.listSessions().every((s) => s.status === 'Terminated'));
    assert.not.ok(existsSync(sock), 'socket removed');
    assert.is(await queryRunningUp(env), undefined);
    assert.not.match(up.stdout() + up.stderr(), /SECRET|TokenValue/);
  } finally {
    up.child.kill('SIGKILL');
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test('up NAME: starts only the named tunnel; an unknown name exits 2 listing the known ones', async () => {
  const config = writeConfig('names.config.ts', [
    {
      name: 'a',
      profile: 'default',
      region: 'us-east-1',
      target: 'i-0123456789abcdef0',
      remotePort: echo.port,
      localPort: 0,
    },
    {
      name: 'b',
      profile: 'default',
      region: 'us-east-1',
      target: 'i-0123456789abcdef0',
      remotePort: echo.port,
      localPort: 0,
    },
  ]);
  const bad = await runCli(['--config', config, 'up', 'a', 'nope'], { cwd: dir, env, timeoutMs: 30_000 });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /unknown tunnel "nope"/);
  assert.match(bad.stderr, /the config has: a, b/);

  const up = spawnUp(['--config', config, 'up', 'b']);
  try {
    await waitFor(
      () => /tunnel b: ready/.test(up.stdout()),
      30_000,
      `b ready; got:\n${up.stdout()}${up.stderr()}`,
    );
    assert.not.match(up.stdout(), /tunnel a:/);
    up.child.kill('SIGTERM');
    assert.is(await withTimeout(up.exited, 30_000, 'exit'), 0);
  } finally {
    up.child.kill('SIGKILL');
  }
});

test('no tunnels in the config: exit 2 with how to add one; every tunnel failing: its class (8 target)', async () => {
  const none = writeConfig('none.config.ts', []);
  const r = await runCli(['--config', none, 'up'], { cwd: dir, env, timeoutMs: 30_000 });
  assert.is(r.code, 2);
  assert.match(r.stderr, /no tunnels in .*none\.config\.ts/);
  assert.match(r.stderr, /add one to `tunnels`/);

  const offline = writeConfig('offline.config.ts', [
    {
      name: 'off',
      profile: 'default',
      region: 'us-east-1',
      target: 'i-0deadbeefdeadbeef',
      remotePort: echo.port,
      localPort: 0,
    },
  ]);
  const f = await runCli(['--config', offline, 'up'], { cwd: dir, env, timeoutMs: 30_000 });
  assert.is(f.code, 8, f.stdout + f.stderr);
  assert.match(f.stdout, /tunnel off: failed: Target Unavailable: i-0deadbeefdeadbeef is not connected/);
});

test.run();
