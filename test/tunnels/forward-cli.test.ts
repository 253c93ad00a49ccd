// `stormtunnel forward TARGET REMOTE_PORT`: a tunnel from the command line, run as `up` runs a configured one
// (ready line with the address, byte-exact data, Ctrl-C terminates the session and exits 0); bad input exits 2.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';
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
  // 32 MiB through one session: at the realistic ~1 MB/s (protocol §9) that would take half a minute.
  emu = await startEmulator({ port: 0, ...UNPACED_EMULATOR });
  home = staticKeysHome(emu);
  echo = await startEchoServer();
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
  const child = spawn(
    process.execPath,
    [BIN, '--config', writeUnpacedConfig(dir), 'forward', BASTION, String(echo.port)],
    {
      cwd: dir,
      env: { ...process.env, ...env, NO_COLOR: '1', ...CLI_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const ready = new RegExp(
      `tunnel forward-${echo.port}: ready 127\\.0\\.0\\.1:(\\d+) -> ${BASTION}:${echo.port}`,
    );
    await waitFor(() => ready.test(out), 30_000, `the ready line; got:\n${out}${err}`);
    const port = Number(ready.exec(out)![1]);
    const payload = data(16 * 1024 * 1024);
    assert.is(await echoThrough(port, payload, 90_000), sha256(payload));
    const start = emu.requests().filter((r) => r.operation === 'StartSession' && r.status === 200);
    assert.is(start.length, 1);
    assert.is(start[0]!.params.documentName, 'AWS-StartPortForwardingSession');
    assert.is(start[0]!.params.portNumber, String(echo.port));
    child.kill('SIGINT');
    assert.is(await withTimeout(exited, 30_000, 'forward to exit'), 0, err);
    assert.match(out, /stopped\n$/);
    const terminated = emu.requests().filter((r) => r.operation === 'TerminateSession' && r.status === 200);
    assert.is(terminated.length, 1);
    assert.is(terminated[0]!.params.sessionId, start[0]!.params.sessionId);
  } finally {
    child.kill('SIGKILL');
  }
});

test('forward: bad ports are one line and exit 2, before any AWS call', async () => {
  emu.admin.clearRequests();
  const remote = await runCli(['forward', BASTION, 'http'], { cwd: dir, env });
  assert.is(remote.code, 2);
  assert.match(remote.stderr, /^stormtunnel: REMOTE_PORT: expected a port number 1-65535, got "http"\n/);
  const local = await runCli(['forward', BASTION, '5432', '--local-port', '99999'], { cwd: dir, env });
  assert.is(local.code, 2);
  assert.match(local.stderr, /^stormtunnel: --local-port: expected a port number 0-65535, got "99999"\n/);
  assert.is(emu.requests().length, 0);
});

test.run();
