// `stormtunnel up` in a real terminal (tmux): the table stays pinned at the bottom and is redrawn in place,
// log lines written straight to the terminal scroll above it without corrupting it, failure lines are short,
// and Ctrl-C gives back a terminal that scrolls normally.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { BIN, CLI_ENV } from '../helpers/cli.js';
import { commandExists, testIf } from '../helpers/system.js';
import {
  data,
  echoThrough,
  freePort,
  sha256,
  startEchoServer,
  staticKeysHome,
  waitFor,
  writeStaticKeysConfig,
  type TcpServer,
} from './helpers.js';

const test = suite('stormtunnel up in a terminal');
const withTmux = testIf(test, commandExists('tmux'), 'tmux (Debian package tmux) drives a real terminal');

const ROWS = 30;
const SOCKET = `stormtunnel-test-${process.pid}`;
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let blocker: Server;
let dir: string;

const tmux = (...args: string[]): string => {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
  return r.stdout;
};
/** The visible screen, one string per row (wrapped lines stay split, as they are on screen). */
const screen = (): string[] => tmux('capture-pane', '-p', '-t', 'up').replace(/\n$/, '').split('\n');
const shown = () => screen().join('\n');
/** Everything printed (history included), wrapped lines joined, to match whole log lines. */
const joined = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'up');

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = staticKeysHome(emu);
  echo = await startEchoServer();
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-up-tty-'));
});
test.after(async () => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  await new Promise<void>((r) => blocker.close(() => r()));
  await echo.close();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

withTmux('the table redraws in place under log lines; Ctrl-C leaves a clean terminal', async () => {
  const t = (name: string, extra: object) => ({
    name,
    profile: 'default',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    localPort: 0,
    ...extra,
  });
  const tunnels = [
    t('db', { remotePort: echo.port }),
    t('cache', { target: 'i-0deadbeefdeadbeef', remotePort: 6379 }),
    t('web', { remotePort: 80, localPort: (blocker.address() as AddressInfo).port }),
    // Nothing listens on its remote port: each connection logs a warning straight to the terminal.
    t('closed', { remotePort: await freePort() }),
  ];
  const config = writeStaticKeysConfig(join(dir, 'tty.config.ts'), tunnels);
  const env = {
    ...home.env,
    XDG_STATE_HOME: join(dir, 'state'),
    ...CLI_ENV,
    NO_COLOR: '1',
    PS1: '$ ',
  };
  const envFile = join(dir, 'env.sh');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `export ${k}='${String(v).replace(/'/g, `'\\''`)}'`)
      .join('\n') + '\n',
  );

  tmux('new-session', '-d', '-x', '120', '-y', String(ROWS), '-s', 'up', 'sh');
  tmux('send-keys', '-t', 'up', `. '${envFile}'; clear; node '${BIN}' --config '${config}' up`, 'Enter');

  const row = (name: string) => screen().find((l) => l.startsWith(`${name} `)) ?? '';
  await waitFor(
    () => /ready/.test(row('db')) && /ready/.test(row('closed')) && /failed/.test(row('web')),
    60_000,
    `the table; the screen:\n${shown()}`,
  );
  const port = (name: string) => Number(/127\.0\.0\.1:(\d+)/.exec(row(name))?.[1]);

  // Warnings from the logger (written to fd 2, not through the view) and traffic that changes the table.
  for (let i = 0; i < 12; i++) {
    await new Promise<void>((resolve) => {
      const s = connect(port('closed'), '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
  }
  const payload = data(1024 * 1024);
  assert.is(await echoThrough(port('db'), payload), sha256(payload));
  await waitFor(
    () =>
      / ready +0 +\d+ +1\.0 MiB +1\.0 MiB /.test(row('db')) &&
      (joined().match(/refused the connection/g) ?? []).length === 12,
    30_000,
    `the warnings and the counters; the screen:\n${shown()}`,
  );

  const rows = screen();
  assert.is(rows.length, ROWS);
  // Exactly one table, pinned to the last lines, every row complete.
  assert.is(rows.filter((l) => l.startsWith('TUNNEL ')).length, 1, shown());
  const table = rows.slice(-5);
  assert.match(table[0]!, /^TUNNEL +LOCAL -> TARGET +STATE +CONNS +SESSIONS +IN +OUT +SINCE$/);
  assert.match(
    table[1]!,
    /^db +127\.0\.0\.1:\d+ -> i-0123456789abcdef0:\d+ +ready +0 +\d+ +1\.0 MiB +1\.0 MiB +\d+s$/,
  );
  assert.match(table[2]!, /^cache +- -> i-0deadbeefdeadbeef:6379 +failed /);
  assert.match(table[3]!, /^web +- -> i-0123456789abcdef0:80 +failed /);
  assert.match(table[4]!, /^closed +127\.0\.0\.1:\d+ -> .* +ready /);

  // Failure lines: once each, short, no AWS operation or hint in brackets.
  const text = joined();
  const cache = text.split('\n').filter((l) => l.startsWith('tunnel cache: failed'));
  assert.equal(cache, [
    'tunnel cache: failed: Target Unavailable: i-0deadbeefdeadbeef is not connected; check that the instance is running in that region, has the SSM Agent and the AmazonSSMManagedInstanceCore role',
  ]);
  assert.is(text.split('\n').filter((l) => l.startsWith('tunnel web: failed')).length, 1, text);
  assert.not.match(text, /\(StartSession\)/);

  // Ctrl-C: the final table, "stopped", the prompt; then the whole screen scrolls again.
  tmux('send-keys', '-t', 'up', 'C-c');
  await waitFor(
    () => /^stopped\n\$ ?$/m.test(joined().trimEnd()),
    30_000,
    `stopped; the screen:\n${shown()}`,
  );
  // What it is doing while it stops is said on a terminal too (it waits for TerminateSession).
  assert.match(joined(), /^stopping: terminating the sessions of 4 tunnel\(s\)$/m, shown());
  tmux('send-keys', '-t', 'up', 'echo "exit=$?"; seq 1 40', 'Enter');
  await waitFor(() => /\n40\n\$ ?$/.test(joined().trimEnd()), 10_000, `seq; the screen:\n${shown()}`);
  const after = screen();
  assert.match(joined(), /^exit=0$/m);
  assert.equal(after.slice(-4, -1), ['38', '39', '40'], 'the bottom lines scroll: no region left');
  assert.not.ok(
    after.some((l) => l.startsWith('TUNNEL ')),
    'the table scrolled away like any output',
  );
});

test.run();
