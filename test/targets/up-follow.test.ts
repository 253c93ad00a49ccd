// `stormtunnel up` with targets people name, as a real process against the emulator: a Name tag that follows
// an instance its Auto Scaling group replaced, an ECS service that follows a restarted task, and an rds:
// remote host that reaches the database's port, all without restarting `up`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { BIN, CLI_ENV, stormtunnelModule } from '../helpers/cli.js';
import {
  data,
  echoThrough,
  sha256,
  startEchoServer,
  staticKeysHome,
  waitFor,
  type TcpServer,
} from '../tunnels/helpers.js';

const test = suite('targets: up follows replaced instances and tasks');
const WEB = 'i-0a5a5a5a5a5a5a5a5';
const TASK = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const BLUE = 'i-0b1e0b1e0b1e0b1e0';
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;

test.before(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({
    port: 0,
    state: {
      instances: [
        {
          instanceId: 'i-0123456789abcdef0',
          name: 'bastion',
          accountId: '111111111111',
          region: 'us-east-1',
        },
        {
          instanceId: WEB,
          name: 'web',
          accountId: '111111111111',
          region: 'us-east-1',
          autoScalingGroup: 'web-asg',
        },
        {
          instanceId: BLUE,
          name: 'blue',
          accountId: '111111111111',
          region: 'us-east-1',
          autoScalingGroup: 'blue-asg',
        },
      ],
      databases: [{ identifier: 'orders', accountId: '111111111111', region: 'us-east-1', port: echo.port }],
    },
  });
  home = staticKeysHome(emu);
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-targets-'));
});
test.after(async () => {
  await emu.close();
  await echo.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(tunnels: object[], targetsOptions = ''): string {
  const imp = (p: string) => JSON.stringify(stormtunnelModule(p));
  const file = join(dir, 'targets.config.ts');
  writeFileSync(
    file,
    `import { definePlugin } from ${imp('src/engine/plugin.ts')};
import { ssmTunnel } from ${imp('plugins/ssm-tunnel/index.ts')};
import { targets } from ${imp('plugins/targets/index.ts')};
import { retry } from ${imp('plugins/retry/index.ts')};
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from ${imp('src/emulator/state.ts')};
const keys = definePlugin({
  name: 'test-static-keys',
  apply(api) {
    api.hooks.resolveCredentials.tap(() => ({ accessKeyId: SEED_STATIC_ACCESS_KEY_ID, secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY }));
  },
});
export default {
  plugins: [keys, targets(${targetsOptions}), ssmTunnel(), retry({ baseDelay: '50ms', jitter: false })],
  tunnels: ${JSON.stringify(tunnels)},
};
`,
  );
  return file;
}

function spawnUp(config: string) {
  const child = spawn(process.execPath, [BIN, '--config', config, 'up'], {
    cwd: dir,
    env: {
      ...process.env,
      ...home.env,
      XDG_STATE_HOME: join(dir, 'state'),
      NO_COLOR: '1',
      ...CLI_ENV,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(kill));
  return { child, out: () => out, exited };
}

/** The target of the newest live session the emulator has. */
function liveTargets(): string[] {
  return emu.admin
    .listSessions()
    .filter((s) => s.status === 'Connected')
    .map((s) => s.instanceId);
}

test('a Name follows a replaced instance, ecs: a restarted task, rds: reaches the database port', async () => {
  const up = spawnUp(
    writeConfig([
      { name: 'web', region: 'us-east-1', target: 'web', remotePort: echo.port, localPort: 0 },
      { name: 'api', region: 'us-east-1', target: 'ecs:apps/api', remotePort: echo.port, localPort: 0 },
      {
        name: 'orders',
        region: 'us-east-1',
        target: 'tag:Name=bastion',
        remoteHost: 'rds:orders',
        localPort: 0,
      },
    ]),
  );
  try {
    await waitFor(
      () => ['web', 'api', 'orders'].every((t) => new RegExp(`tunnel ${t}: ready`).test(up.out())),
      60_000,
      () => `three ready lines; got:\n${up.out()}`,
    );
    const port = (name: string) =>
      Number(new RegExp(`tunnel ${name}: ready 127\\.0\\.0\\.1:(\\d+)`).exec(up.out())?.[1]);
    // The ready lines show what the names resolved to.
    assert.match(up.out(), new RegExp(`tunnel web: ready 127\\.0\\.0\\.1:\\d+ -> ${WEB}:${echo.port}`));
    assert.match(
      up.out(),
      new RegExp(`tunnel api: ready 127\\.0\\.0\\.1:\\d+ -> ecs:apps_${TASK}_${TASK}-1234567890:`),
    );
    assert.match(
      up.out(),
      new RegExp(
        `tunnel orders: ready 127\\.0\\.0\\.1:\\d+ -> i-0123456789abcdef0 -> orders\\.c0emulator01\\.us-east-1\\.rds\\.amazonaws\\.com:${echo.port}`,
      ),
    );
    const p = data(64 * 1024);
    for (const name of ['web', 'api', 'orders']) assert.is(await echoThrough(port(name), p), sha256(p), name);

    const { instanceId: newWeb } = emu.admin.replaceInstance(WEB);
    const { taskId: newTask } = emu.admin.restartTask(TASK);
    assert.not.ok(
      liveTargets().some((t) => t === WEB || t.includes(TASK)),
      'old sessions ended',
    );
    // Each tunnel gets a new session (at once after the loss, or on the next connection when it went idle).
    assert.is(await echoThrough(port('web'), p), sha256(p), 'web after the replacement');
    assert.is(await echoThrough(port('api'), p), sha256(p), 'api after the restart');
    assert.ok(liveTargets().includes(newWeb), `a session to ${newWeb}: ${liveTargets().join(', ')}`);
    assert.ok(
      liveTargets().some((t) => t.startsWith(`ecs:apps_${newTask}_${newTask}-`)),
      `a session to task ${newTask}: ${liveTargets().join(', ')}`,
    );
    // Followed, never given up on: the loss is retried (a log line), no tunnel is `failed`.
    assert.not.match(up.out(), /tunnel \w+: failed/, up.out());
    assert.match(up.out(), new RegExp(`tunnel web: ready 127\\.0\\.0\\.1:\\d+ -> ${newWeb}:`));
  } finally {
    up.child.kill('SIGTERM');
    await up.exited;
  }
});

test('a replacement that takes a while: the tunnel says it waits, then comes back on its own', async () => {
  const up = spawnUp(
    writeConfig(
      [{ name: 'blue', region: 'us-east-1', target: 'blue', remotePort: echo.port, localPort: 0 }],
      `{ replacementPoll: '200ms' }`,
    ),
  );
  try {
    await waitFor(
      () => /tunnel blue: ready/.test(up.out()),
      60_000,
      () => `ready; got:\n${up.out()}`,
    );
    const port = Number(/tunnel blue: ready 127\.0\.0\.1:(\d+)/.exec(up.out())?.[1]);
    const p = data(64 * 1024);
    assert.is(await echoThrough(port, p), sha256(p));

    // The group terminates the instance now; the new one is pending until the admin call below.
    const { instanceId: next } = emu.admin.replaceInstance(BLUE, { hold: true });
    await waitFor(
      () =>
        /tunnel blue: reconnecting: .*waiting for an instance with tag Name=blue in us-east-1/.test(up.out()),
      60_000,
      () => `a waiting line; got:\n${up.out()}`,
    );
    // A client that connects during the gap waits for the tunnel (one that raced the termination is lost).
    const served = echoThrough(port, p);
    // It keeps looking (DescribeInstances again and again) and does not give up past the retry budget.
    const looks = () => emu.requests().filter((r) => r.operation === 'DescribeInstances').length;
    const seen = looks();
    await waitFor(
      () => looks() >= seen + 12,
      60_000,
      () => `more looks; got ${looks() - seen}`,
    );
    assert.not.match(up.out(), /tunnel blue: failed/, up.out());

    emu.admin.setInstance(next, { state: 'running' });
    assert.is(await served, sha256(p), 'the waiting client is served by the new instance');
    assert.match(up.out(), new RegExp(`tunnel blue: ready 127\\.0\\.0\\.1:\\d+ -> ${next}:`));
    assert.ok(liveTargets().includes(next), liveTargets().join(', '));
  } finally {
    up.child.kill('SIGTERM');
    await up.exited;
  }
});

test.run();
