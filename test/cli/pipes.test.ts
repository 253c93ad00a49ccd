// Every command in a pipe whose reader is gone (`| head -1`, `| grep -q`): exit 0, no EPIPE stack trace.
// The reader end is closed before the child writes anything, so every write of the child hits EPIPE: the
// same outcome as `head -1` exiting before the rest arrives, without depending on who is faster.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';
import {
  startEchoServer,
  staticKeysHome,
  writeStaticKeysConfig,
  type TcpServer,
} from '../tunnels/helpers.js';

const test = suite('closed pipes');
let home: TestAwsHome;

test.before(() => {
  home = testAwsHome({ config: seedConfig('https://example.awsapps.com/start') });
});
test.after(() => home.cleanup());

interface Closed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the CLI with its stdout a pipe whose reading end is already closed, or, with `closeWhen`, closed as
 * soon as the output read so far matches (`| grep -q ready`).
 */
function runIntoClosedPipe(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; closeWhen?: RegExp; onClosed?: () => void } = {},
) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? home.home,
    env: { ...process.env, ...(opts.env ?? home.env), NO_COLOR: '1', ...CLI_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closeWhen = opts.closeWhen;
  if (!closeWhen) child.stdout.destroy();
  else {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!closeWhen.test(out) || child.stdout.destroyed) return;
      child.stdout.destroy();
      opts.onClosed?.();
    });
  }
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Hang guard only: the command must end on its own.
  const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise<Closed>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stderr });
    });
  });
}

function assertQuiet(args: string[], r: Closed): void {
  const what = `stormtunnel ${args.join(' ')}`;
  assert.is(r.signal, null, `${what}: killed by ${r.signal}\n${r.stderr}`);
  assert.is(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.not.match(r.stderr, /EPIPE|Unhandled 'error'|\n\s+at /, `${what}: stderr\n${r.stderr}`);
}

/** The command names listed under "Commands:" in a help text. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

test('--help, --version, help and every command and subcommand --help', async () => {
  const top = await runCli(['--help'], { env: home.env });
  const commands = commandsIn(top.stdout);
  assert.ok(commands.length >= 10, top.stdout);
  const runs: string[][] = [['--help'], ['--version'], ['-V'], ['help'], ['help', 'status']];
  for (const c of commands) {
    runs.push([c, '--help']);
    const sub = await runCli([c, '--help'], { env: home.env });
    for (const s of commandsIn(sub.stdout)) runs.push([c, s, '--help']);
  }
  assert.ok(
    runs.some((r) => r[0] === 'configure' && r[1] === 'sso'),
    'subcommands are covered',
  );
  for (const args of runs) assertQuiet(args, await runIntoClosedPipe(args));
});

test('profiles, plugins and status --offline, as tables and as JSON', async () => {
  for (const args of [
    ['profiles'],
    ['profiles', '--json'],
    ['plugins'],
    ['plugins', '--json'],
    ['status', '--offline'],
    ['status', '--offline', '--json'],
  ]) {
    assertQuiet(args, await runIntoClosedPipe(args));
  }
});

test('up and emulator (long-running): stop quietly with exit 0 once the reader is gone', async () => {
  let emu: RunningEmulator | undefined;
  let keys: TestAwsHome | undefined;
  let echo: TcpServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-pipe-'));
  try {
    const emulator = ['emulator', '--port', '0', '--print-env'];
    assertQuiet(emulator, await runIntoClosedPipe(emulator));

    emu = await startEmulator({ port: 0, autoApprove: true });
    keys = staticKeysHome(emu);
    echo = await startEchoServer();
    const config = writeStaticKeysConfig(join(dir, 'pipe.config.ts'), [
      {
        name: 'db',
        profile: 'default',
        region: 'us-east-1',
        target: 'i-0123456789abcdef0',
        remotePort: echo.port,
        localPort: 0,
      },
    ]);
    const up = ['--config', config, 'up'];
    const env = { ...keys.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
    assertQuiet(up, await runIntoClosedPipe(up, { env, cwd: dir }));
    // Closed before the tunnel came up: stopped without starting one.
    assert.ok(emu.admin.listSessions().every((s) => s.status === 'Terminated'));
    // A writer learns that its reader is gone on its next write: the dropped connection makes `up` print.
    const dropConnection = () => {
      for (const s of emu!.admin.listSessions())
        if (s.status !== 'Terminated') emu!.admin.channelClosed(s.sessionId);
    };
    const upAfterReady = await runIntoClosedPipe(up, {
      env,
      cwd: dir,
      closeWhen: /tunnel db: ready/,
      onClosed: dropConnection,
    });
    assertQuiet(up, upAfterReady);
    // Closed once it was up: stopped as on Ctrl-C, its session terminated rather than left to time out.
    assert.ok(emu.admin.listSessions().length > 0, 'up started a session');
    assert.ok(emu.admin.listSessions().every((s) => s.status === 'Terminated'));
  } finally {
    await echo?.close();
    await emu?.close();
    keys?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
