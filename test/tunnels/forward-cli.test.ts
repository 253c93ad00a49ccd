// `stormtunnel forward TARGET REMOTE_PORT`: a tunnel from the command line, run as `up` runs a configured one
// (ready line with the address, byte-exact data, Ctrl-C terminates the session and exits 0), with the config's
// targets and remote hosts (a Name, rds:ID); bad input exits 2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { runCli } from '../helpers/cli.js';
import { spawnCli } from '../e2e/helpers.js';
import {
  data,
  echoThrough,
  sha256,
  startEchoServer,
  staticKeysHome,
  UNPACED_EMULATOR,
  waitFor,
  withTimeout,
  type TcpServer,
  writeUnpacedConfig,
} from './helpers.js';

const BASTION = 'i-0123456789abcdef0';
const test = suite('stormtunnel forward');
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  echo = await startEchoServer();
  // 32 MiB through one session: at the realistic ~1 MB/s (protocol §9) that would take half a minute.
  // The emulated database "orders" is the echo server inside the emulated VPC.
  emu = await startEmulator({
    port: 0,
    ...UNPACED_EMULATOR,
    state: {
      databases: [{ identifier: 'orders', accountId: '111111111111', region: 'us-east-1', port: echo.port }],
    },
  });
  home = staticKeysHome(emu);
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-forward-'));
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
});
test.after(async () => {
  await echo.close();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('forward: ready line with the local address, 16 MiB byte-exact, Ctrl-C terminates and exits 0', async () => {
  emu.admin.clearRequests();
  const fwd = spawnCli(['--config', writeUnpacedConfig(dir), 'forward', BASTION, String(echo.port)], {
    cwd: dir,
    env,
  });
  try {
    const ready = new RegExp(
      `tunnel forward-${echo.port}: ready 127\\.0\\.0\\.1:(\\d+) -> ${BASTION}:${echo.port}`,
    );
    await waitFor(
      () => ready.test(fwd.stdout()),
      30_000,
      () => `the ready line; got:\n${fwd.stdout()}${fwd.stderr()}`,
    );
    const port = Number(ready.exec(fwd.stdout())![1]);
    const payload = data(16 * 1024 * 1024);
    assert.is(await echoThrough(port, payload, 90_000), sha256(payload));
    const start = emu.requests().filter((r) => r.operation === 'StartSession' && r.status === 200);
    assert.is(start.length, 1);
    assert.is(start[0]!.params.documentName, 'AWS-StartPortForwardingSession');
    assert.is(start[0]!.params.portNumber, String(echo.port));
    fwd.child.kill('SIGINT');
    assert.is(await withTimeout(fwd.exited, 30_000, 'forward to exit'), 0, fwd.stderr());
    assert.match(fwd.stdout(), /stopped\n$/);
    const terminated = emu.requests().filter((r) => r.operation === 'TerminateSession' && r.status === 200);
    assert.is(terminated.length, 1);
    assert.is(terminated[0]!.params.sessionId, start[0]!.params.sessionId);
  } finally {
    await fwd.stop();
  }
});

test('forward NAME --remote-host rds:ID: the database’s endpoint and port, byte-exact, as a config’s rds: tunnel', async () => {
  emu.admin.clearRequests();
  const fwd = spawnCli(
    ['--config', writeUnpacedConfig(dir), 'forward', 'bastion', '--remote-host', 'rds:orders'],
    { cwd: dir, env },
  );
  const endpoint = 'orders.c0emulator01.us-east-1.rds.amazonaws.com';
  try {
    const ready = new RegExp(
      `tunnel forward-orders: ready 127\\.0\\.0\\.1:(\\d+) -> ${BASTION} -> ${endpoint.replaceAll('.', '\\.')}:${echo.port}`,
    );
    await waitFor(
      () => ready.test(fwd.stdout()),
      30_000,
      () => `the ready line; got:\n${fwd.stdout()}${fwd.stderr()}`,
    );
    const payload = data(1024 * 1024);
    assert.is(await echoThrough(Number(ready.exec(fwd.stdout())![1]), payload, 60_000), sha256(payload));
    const start = emu.requests().filter((r) => r.operation === 'StartSession' && r.status === 200);
    assert.is(start.length, 1);
    assert.is(start[0]!.params.documentName, 'AWS-StartPortForwardingSessionToRemoteHost');
    assert.is(start[0]!.params.host, endpoint);
    assert.is(start[0]!.params.portNumber, String(echo.port));
    fwd.child.kill('SIGINT');
    assert.is(await withTimeout(fwd.exited, 30_000, 'forward to exit'), 0, fwd.stderr());
  } finally {
    await fwd.stop();
  }
});

test('forward: bad ports, targets and hosts are one line and exit 2, before any AWS call', async () => {
  emu.admin.clearRequests();
  // Side by side: each is a CLI start-up.
  const [remote, local, missing, target, host] = await Promise.all([
    runCli(['forward', BASTION, 'http'], { cwd: dir, env }),
    runCli(['forward', BASTION, '5432', '--local-port', '99999'], { cwd: dir, env }),
    runCli(['forward', BASTION], { cwd: dir, env }),
    runCli(['forward', 'tag:Name', '22'], { cwd: dir, env }),
    runCli(['forward', BASTION, '5432', '--remote-host', 'db internal'], { cwd: dir, env }),
  ]);
  for (const r of [remote, local, missing, target, host]) assert.is(r.code, 2, r.stderr);
  assert.match(remote.stderr, /^stormtunnel: REMOTE_PORT: expected a port number 1-65535, got "http"\n/);
  assert.match(local.stderr, /^stormtunnel: --local-port: expected a port number 0-65535, got "99999"\n/);
  assert.match(
    missing.stderr,
    /^stormtunnel: REMOTE_PORT is missing: the port on the target to forward to\n/,
  );
  assert.match(missing.stderr, /only --remote-host rds:IDENTIFIER may leave it to the database/);
  // The config's words for the same keys (target, remoteHost).
  assert.match(
    target.stderr,
    /^stormtunnel: TARGET: "tag:Name" is not a target\n {2}→ pass an instance id like "i-0123456789abcdef0", a Name like "bastion", "tag:Key=value" or "ecs:CLUSTER\/SERVICE"\n/,
  );
  assert.match(
    host.stderr,
    /^stormtunnel: --remote-host: "db internal" is not a host name, an IP address or "rds:IDENTIFIER"\n/,
  );
  assert.is(emu.requests().length, 0);
});

test.run();
