// The background service as users run it: `start` (detached, one per config, back once the tunnels are
// ready), control from other processes (status, one tunnel down and up, a config edit picked up, a broken
// config refused), `stop`, and its log. Runs against the in-process emulator in a throw-away HOME and
// XDG_STATE_HOME; every process is stopped, checked by its process group.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { instanceOf, isAlive } from '../../src/service/instance.js';
import { queryRunningUp } from '../../src/tunnel-control/index.js';
import type { TunnelStatus } from '../../src/engine/types.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { validate, type Schema } from '../helpers/json-schema.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import {
  BASTION,
  data,
  echoThrough,
  sha256,
  startEchoServer,
  staticKeysHome,
  writeStaticKeysConfig,
  type TcpServer,
} from '../tunnels/helpers.js';

const test = suite('background service');
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const groups = new Set<number>();

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = staticKeysHome(emu);
  echo = await startEchoServer();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-service-'));
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
});
test.after(async () => {
  // Whatever happened, no service outlives the test: SIGKILL to each one's process group.
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await echo.close();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const def = (name: string, extra: object = {}) => ({
  name,
  profile: 'default',
  region: 'us-east-1',
  target: BASTION,
  remotePort: echo.port,
  localPort: 0,
  ...extra,
});

const cli = (args: string[]) => runCli(args, { cwd: dir, env });

async function tunnels(): Promise<TunnelStatus[]> {
  return (await queryRunningUp(env))?.tunnels ?? [];
}

/** Asks the service until `cond` holds (an event seen over its socket), bounded against hangs. */
async function until(
  cond: (t: TunnelStatus[]) => boolean,
  what: string,
  ms = 30_000,
): Promise<TunnelStatus[]> {
  const end = Date.now() + ms;
  for (;;) {
    const t = await tunnels();
    if (cond(t)) return t;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; tunnels: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const port = (t: TunnelStatus[], name: string) =>
  Number(t.find((x) => x.name === name)!.localAddress!.split(':')[1]);

test('start, control from other processes, reload on edit, broken config refused, stop, logs', async () => {
  const config = writeStaticKeysConfig(join(dir, 'stormtunnel.config.ts'), [def('a'), def('b')], {
    fastRetry: true,
  });

  const started = await cli(['start']);
  const running = await queryRunningUp(env);
  for (const p of running?.processes ?? []) groups.add(p.pid);
  assert.is(started.code, 0, started.stderr);
  assert.match(started.stdout, /^tunnel a: ready 127\.0\.0\.1:\d+ -> i-0123456789abcdef0:\d+$/m);
  assert.match(started.stdout, /^tunnel b: ready 127\.0\.0\.1:\d+/m);
  assert.match(started.stderr, /started \(pid \d+\); log: .*service-[0-9a-f]{12}\.log/);
  assert.is(running?.processes.length, 1);
  const pid = running!.processes[0]!.pid;
  assert.ok(running!.processes[0]!.service, 'answers as the service');
  // Detached: its own process group, so the terminal's Ctrl-C does not reach it.
  assert.ok(isAlive(pid));

  // One per config (asked while b goes down: the two do not wait for each other).
  const [again, down] = await Promise.all([cli(['start']), cli(['tunnel', 'down', 'b'])]);
  assert.is(again.code, 2, again.stderr);
  assert.ok(
    new RegExp(`a stormtunnel service already runs for .*config\\.ts \\(pid ${pid}\\)`).test(again.stderr),
    again.stderr,
  );

  let t = await tunnels();
  const sessionA = t.find((x) => x.name === 'a')!.sessionId;
  const payload = data(256 * 1024);
  assert.is(await echoThrough(port(t, 'a'), payload), sha256(payload));

  // One tunnel down: the other keeps its session and its port.
  assert.is(down.code, 0, down.stderr);
  assert.is(down.stdout, 'tunnel b: stopped\n');
  t = await tunnels();
  assert.equal(
    t.map((x) => x.name),
    ['a'],
  );
  assert.is(t[0]!.sessionId, sessionA);
  assert.is(await echoThrough(port(t, 'a'), payload), sha256(payload));

  const [up, unknown] = await Promise.all([cli(['tunnel', 'up', 'b']), cli(['tunnel', 'up', 'nope'])]);
  assert.is(up.code, 0, up.stderr);
  assert.match(up.stdout, /^tunnel b: ready 127\.0\.0\.1:\d+/m);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown tunnel "nope"/);

  // An edit of the file is picked up: c added, b changed (restarted), a untouched.
  writeStaticKeysConfig(config, [def('a'), def('b', { remoteHost: '127.0.0.1' }), def('c')], {
    fastRetry: true,
  });
  t = await until(
    (x) =>
      x.some((y) => y.name === 'c' && y.state === 'ready') &&
      x.some((y) => y.name === 'b' && y.target.includes('->')),
    'c started and b restarted after the edit',
  );
  assert.is(t.find((x) => x.name === 'a')!.sessionId, sessionA, 'a keeps its session');
  assert.is(await echoThrough(port(t, 'c'), payload), sha256(payload));

  // A broken config is refused with its error; the tunnels stay as they are.
  writeFileSync(config, 'export default { tunnels: [{ name: "x", remotePort: "many" }] };\n');
  const reload = await cli(['reload']);
  assert.is(reload.code, 2, reload.stderr);
  assert.match(reload.stderr, /^stormtunnel: .*stormtunnel\.config\.ts.*/m);
  const after = await tunnels();
  assert.equal(after.map((x) => x.name).sort(), ['a', 'b', 'c']);
  assert.is(after.find((x) => x.name === 'a')!.sessionId, sessionA);

  const stopped = await cli(['stop']);
  assert.is(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /stopped\n$/);
  assert.not.ok(isAlive(pid), 'the service has ended');
  assert.is(await queryRunningUp(env), undefined);
  const inst = instanceOf(config, env);
  assert.not.ok(existsSync(inst.lockFile), 'lock released');
  assert.ok(
    emu.requests().some((r) => r.operation === 'TerminateSession' && r.status === 200),
    'sessions terminated on stop',
  );
  const [again2, log, onlyB] = await Promise.all([
    cli(['stop']),
    cli(['logs', '-n', '1000']),
    cli(['logs', '--tunnel', 'b']),
  ]);
  assert.is(again2.code, 0);
  assert.match(again2.stderr, /no stormtunnel service runs for/);

  assert.is(log.code, 0, log.stderr);
  assert.match(log.stdout, /^\S+Z tunnel a: ready/m);
  assert.match(log.stdout, /tunnel b: stopped on request/);
  assert.match(log.stdout, /config changed, reloaded: started c; restarted b/);
  assert.match(
    log.stdout,
    /config reload refused, the running tunnels are unchanged: .*stormtunnel\.config\.ts: 3 problems/,
  );
  assert.is(log.stdout, readFileSync(inst.logFile, 'utf8').split('\n').slice(-1001).join('\n'));
  const lines = onlyB.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length >= 3, onlyB.stdout);
  assert.ok(
    lines.every((l) => l.includes('tunnel b:')),
    onlyB.stdout,
  );
});

/** Runs a command with --json; stdout must be one JSON document valid against schemas/<name>.schema.json. */
async function json<T>(name: string, args: string[]): Promise<{ code: number | null; out: T }> {
  const r = await cli([...args, '--json']);
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    assert.unreachable(`${args.join(' ')}: stdout is not JSON:\n${r.stdout}\n${r.stderr}`);
  }
  // A service this started is stopped after the file even when the checks below fail.
  const pid = (out as { pid?: unknown } | null)?.pid;
  if (typeof pid === 'number') groups.add(pid);
  const schema = JSON.parse(
    readFileSync(join(REPO_ROOT, 'schemas', `${name}.schema.json`), 'utf8'),
  ) as Schema;
  assert.equal(validate(schema, out), [], `${args.join(' ')} against ${name}.schema.json:\n${r.stdout}`);
  return { code: r.code, out: out as T };
}

interface TunnelJson {
  name: string;
  state: string;
  localAddress: string | null;
}
interface ControlJson {
  op: string;
  processes: {
    pid: number;
    service: boolean;
    changed?: boolean;
    changes?: { started: string[]; stopped: string[]; restarted: string[] };
    tunnels: TunnelJson[];
  }[];
}

test('--json of start, tunnel down|up, reload and service status', async () => {
  mkdirSync(join(dir, 'json'));
  const config = writeStaticKeysConfig(join(dir, 'json', 'stormtunnel.config.ts'), [def('a'), def('b')], {
    fastRetry: true,
  });
  const inJson = (args: string[]) => ['--config', config, ...args];

  const started = await json<{ outcome: string; ok: boolean; pid: number; tunnels: TunnelJson[] }>(
    'start',
    inJson(['start']),
  );
  groups.add(started.out.pid);
  assert.is(started.code, 0);
  assert.is(started.out.outcome, 'ready');
  assert.is(started.out.ok, true);
  assert.equal(
    started.out.tunnels.map((t) => [t.name, t.state]),
    [
      ['a', 'ready'],
      ['b', 'ready'],
    ],
  );
  assert.match(started.out.tunnels[0]!.localAddress ?? '', /^127\.0\.0\.1:\d+$/);

  const status = await json<{ service: { state: string; pid: number | null }; unit: { installed: boolean } }>(
    'service-status',
    inJson(['service', 'status']),
  );
  assert.is(status.code, 1, 'exit 1: no unit installed');
  assert.equal(status.out.service.state, 'running');
  assert.is(status.out.service.pid, started.out.pid);
  assert.is(status.out.unit.installed, false);

  const down = await json<ControlJson>('control', inJson(['tunnel', 'down', 'b']));
  assert.is(down.code, 0);
  assert.equal(down.out.processes, [{ pid: started.out.pid, service: true, changed: true, tunnels: [] }]);
  const again = await json<ControlJson>('control', inJson(['tunnel', 'down', 'b']));
  assert.is(again.out.processes[0]!.changed, false, 'already down');
  const up = await json<ControlJson>('control', inJson(['tunnel', 'up', 'b']));
  assert.is(up.out.processes[0]!.changed, true);
  assert.equal(
    up.out.processes[0]!.tunnels.map((t) => [t.name, t.state]),
    [['b', 'ready']],
  );

  writeStaticKeysConfig(config, [def('a'), def('c')], { fastRetry: true });
  const reload = await json<ControlJson>('control', inJson(['reload']));
  assert.is(reload.code, 0);
  // The file watcher may have applied the edit first; then this reload finds nothing left to change.
  const [entry] = reload.out.processes;
  if (entry?.changes?.started.length) {
    assert.equal(entry.changes, { started: ['c'], stopped: ['b'], restarted: [] });
    assert.equal(
      entry.tunnels.map((t) => [t.name, t.state]),
      [['c', 'ready']],
    );
  } else {
    assert.equal(entry?.changes, { started: [], stopped: [], restarted: [] });
    assert.equal(entry?.tunnels, []);
  }

  const stopped = await cli(['--config', config, 'stop']);
  assert.is(stopped.code, 0, stopped.stderr);
  const after = await json<{ service: { state: string; pid: number | null } }>(
    'service-status',
    inJson(['service', 'status']),
  );
  assert.equal(after.out.service, { state: 'stopped', pid: null, startedAt: null });
});

test.run();
